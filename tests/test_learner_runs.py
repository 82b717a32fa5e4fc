"""The learner runs (issue 23): every chapter's learner notebook executed top to bottom in the
hosted-notebook environment, each exercise untouched and then with a wrong answer, and each
executed notebook read in JupyterLab in a real browser (tests/lab_check.py).

The learner edition comes from tests/test_learner.py's ``edition`` fixture (the numbers of the
fresh book build); the executed notebooks stay in ``_build/learner-run``.
"""
from __future__ import annotations

import copy
import re

import nbformat
import pytest
from nbfixtures import CHAPTERS, ROOT, execute, printed
from nbformat.v4 import new_code_cell
from nbgrading import MISTAKES
from test_learner import edition  # noqa: F401  (a fixture)

from rnncourse import notebooks as nbt

_UNFILLED = re.compile(r"raise NotImplementedError\((?:[^()]|\([^()]*\))*\)")


def with_wrong_answers(nb: dict) -> dict:
    """``nb`` with every starter filled in wrongly: functions return 0, values are 0.5."""
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if nbt.is_starter(cell):
            source = _UNFILLED.sub("return 0  # a wrong answer", nbt.source(cell))
            cell["source"] = re.sub(r"= None\b", "= 0.5", source)
    return nb


#: Where the learner runs leave each chapter's executed learner notebook (the JupyterLab
#: check reads them; a learner or an instructor may open them too).
RUNS = ROOT / "_build" / "learner-run"


def untouched_then_wrong(nb: dict, chapter: str) -> dict:
    """``nb`` where each exercise runs twice: untouched, then with a wrong answer.

    After every check cell of an exercise comes that exercise's starter filled in wrongly and
    the check again: the chapter's typical mistake of tests/nbgrading.py (``MISTAKES``, the one
    nbgrader's test grades) for its exercise, :func:`with_wrong_answers` for the others. One
    run of this notebook is a learner's "Run all" on the untouched notebook up to each check
    (which must say TODO) and then on a wrong answer (which must say NOT YET with its hint).
    What distinguishes the two runs is the starters, which only the exercises read (cells after
    an exercise use the package's reference implementation), so one execution per chapter
    covers both, and the last cell must still be reached.
    """
    wrong = with_wrong_answers(nb)
    label, typical, _ = MISTAKES.get(chapter, (None, None, None))
    cells, starter = [], None
    for cell, bad in zip(nb["cells"], wrong["cells"]):
        cells.append(cell)
        if nbt.is_starter(cell):
            starter = bad
            if nbt.starter_label(cell) == label:
                starter = new_code_cell(typical)
        elif nbt.is_check(cell) and starter is not None:
            cells += [copy.deepcopy(starter), copy.deepcopy(cell)]
            starter = None
    out = copy.deepcopy(nb)
    out["cells"] = cells
    for i, cell in enumerate(out["cells"]):
        cell["id"] = f"run-{i}"
    return out


def _hosted_kernel(run_id: str, mp: pytest.MonkeyPatch) -> str:
    """The hosted-notebook environment's kernel (tests/envs.py; the one nbval runs the chapters
    in: only what Colab has, and rnnlab from the chapters' install cell), or, where it cannot
    be built outside CI, this environment's python3, with a warning."""
    import os
    import warnings

    import envs
    try:
        record = envs.hosted_kernel(run_id)
    except envs.EnvironmentUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"the learner runs need the hosted-notebook environment in CI: {exc}",
                        pytrace=False)
        warnings.warn(f"learner notebooks run in this environment, not the hosted one: {exc}",
                      stacklevel=1)
        return "python3"
    mp.setenv("JUPYTER_PATH", os.pathsep.join(
        [record["jupyter_path"], *filter(None, [os.environ.get("JUPYTER_PATH")])]))
    return envs.HOSTED_KERNEL


@pytest.fixture(scope="module")
def learner_runs(edition, run_id):  # noqa: F811  (the imported fixture)
    """Every chapter's learner notebook run once, top to bottom (:func:`untouched_then_wrong`),
    in a fresh kernel of the hosted-notebook environment that reports as a learner's does; the
    executed notebooks go to RUNS. Maps each chapter's name to its executed notebook, or to the
    error that stopped it."""
    from rnnlab.checks._core import STRICT_ENV
    RUNS.mkdir(parents=True, exist_ok=True)
    runs = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(STRICT_ENV, "0")
        mp.delenv("MPLBACKEND", raising=False)       # Agg would drop every figure
        kernel = _hosted_kernel(run_id, mp)
        for path in CHAPTERS:
            try:
                nb = untouched_then_wrong(nbt.read(edition / path.name), path.name[:2])
                runs[path.name] = execute(nb, edition, kernel)
            except Exception as err:           # the test names it, chapter by chapter
                runs[path.name] = err
                continue
            nbformat.write(runs[path.name], RUNS / path.name)
    return runs


@pytest.mark.slow
def test_every_learner_notebook_runs_to_the_end_untouched_and_with_wrong_answers(
        learner_runs, subtests):
    for name, run in learner_runs.items():
        with subtests.test(name):
            assert not isinstance(run, Exception), f"the run stopped: {run}"
            said = [printed(c) for c in run["cells"] if nbt.is_check(c)]
            assert said, "no exercise check ran"
            untouched, wrong = said[0::2], said[1::2]
            assert len(untouched) == len(wrong)
            assert all(out.startswith("TODO ") for out in untouched), untouched
            assert all(re.match(r"NOT YET \S+: \S", out) for out in wrong), wrong
            if name[:2] in MISTAKES:                    # the typical mistake gets its own hint
                assert any(MISTAKES[name[:2]][2] in out for out in wrong), wrong
            code = [c for c in run["cells"] if c["cell_type"] == "code"]
            assert all(c.get("execution_count") for c in code), "a cell did not run"


@pytest.mark.slow
def test_every_learner_notebook_reads_in_jupyterlab(learner_runs, subtests):
    """Every chapter's executed learner notebook opened in JupyterLab in headless Chromium
    (tests/lab_check.py): no MyST left, math typeset, every figure shown with its numbered
    caption under it, every interactive figure drawn and redrawn when its slider moves."""
    import browser_check as bc
    import lab_check
    from test_browser import unavailable
    if bc.find_chromium() is None:
        unavailable("no Chromium found: install Debian's `chromium` package")
    ran = [name for name, run in learner_runs.items() if not isinstance(run, Exception)]
    found = lab_check.check_folder(RUNS, ran)
    for name in ran:
        with subtests.test(name):
            assert found[name] == [], "\n".join(found[name])
