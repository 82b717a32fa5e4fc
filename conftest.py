"""pytest configuration shared by tests/ and the chapter notebooks that nbval collects.

* Marker ``slow``: a test that executes notebooks or builds environments. Every nbval item
  (a cell of a chapter notebook) is marked ``slow`` here, so ``pytest -m "not slow"`` runs the
  unit and hygiene tests alone, in seconds; ``make test`` runs everything.
* ``RNNLAB_CHECKS_STRICT=1`` for the whole session: a chapter executed with its solutions in
  place (nbval) must print PASSED at every exercise check, and a TODO fails the cell. Tests
  that run the student edition, where TODO is the expected answer, turn it off for their kernel.
"""
import os

import pytest

from rnnlab.checks._core import STRICT_ENV


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: executes notebooks or builds environments "
                                       "(deselect with -m 'not slow')")
    os.environ[STRICT_ENV] = "1"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Tell a notebook's kernel which notebook it runs (before nbval starts it), so that its
    claims, when logged (RNNLAB_CLAIMS_LOG), name their chapter."""
    path = item.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        os.environ["RNNLAB_CLAIMS_SOURCE"] = os.path.basename(path)


def pytest_collection_modifyitems(items):
    for item in items:
        path = item.nodeid.split("::")[0]
        if path.endswith(".ipynb") or path == "tests/test_browser.py":   # the browser builds
            item.add_marker(pytest.mark.slow)                             # the book if needed
