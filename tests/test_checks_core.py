"""The protocol every exercise check follows (rnnlab.checks._core)."""
import numpy as np
import pytest
import torch

from rnnlab.checks import _core as core


def test_passed_and_todo_print_their_line_and_say_their_status(capsys):
    ok = core.passed("demo", "3 cases")
    assert bool(ok) and ok.status == "passed"
    pending = core.todo("demo", "my_fn")
    assert not bool(pending) and pending.status == "todo"
    out = capsys.readouterr().out
    assert "PASSED demo: 3 cases" in out and "TODO demo: not attempted yet: fill in my_fn" in out


def test_a_result_shows_nothing_more_in_a_notebook():
    # IPython calls _ipython_display_ instead of printing the repr after the PASSED line
    assert core.CheckResult("x", "passed", "m")._ipython_display_() is None


def test_call_student_turns_not_implemented_into_not_attempted():
    def stub():
        raise NotImplementedError("fill me in")
    with pytest.raises(core.NotAttempted):
        core.call_student(stub)
    with pytest.raises(TypeError, match="expected your function"):
        core.call_student(3)
    assert core.is_placeholder(None) and core.is_placeholder(...) and not core.is_placeholder(0)


def test_as_float_array_and_matches_accept_numpy_and_torch():
    assert core.as_float_array("abc") is None
    t = torch.arange(3.0, requires_grad=True) * 1
    assert np.array_equal(core.as_float_array(t), [0.0, 1.0, 2.0])
    assert core.matches(t, np.arange(3.0))
    assert not core.matches(t, np.arange(4.0))          # shape
    assert not core.matches("abc", np.arange(3.0))


def test_diagnose_names_the_typical_mistake_first():
    want = np.array([1.0, 2.0, 3.0])
    core.diagnose("demo", want.copy(), want, {}, what="v")          # equal: returns
    with pytest.raises(core.CheckFailed, match="v is wrong: forgot the bias"):
        core.diagnose("demo", want - 1, want, {"forgot the bias": want - 1}, what="v")
    with pytest.raises(core.CheckFailed, match="constant factor of 2"):
        core.diagnose("demo", 2 * want, want, {"forgot the bias": want - 1}, what="v")


def test_compare_arrays_hints():
    want = np.arange(12.0).reshape(2, 6)
    with pytest.raises(core.CheckFailed, match=r"shape \(6, 2\), expected \(2, 6\)"):
        core.compare_arrays("demo", want.T, want, what="h")
    with pytest.raises(core.CheckFailed, match="NaN or inf"):
        core.compare_arrays("demo", np.full((2, 6), np.nan), want, what="h")
    bad = want.copy()
    bad[:, 4:] += 1
    with pytest.raises(core.CheckFailed, match="wrong from time step 4 on"):
        core.compare_arrays("demo", bad, want, what="h", time_axis=1)
    with pytest.raises(core.CheckFailed, match="should be an array of numbers"):
        core.compare_arrays("demo", "text", want, what="h")
    core.compare_arrays("demo", want + 1e-12, want, what="h")
