"""What the tests of the exercise checks (rnnlab.checks, tests/test_checks_*.py) share.

Not a test module: pytest collects nothing here. The test modules import it (pytest puts tests/
on sys.path, as for nbfixtures.py), and tests/conftest.py has its asserts rewritten by pytest.

* The seeds the tests run: ``SEEDS`` (the visible cases, 0, and two hidden draws), ``HIDDEN``
  and ``MISTAKE_SEEDS``.
* ``assert_hint``: a typical wrong answer gets its hint, on the visible cases and a hidden draw;
  ``assert_hints``: every row of a table of them, each a subtest.
* An answer hard-coded to reproduce a check's visible cases: ``visible_outputs``, ``replaying``.
* ``unfilled``: a starter the learner has not filled in yet.
* ``Protocol``: a row of a chapter's table ``PROTOCOL``, the cases every check of a learner's
  function must get right; tests/test_checks_protocol.py runs them for every chapter.
"""
from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import NamedTuple

SEEDS = (0, 1, 2)          # the visible cases (0) and two hidden draws
HIDDEN = SEEDS[1:]
MISTAKE_SEEDS = SEEDS[:2]  # a typical mistake gets its hint on the visible and a hidden draw


def assert_hint(check, answer, hint: str, seeds=MISTAKE_SEEDS) -> None:
    """``check`` rejects the wrong ``answer`` with a message that matches the regular
    expression ``hint``, on every seed of ``seeds`` (the visible cases and a hidden draw). A
    failure names the seed and what the check said."""
    from rnnlab.checks import CheckFailed

    for seed in seeds:
        try:
            check(answer, seed=seed)
        except CheckFailed as exc:
            assert re.search(hint, str(exc)), \
                f"seed {seed}: {check.__name__} said {str(exc)!r}, without the hint {hint!r}"
        else:
            raise AssertionError(f"seed {seed}: {check.__name__} accepted a wrong answer "
                                 f"(expected the hint {hint!r})")


def assert_hints(subtests, check, table) -> None:
    """:func:`assert_hint` for every row of a table of typical mistakes, each row a subtest
    (``subtests``: pytest's fixture) named by its mistake and hint, so that every row runs and
    a failing one is reported by name. Rows are ``(answer, hint)`` or ``(mistake, answer,
    hint)``; or the table is a dict ``{mistake: (answer, hint)}``."""
    rows = [(m, *row) for m, row in table.items()] if isinstance(table, Mapping) else table
    for *mistake, answer, hint in rows:
        with subtests.test(*mistake, hint=hint):
            assert_hint(check, answer, hint)


def visible_outputs(check, reference) -> list:
    """What ``reference`` returns on the check's visible cases (seed 0), call by call."""
    outputs = []

    def recorder(*args, **kwargs):
        outputs.append(copy.deepcopy(reference(*args, **kwargs)))
        return outputs[-1]
    assert check(recorder).status == "passed"
    return outputs


def replaying(outputs: list):
    """An answer that ignores its inputs and returns ``outputs`` in order, again and again: a
    learner who copied the expected values of the visible cases."""
    calls = itertools.count()
    return lambda *args, **kwargs: copy.deepcopy(outputs[next(calls) % len(outputs)])


def unfilled(*args, **kwargs):
    """A starter as handed out: the learner has not written the function yet."""
    raise NotImplementedError("fill me in")


class Protocol(NamedTuple):
    """One check of a learner's function and the answers its protocol is tested with:
    ``reference`` and each of ``also_correct`` (``{label: answer}``: another type, another
    method) pass on the visible and hidden seeds; ``reference`` replayed from the visible
    cases fails the hidden ones; each of ``starters`` (an unfilled starter: a function, or a
    placeholder value) is TODO."""
    check: Callable
    reference: Callable
    starters: tuple = (unfilled,)
    also_correct: Mapping[str, Callable] = MappingProxyType({})
