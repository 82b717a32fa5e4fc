"""Fixtures for tests/ (the root conftest.py configures the whole session).

* ``lenient``: the tests of the exercise checks (tests/test_checks_*.py) use it, by
  ``pytestmark = pytest.mark.usefixtures("lenient")``, so that a TODO prints and returns as in
  a student's notebook. It is not autouse: the root conftest.py sets strict mode for the whole
  session, and tests that execute the chapters with their solutions in kernels that inherit
  this environment (tests/test_environments.py) rely on it to fail on any TODO.
* tests/checkcases.py, the helpers those tests share, gets pytest's assert rewriting.
"""
import pytest

from rnnlab.checks._core import STRICT_ENV

pytest.register_assert_rewrite("checkcases")


@pytest.fixture
def lenient(monkeypatch):
    """A TODO prints and returns, as in a student's notebook (conftest.py sets strict mode)."""
    monkeypatch.setenv(STRICT_ENV, "0")
