"""The protocol every exercise check follows (rnnlab.checks._core): the helpers and the
``check`` decorator. What every chapter's checks share is tested in test_checks_protocol.py."""
import inspect
import itertools

import numpy as np
import pytest
import torch
from checkcases import unfilled

from rnnlab.checks import _core as core

pytestmark = pytest.mark.usefixtures("lenient")


# -- the helpers -----------------------------------------------------------------------------
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


def test_call_student_turns_not_implemented_into_not_attempted_and_wants_a_function():
    def stub():
        raise NotImplementedError("fill me in")
    with pytest.raises(core.NotAttempted):
        core.call_student(stub)
    with pytest.raises(TypeError, match="expected your function"):
        core.call_student(3)


def test_is_placeholder_means_none_or_ellipsis_only(subtests):
    for value, placeholder in [(None, True), (..., True), (0, False), ("", False), ([], False)]:
        with subtests.test(value=repr(value)):
            assert core.is_placeholder(value) is placeholder


def test_as_float_array_and_matches_take_numpy_and_torch_and_reject_the_rest():
    assert core.as_float_array("abc") is None
    t = torch.arange(3.0, requires_grad=True) * 1
    assert np.array_equal(core.as_float_array(t), [0.0, 1.0, 2.0])
    assert core.matches(t, np.arange(3.0))
    assert not core.matches(t, np.arange(4.0))          # shape
    assert not core.matches("abc", np.arange(3.0))


AS_NUMBER = [                           # (what, value, the float it is, or None)
    ("int", 3, 3.0), ("NumPy float32", np.float32(2.5), 2.5),
    ("0-d tensor", torch.tensor(1.5), 1.5), ("1x1 tensor", torch.tensor([[2.0]]), 2.0),
    ("one-element array", np.array([4.0]), 4.0), ("a list holding None", [None], None),
    ("numeric text", "2.3", None), ("bytes", b"1", None), ("a pair", [1.0, 2.0], None),
    ("empty array", np.array([]), None), ("None", None, None),
]


def test_as_number_takes_one_number_of_any_kind_and_nothing_else(subtests):
    for what, value, number in AS_NUMBER:
        with subtests.test(what):
            assert core.as_number(value) == number
    assert core.as_float_array(["1", "2"]) is None          # text is not numbers, even digits


def test_diagnose_returns_on_a_match_and_names_the_typical_mistake_first():
    want = np.array([1.0, 2.0, 3.0])
    assert core.diagnose(want.copy(), want, {}, what="v") is None
    with pytest.raises(core.CheckFailed, match="^v is wrong: forgot the bias$"):
        core.diagnose(want - 1, want, {"forgot the bias": want - 1}, what="v")
    with pytest.raises(core.CheckFailed, match="^v is off by a constant factor of 2"):
        core.diagnose(2 * want, want, {"forgot the bias": want - 1}, what="v")


_WANT = np.arange(12.0).reshape(2, 6)
_LATE = _WANT + (np.arange(6) >= 4)        # steps 4 and 5 differ


COMPARE_WRONG = [                       # (what, got, time_axis, hint)
    ("transposed", _WANT.T, None, r"^h has shape \(6, 2\), expected \(2, 6\)$"),
    ("NaN", np.full((2, 6), np.nan), None, "^h contains NaN or inf$"),
    ("late steps, time axis 1", _LATE, 1,
     r"^h is wrong from time step 4 on \(2 of 6 steps differ\)$"),
    ("late steps, no time axis", _LATE, None, "^h differs from the reference by up to 1$"),
    ("negated", -_WANT, None, "^h is off by a constant factor of -1 "),
    ("close, not to the tolerance", _WANT * (1 + 3e-6), None,
     r"^h is close but not within rtol=1e-06: largest relative error .* \(computed in float32"),
    ("a string", "text", None, "^h should be an array of numbers, got str$"),
]


def test_compare_arrays_says_what_is_wrong(subtests):
    for what, got, time_axis, hint in COMPARE_WRONG:
        with subtests.test(what):
            with pytest.raises(core.CheckFailed, match=hint):
                core.compare_arrays(got, _WANT, what="h", time_axis=time_axis)


def test_compare_arrays_returns_within_tolerance():
    assert core.compare_arrays(_WANT + 1e-12, _WANT, what="h") is None


# -- the decorator ---------------------------------------------------------------------------
def _demo(outcome="pass"):
    """A check ``demo(fn, *, seed=0)`` that records its calls and ends with ``outcome``."""
    calls = []

    @core.check("demo_fn")
    def demo(fn, *, seed: int = 0):
        """The demo check."""
        calls.append(seed)
        got = core.call_student(fn, seed)
        if outcome == "fail":
            core.fail(f"got {got}")
        if outcome == "diagnose":
            core.diagnose(got, np.zeros(2), {"all ones": np.ones(2)}, what="v")
        if outcome == "compare":
            core.compare_arrays(got, np.zeros(2), what="v")
        return f"seed {seed}"
    return demo, calls


def test_check_passes_with_the_message_its_cases_return(capsys):
    demo, _ = _demo()
    result = demo(lambda s: s, seed=3)
    assert (result.name, result.status, result.message) == ("demo", "passed", "seed 3")
    assert capsys.readouterr().out == "PASSED demo: seed 3\n"


def test_check_says_todo_when_the_learner_function_raises_not_implemented(capsys):
    demo, calls = _demo()
    assert demo(unfilled).status == "todo" and calls == [0]
    assert capsys.readouterr().out.startswith("TODO demo: not attempted yet: fill in demo_fn ")


def test_check_says_todo_for_a_placeholder_answer_without_running_its_cases(subtests):
    for placeholder in (None, ...):
        with subtests.test(placeholder=placeholder):
            demo, calls = _demo()
            assert demo(placeholder).status == "todo" and calls == []


def test_check_prefixes_its_name_to_every_hint(subtests):
    for outcome, answer, hint in [           # how the demo check fails, the answer, the hint
        ("fail", lambda s: s, "^demo: got 0$"),
        ("diagnose", lambda s: np.ones(2), "^demo: v is wrong: all ones$"),
        ("compare", lambda s: np.zeros(3), r"^demo: v has shape \(3,\), expected \(2,\)$"),
    ]:
        with subtests.test(outcome):
            demo, _ = _demo(outcome)
            with pytest.raises(core.CheckFailed, match=hint):
                demo(answer)


def test_strict_mode_turns_a_todo_into_a_failure(subtests, monkeypatch):
    for value, strict in [("1", True), ("yes", True), ("0", False), ("", False)]:
        with subtests.test(value=repr(value)), monkeypatch.context() as mp:
            mp.setenv(core.STRICT_ENV, value)
            demo, _ = _demo()
            if strict:
                with pytest.raises(core.CheckFailed,
                                   match=f"^demo: not attempted yet.*{core.STRICT_ENV}"):
                    demo(None)
            else:
                assert demo(None).status == "todo"


def test_an_error_in_the_learner_function_propagates_unchanged():
    demo, _ = _demo()
    with pytest.raises(ZeroDivisionError):
        demo(lambda s: 1 / s)


BAD_SEEDS = [(-1, ValueError), (1.0, TypeError), ("1", TypeError), (True, TypeError),
             (None, TypeError)]


def test_check_validates_the_seed_before_anything_else(subtests):
    answers = {"answer": lambda s: s, "placeholder": None}
    for (seed, error), label in itertools.product(BAD_SEEDS, answers):
        with subtests.test(seed=repr(seed), answer=label):
            demo, calls = _demo()
            with pytest.raises(error, match=f"seed must be a non-negative int, got .*{seed!r}"):
                demo(answers[label], seed=seed)
            assert calls == []


def test_check_passes_a_valid_seed_on_as_an_int():
    demo, calls = _demo()
    demo(lambda s: s, seed=np.int64(5))
    assert calls == [5] and type(calls[0]) is int


def test_check_keeps_the_name_docstring_and_signature():
    demo, _ = _demo()
    assert (demo.__name__, demo.__doc__) == ("demo", "The demo check.")
    assert str(inspect.signature(demo)) == "(fn, *, seed: int = 0)"


def test_check_needs_the_name_of_what_the_learner_fills_in(subtests):
    for what in ["", None, 3]:
        with subtests.test(what=repr(what)):
            with pytest.raises(TypeError, match="what the learner fills in"):
                core.check(what)


# -- report mode (the learner edition) -------------------------------------------------------
@pytest.fixture
def reporting():
    core.report_failures()
    yield
    core.report_failures(False)


REPORTED = [                            # (how the answer is wrong, outcome, answer, NOT YET hint)
    ("fail", "fail", lambda s: s, "got 0"),
    ("a typical mistake", "diagnose", lambda s: np.ones(2), "v is wrong: all ones"),
    ("the learner's function raises", "pass", lambda s: 1 / s,
     "your answer raised ZeroDivisionError: division by zero"),
]


def test_report_mode_prints_not_yet_with_the_hint_and_returns(subtests, capsys, reporting):
    for what, outcome, answer, hint in REPORTED:
        with subtests.test(what):
            demo, _ = _demo(outcome)
            result = demo(answer)
            assert (result.status, result.message, bool(result)) == ("not yet", hint, False)
            assert capsys.readouterr().out.startswith(f"NOT YET demo: {hint}\n")


def test_report_mode_keeps_passed_and_todo(capsys, reporting):
    demo, _ = _demo()
    assert demo(lambda s: s).status == "passed" and demo(unfilled).status == "todo"


def test_report_mode_is_off_by_default_and_under_strict(subtests, monkeypatch):
    demo, _ = _demo("fail")
    with subtests.test("default: raises, as nbgrader's tests need"):
        assert not core.reporting_failures()
        with pytest.raises(core.CheckFailed, match="^demo: got 0$"):
            demo(lambda s: s)
    with subtests.test("strict (nbval, the book) overrides it"), monkeypatch.context() as mp:
        core.report_failures()
        try:
            mp.setenv(core.STRICT_ENV, "1")
            assert not core.reporting_failures()
            with pytest.raises(core.CheckFailed, match="^demo: got 0$"):
                demo(lambda s: s)
        finally:
            core.report_failures(False)
    with subtests.test("a bad argument"):
        with pytest.raises(TypeError, match="True or False, got str 'yes'"):
            core.report_failures("yes")
