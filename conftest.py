"""pytest configuration shared by tests/ and the chapter notebooks that nbval collects.

* Marker ``slow``: a test that executes notebooks or builds environments. Every nbval item
  (a cell of a chapter notebook) is marked ``slow`` here, so ``pytest -m "not slow"`` runs the
  unit and hygiene tests alone, in seconds; ``make test`` runs everything.
* ``RNNLAB_CHECKS_STRICT=1`` for the whole session: a chapter executed with its solutions in
  place (nbval) must print PASSED at every exercise check, and a TODO fails the cell. Tests
  that run the student edition, where TODO is the expected answer, turn it off for their kernel.
* nbval runs the chapters in the **hosted-notebook environment** (tests/envs.py): only what
  Colab preinstalls that the course needs, plus the rnnlab that the chapters' install cell put
  there from a copy of this working tree at the start of the run. So the one execution of each
  chapter in the suite proves its claims and proves that they hold where a learner installs
  nothing but what the notebook installs. Where that environment cannot be built from local
  package sources, nbval uses this environment's kernel (and says so), except under ``CI``,
  where the chapters fail. ``RNNLAB_NBVAL_ENV=current`` chooses this environment on purpose
  (quicker while editing a chapter: no environment to prepare).
"""
import os
import sys
import uuid
import warnings
from pathlib import Path

import pytest

from rnnlab.checks._core import STRICT_ENV
from rnnlab.claims import SOURCE_ENV

sys.path.insert(0, str(Path(__file__).parent / "tests"))   # tests/envs.py, shared with tests

RUN_ENV = "RNNLAB_TEST_RUN"
_kernel: dict = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: executes notebooks or builds environments "
                                       "(deselect with -m 'not slow')")
    os.environ[STRICT_ENV] = "1"
    if not hasattr(config, "workerinput"):   # the controller: its xdist workers inherit it
        os.environ[RUN_ENV] = uuid.uuid4().hex
        # xdist's loadfile scheduler would sort the files by their number of tests; keep the
        # order of pytest_collection_modifyitems below (the longest file first)
        config.option.loadscopereorder = False


def _use_hosted_kernel(config) -> None:
    """Point nbval at the hosted environment's kernel (prepared once per run, see above)."""
    if "done" in _kernel:
        if "error" in _kernel:
            pytest.fail(_kernel["error"], pytrace=False)
        return
    _kernel["done"] = True
    if os.environ.get("RNNLAB_NBVAL_ENV", "hosted") == "current":
        return
    import envs

    try:
        record = envs.hosted_kernel(os.environ[RUN_ENV])
    except envs.EnvironmentUnavailable as exc:
        if os.environ.get("CI"):
            _kernel["error"] = f"nbval needs the hosted-notebook environment in CI: {exc}"
            pytest.fail(_kernel["error"], pytrace=False)
        warnings.warn(f"nbval runs the chapters in this environment, not the hosted one: {exc}",
                      stacklevel=1)
        return
    os.environ["JUPYTER_PATH"] = os.pathsep.join(
        [record["jupyter_path"], *filter(None, [os.environ.get("JUPYTER_PATH")])])
    config.option.nbval_current_env = False
    config.option.nbval_kernel_name = envs.HOSTED_KERNEL


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel: choose the kernel, and tell the kernel which
    notebook it runs, so that its claims, when logged (RNNLAB_CLAIMS_LOG), name their chapter."""
    path = item.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _use_hosted_kernel(item.config)
        os.environ[SOURCE_ENV] = os.path.basename(path)


def pytest_runtest_teardown(item):
    """Forget the notebook again: kernels that tests start later (the student edition, nbgrader)
    run other notebooks and must not log their claims under this one's name."""
    os.environ.pop(SOURCE_ENV, None)


#: Test files that start first: the longest (nbgrader autogrades every chapter three times,
#: two at a time), then the browser test (mostly waiting on Chromium), so that the xdist
#: workers (``--dist loadfile``: one file per worker) end together.
FIRST = ("tests/test_nbgrader.py", "tests/test_browser.py")


def pytest_collection_modifyitems(items):
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.endswith(".ipynb") or path == "tests/test_browser.py":   # the browser builds
            item.add_marker(pytest.mark.slow)                             # the book if needed
    rank = {path: i for i, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))
