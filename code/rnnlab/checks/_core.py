"""The machinery behind every exercise check (chapters 1-6, issue: instructors).

A check runs the learner's function or value against a reference on several cases and
answers in one of three ways:

* **passed**: prints a line that starts with ``PASSED`` and says what was verified, and
  returns a :class:`CheckResult` with ``status == "passed"``;
* **not attempted**: the learner's code still raises ``NotImplementedError`` (or the value is
  ``None``, ``...``): prints a ``TODO`` line and returns ``status == "todo"`` without raising,
  so a student edition runs top to bottom and fails only at the unfilled starters;
* **wrong**: raises :class:`CheckFailed` (an ``AssertionError``) whose message is a *hint*
  that says what is wrong: the shape, the first wrong step, the factor a gradient is off by.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CheckFailed", "CheckResult", "NotAttempted", "passed", "todo", "fail",
           "call_student", "is_placeholder", "as_float_array", "matches", "diagnose",
           "compare_arrays"]


class CheckFailed(AssertionError):
    """Raised by a check when the answer is wrong; the message is the hint."""


class NotAttempted(Exception):
    """Internal signal: the learner has not filled in the starter yet."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "passed" or "todo"
    message: str

    def __bool__(self) -> bool:
        return self.status == "passed"

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the check already printed its line."""


def passed(name: str, message: str) -> CheckResult:
    print(f"PASSED {name}: {message}")
    return CheckResult(name, "passed", message)


def todo(name: str, what: str) -> CheckResult:
    msg = f"not attempted yet: fill in {what} in the starter cell above, run it, then run this cell again"
    print(f"TODO {name}: {msg}")
    return CheckResult(name, "todo", msg)


def fail(name: str, hint: str):
    raise CheckFailed(f"{name}: {hint}")


def is_placeholder(value) -> bool:
    """True for the values a starter leaves in place of an answer (None, Ellipsis)."""
    return value is None or value is Ellipsis


def call_student(fn, *args, **kwargs):
    """Call the learner's function; turn ``NotImplementedError`` into :class:`NotAttempted`."""
    if not callable(fn):
        raise TypeError(f"expected your function, got {type(fn).__name__}")
    try:
        return fn(*args, **kwargs)
    except NotImplementedError as exc:
        raise NotAttempted(str(exc)) from None


def as_float_array(x):
    """``x`` as a float64 NumPy array (a tensor is detached and moved to the CPU first), or
    ``None`` when it is not an array of numbers."""
    try:
        return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def matches(got, want, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when ``got`` has ``want``'s shape and equals it within the tolerances."""
    got_a, want_a = as_float_array(got), as_float_array(want)
    return (got_a is not None and want_a is not None and got_a.shape == want_a.shape
            and bool(np.allclose(got_a, want_a, rtol=rtol, atol=atol)))


def diagnose(name: str, got, want, wrong: dict, *, what: str, rtol: float = 1e-6,
             atol: float = 1e-9) -> None:
    """Return if ``got`` matches ``want``. Otherwise fail with the hint of the first typical
    wrong answer in ``wrong`` (``{hint: wrong_value}``) that ``got`` equals, or else with the
    precise hint of :func:`compare_arrays` (shape, constant factor, size of the error)."""
    if matches(got, want, rtol=rtol, atol=atol):
        return
    for hint, candidate in wrong.items():
        if matches(got, candidate, rtol=rtol, atol=atol):
            fail(name, f"{what} is wrong: {hint}")
    compare_arrays(name, got, as_float_array(want), what=what, rtol=rtol, atol=atol)


def compare_arrays(name: str, got, want, *, what: str, rtol: float = 1e-6, atol: float = 1e-8,
                   time_axis: int | None = None) -> None:
    """Raise CheckFailed with a precise hint unless ``got`` equals ``want`` within tolerance.

    The hint names a wrong type or shape, a constant factor (sign or scale error), or, with
    ``time_axis``, the first time step where the values differ.
    """
    got_a, want_a = as_float_array(got), as_float_array(want)
    if got_a is None:
        fail(name, f"{what} should be an array of numbers, got {type(got).__name__}")
    if got_a.shape != want_a.shape:
        fail(name, f"{what} has shape {got_a.shape}, expected {want_a.shape}")
    if not np.all(np.isfinite(got_a)):
        fail(name, f"{what} contains NaN or inf")
    if np.allclose(got_a, want_a, rtol=rtol, atol=atol):
        return
    denom = float(np.vdot(want_a, want_a))
    if denom > 0:
        ratio = float(np.vdot(got_a, want_a)) / denom
        if abs(ratio) > 1e-12 and np.allclose(got_a, ratio * want_a, rtol=1e-4, atol=atol * 10):
            fail(name, f"{what} is off by a constant factor of {ratio:.4g} "
                       "(a missing or extra scale, sign or 1/N?)")
    if time_axis is not None and got_a.ndim > time_axis:
        bad = ~np.isclose(got_a, want_a, rtol=rtol, atol=atol)
        steps = np.nonzero(np.any(np.moveaxis(bad, time_axis, 0).reshape(got_a.shape[time_axis], -1),
                                  axis=1))[0]
        fail(name, f"{what} is wrong from time step {int(steps[0])} on "
                   f"({len(steps)} of {got_a.shape[time_axis]} steps differ)")
    err = float(np.max(np.abs(got_a - want_a)))
    fail(name, f"{what} differs from the reference by up to {err:.3g}")
