"""pytest configuration shared by tests/ and the chapter notebooks that nbval collects.

* Marker ``slow`` (declared in ``pyproject.toml``): a test that executes notebooks or builds
  environments. Every nbval item (a cell of a chapter notebook) is marked ``slow`` here, so
  ``pytest -m "not slow"`` runs the unit and hygiene tests alone, in seconds; ``make test``
  runs everything.
* nbval's kernels run the exercise checks strictly (``RNNLAB_CHECKS_STRICT=1``, in the
  environment of the kernel nbval starts, set just before it starts): a chapter executed with
  its solutions in place must print PASSED at every exercise check, and a TODO fails the cell.
* nbval runs the chapters in the **hosted-notebook environment** (tests/envs.py): only what
  Colab preinstalls that the course needs, plus the rnnlab that the chapters' install cell put
  there from a copy of this working tree at the start of the run. So the one execution of each
  chapter in the suite proves its claims and proves that they hold where a learner installs
  nothing but what the notebook installs. Where that environment cannot be built from local
  package sources, nbval uses this environment's kernel (and says so), except under ``CI``,
  where the chapters fail. ``RNNLAB_NBVAL_ENV=current`` chooses this environment on purpose
  (quicker while editing a chapter: no environment to prepare).
* ``--claims-log LOG``: every claim of the chapters that nbval runs is appended to ``LOG`` as a
  JSON line naming its notebook (:func:`rnnlab.claims.log_to`, called in each notebook's kernel
  before its first cell), for ``python -m rnncourse.margins report LOG``.
* Test files that start first under xdist (``--dist loadfile --no-loadscope-reorder``, see the
  Makefile): :data:`FIRST`.
"""
import os
import uuid
import warnings

import pytest

from rnnlab.checks._core import STRICT_ENV

_kernel: dict = {}


def pytest_addoption(parser):
    parser.addoption("--claims-log", default=None, metavar="LOG",
                     help="append every claim of the notebooks nbval runs to LOG (JSON lines)")


#: The id of this test run: the xdist workers of one run share it, hence one preparation of
#: the hosted environment (tests/envs.py).
_RUN_ID = pytest.StashKey[str]()


def pytest_configure(config):
    workerinput = getattr(config, "workerinput", None)   # set on xdist's workers
    config.stash[_RUN_ID] = workerinput["rnnlab_run_id"] if workerinput else uuid.uuid4().hex


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist, on the controller: hand the run's id to each worker."""
    node.workerinput["rnnlab_run_id"] = node.config.stash[_RUN_ID]


@pytest.fixture(scope="session")
def run_id(request) -> str:
    """The id of this test run (the same on every xdist worker)."""
    return request.config.stash[_RUN_ID]


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
        record = envs.hosted_kernel(config.stash[_RUN_ID])
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


def _is_notebook_cell(item) -> bool:
    return item.nodeid.split("::")[0].endswith(".ipynb")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel: choose the kernel and make its checks strict;
    once it has started, attach the claims log (``--claims-log``) in it."""
    if not _is_notebook_cell(item):
        return (yield)
    _use_hosted_kernel(item.config)
    with pytest.MonkeyPatch.context() as mp:   # the kernel inherits it; this process does not
        mp.setenv(STRICT_ENV, "1")
        result = yield
    log = item.config.getoption("claims_log")
    notebook = item.parent
    if log and not getattr(notebook, "_rnnlab_claims_log", False):
        notebook._rnnlab_claims_log = True
        from rnncourse.margins import claims_log_code

        _run_in_kernel(notebook.kernel, claims_log_code(log, os.path.basename(notebook.path)))
    return result


def _run_in_kernel(kernel, code: str, timeout: float = 120) -> None:
    """Execute ``code`` in nbval's running kernel (no history, no cell); fail if it raises."""
    msg_id = kernel.execute_cell_input(code, allow_stdin=False)
    while True:
        reply = kernel.get_message(stream="shell", timeout=timeout)
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    kernel.await_idle(msg_id, timeout)
    if reply["content"]["status"] != "ok":
        pytest.fail(f"could not attach the claims log in the kernel: "
                    f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}",
                    pytrace=False)


#: Test files that start first: the longest (nbgrader autogrades every chapter three times,
#: two at a time), then the browser test (mostly waiting on Chromium) and the learner runs
#: (every chapter's learner notebook once), so that the xdist workers (``--dist loadfile``:
#: one file per worker) end together. xdist keeps this order only with
#: ``--no-loadscope-reorder`` (the Makefile's flags).
FIRST = ("tests/test_nbgrader.py", "tests/test_browser.py", "tests/test_learner_runs.py",
         "tests/test_browser_italian.py")


def pytest_collection_modifyitems(items):
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.endswith(".ipynb") or path == "tests/test_browser.py":   # the browser builds
            item.add_marker(pytest.mark.slow)                             # the book if needed
    rank = {path: i for i, path in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(FIRST)))
