"""What every chapter's exercise checks share, tested on all of them.

Every check of a learner's function, with the answers of its chapter's table ``PROTOCOL``
(tests/test_checks_chNN.py, rows of :class:`checkcases.Protocol`):

* the reference answer, and every other correct answer, passes on the visible and hidden seeds;
* an unfilled starter says TODO;
* an answer hard-coded to replay the visible cases' outputs passes seed 0 and fails the hidden
  seeds.

And every check: exported by rnnlab.checks, with a keyword-only seed that it validates first.
A new chapter is found by its name: rnnlab/checks/chNN.py, tests/test_checks_chNN.py.

Each claim is one test; its rows (the tables below) run as subtests, a failing row reported by
its id: the chapter (ch04), the check (ch04-param_count), or the check and an answer
(ch04-param_count-as_a_float, ch07-mingru-None).
"""
import importlib
import inspect
import pkgutil

import pytest
from checkcases import HIDDEN, SEEDS, replaying, visible_outputs

from rnnlab import checks
from rnnlab.checks import CheckFailed

pytestmark = pytest.mark.usefixtures("lenient")

#: Every chapter's checks (rnnlab/checks/chNN.py) and their tests (tests/test_checks_chNN.py).
CHAPTERS = sorted(info.name for info in pkgutil.iter_modules(checks.__path__)
                  if info.name.startswith("ch"))
MODULES = [importlib.import_module(f"rnnlab.checks.{name}") for name in CHAPTERS]
ALL_CHECKS = [getattr(m, n) for m in MODULES for n in m.__all__ if callable(getattr(m, n))]
PROTOCOL = [row for name in CHAPTERS
            for row in importlib.import_module(f"test_checks_{name}").PROTOCOL]


def _id(check, *more) -> str:
    """``ch04-param_count`` and ``more``, joined by dashes, spaces made underscores."""
    chapter = check.__module__.rsplit(".", 1)[-1]
    return "-".join([chapter, check.__name__, *(m.replace(" ", "_") for m in more)])


def _takes_a_function(check) -> bool:
    """True for a check of a learner's function (its answer is ``fn``), not of values."""
    return next(iter(inspect.signature(check).parameters)) == "fn"


def _correct_answers(row):
    """``(id, answer)`` for the reference of a row and each of its other correct answers."""
    yield _id(row.check), row.reference
    for label, answer in row.also_correct.items():
        yield _id(row.check, label), answer


#: ``(id, check, answer)``: the reference of every row and each of its other correct answers.
CORRECT = [(id_, row.check, answer) for row in PROTOCOL for id_, answer in _correct_answers(row)]
#: ``(id, check, starter)``: every unfilled starter of every row.
STARTERS = [(_id(row.check, getattr(starter, "__name__", repr(starter))), row.check, starter)
            for row in PROTOCOL for starter in row.starters]
#: ``(id, check, reference)``: the reference of every row.
REFERENCES = [(_id(row.check), row.check, row.reference) for row in PROTOCOL]

# -- the protocol of a check of a learner's function ----------------------------------------
def test_every_check_of_a_function_has_its_protocol_row(subtests):
    for name, module in zip(CHAPTERS, MODULES):
        with subtests.test(name):
            functions = [getattr(module, n) for n in module.__all__
                         if callable(getattr(module, n)) and _takes_a_function(getattr(module, n))]
            rows = [row.check for row in PROTOCOL if row.check.__module__ == module.__name__]
            assert functions and rows == functions     # one row each, in the order of __all__


def test_correct_answers_pass_on_visible_and_hidden_cases(subtests, capsys):
    for id_, check, answer in CORRECT:
        with subtests.test(id_):
            capsys.readouterr()
            for seed in SEEDS:
                result = check(answer, seed=seed)
                assert result.status == "passed" and bool(result), f"seed {seed}: {result.message}"
                assert capsys.readouterr().out.startswith(f"PASSED {check.__name__}: "), \
                    f"seed {seed}"


def test_unfilled_starters_are_todo(subtests, capsys):
    for id_, check, starter in STARTERS:
        with subtests.test(id_):
            capsys.readouterr()
            result = check(starter)
            assert result.status == "todo" and not result
            assert f"TODO {check.__name__}" in capsys.readouterr().out


def test_answers_hard_coded_for_the_visible_cases_fail_on_hidden_ones(subtests):
    for id_, check, reference in REFERENCES:
        with subtests.test(id_):
            outputs = visible_outputs(check, reference)
            assert check(replaying(outputs)).status == "passed"
            for seed in HIDDEN:
                with pytest.raises(CheckFailed, match=f"^{check.__name__}: "):
                    check(replaying(outputs), seed=seed)


# -- every check -----------------------------------------------------------------------------
def test_every_check_is_exported_by_rnnlab_checks(subtests):
    for name, module in zip(CHAPTERS, MODULES):
        with subtests.test(name):
            for export in module.__all__:
                assert getattr(checks, export) is getattr(module, export), export


def test_every_check_takes_a_keyword_only_seed_defaulting_to_0_checked_before_any_case(subtests):
    def never(*args, **kwargs):
        pytest.fail("the check ran a case")

    for check in ALL_CHECKS:
        with subtests.test(_id(check)):
            seed = inspect.signature(check).parameters["seed"]
            assert (seed.kind, seed.default) == (inspect.Parameter.KEYWORD_ONLY, 0)
            answers = [never] * (len(inspect.signature(check).parameters) - 1)
            with pytest.raises(ValueError, match="got -1"):
                check(*answers, seed=-1)
            with pytest.raises(TypeError, match="got float 0.5"):
                check(*answers, seed=0.5)
