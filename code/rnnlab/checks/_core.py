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
  After :func:`report_failures` (the learner edition's setup calls it), a wrong answer, or a
  learner's function that raises, prints a ``NOT YET`` line with the hint instead and returns
  ``status == "not yet"``, so "Run all" goes on past it; nbgrader's tests, nbval and every
  other caller keep the raising protocol (it is off unless called, and ``RNNLAB_CHECKS_STRICT``
  overrides it).

Every check is written with the :func:`check` decorator, which carries that protocol; the
check itself keeps only its cases and its typical mistakes::

    @check("sigmoid_prime")                 # what the learner fills in (for the TODO line)
    def sigmoid_prime(fn, *, seed: int = 0):
        got = call_student(fn, a)           # NotImplementedError in the starter -> TODO
        diagnose(got, want, {"forgot the square": ...}, what="sigma'(a)")   # or fail(hint)
        return "matches on 101 points"      # the PASSED message

A placeholder answer (``None`` or ``...``, what a value starter holds) also counts as TODO.
Every check takes a keyword-only ``seed``: 0 (the default) runs the cases the chapter shows,
another seed draws other cases of the same kind, for an autograder's hidden tests.
With the environment variable ``RNNLAB_CHECKS_STRICT`` set, a TODO raises instead of printing,
so a run of the chapters with their solutions in place (nbval) proves every check *passes*.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np

__all__ = ["CheckFailed", "CheckResult", "NotAttempted", "check", "passed", "todo", "not_yet",
           "fail", "report_failures", "reporting_failures",
           "call_student", "is_placeholder", "as_float_array", "as_number", "matches",
           "diagnose",
           "compare_arrays", "int_between", "STRICT_ENV"]

#: With this environment variable set (to anything but "" or "0"), a TODO raises CheckFailed.
STRICT_ENV = "RNNLAB_CHECKS_STRICT"

_REPORT = {"on": False}   # set by report_failures()


class CheckFailed(AssertionError):
    """Raised by a check when the answer is wrong; the message is the hint."""


class NotAttempted(Exception):
    """Internal signal: the learner has not filled in the starter yet."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str  # "passed", "todo" or "not yet" (a wrong answer, in report mode)
    message: str

    def __bool__(self) -> bool:
        return self.status == "passed"

    def _ipython_display_(self) -> None:
        """Show nothing in a notebook: the check already printed its line."""


def passed(name: str, message: str) -> CheckResult:
    print(f"PASSED {name}: {message}")
    return CheckResult(name, "passed", message)


def todo(name: str, what: str) -> CheckResult:
    msg = (f"not attempted yet: fill in {what} in the starter cell above, run it, "
           "then run this cell again")
    if _strict():
        raise CheckFailed(f"{name}: {msg} (a TODO fails while {STRICT_ENV} is set)")
    print(f"TODO {name}: {msg}")
    return CheckResult(name, "todo", msg)


def _strict() -> bool:
    return os.environ.get(STRICT_ENV, "") not in ("", "0")


def report_failures(on: bool = True) -> None:
    """From now on a wrong answer prints ``NOT YET`` and its hint instead of raising, so the
    notebook runs on (``on=False`` restores raising). The learner edition's setup calls it;
    with ``RNNLAB_CHECKS_STRICT`` set, wrong answers raise all the same."""
    if not isinstance(on, bool):
        raise TypeError(f"report_failures takes True or False, got {type(on).__name__} {on!r}")
    _REPORT["on"] = on


def reporting_failures() -> bool:
    """Whether a wrong answer is reported (True) or raised (False) right now."""
    return _REPORT["on"] and not _strict()


def not_yet(name: str, hint: str) -> CheckResult:
    """Print the ``NOT YET`` line of a wrong answer in report mode (see :func:`report_failures`)."""
    print(f"NOT YET {name}: {hint}\n    (fix your answer above, run it, then run this cell again; "
          "the rest of the notebook does not depend on it)")
    return CheckResult(name, "not yet", hint)


def fail(hint: str):
    """Stop the check with ``hint`` (the :func:`check` decorator prefixes the check's name)."""
    raise CheckFailed(hint)


def check(what: str):
    """Decorator that turns a function running a check's cases into a check with the protocol
    above: PASSED with the message the function returns, TODO when the answer is a placeholder
    or the learner's function raises ``NotImplementedError``, CheckFailed naming the check.

    Keyword options go through to the function; a ``seed`` among them (every check has one) is
    validated first, a placeholder answer or not."""
    if not isinstance(what, str) or not what:
        raise TypeError(f"check needs the name of what the learner fills in, got {what!r}")

    def decorate(cases):
        name = cases.__name__

        @functools.wraps(cases)
        def run(*answers, **options):
            if "seed" in options:
                options["seed"] = _valid_seed(options["seed"])
            if any(is_placeholder(a) for a in answers):
                return todo(name, what)
            try:
                message = cases(*answers, **options)
            except NotAttempted:
                return todo(name, what)
            except CheckFailed as exc:
                if reporting_failures():
                    return not_yet(name, str(exc))
                raise CheckFailed(f"{name}: {exc}") from None
            except Exception as exc:   # the learner's function raised: reported, in report mode
                if reporting_failures():
                    return not_yet(name, f"your answer raised {type(exc).__name__}: {exc}")
                raise
            return passed(name, message)
        return run
    return decorate


def _valid_seed(seed) -> int:
    """``seed`` as an int; TypeError or ValueError, naming what came, unless it is a
    non-negative integer."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be a non-negative int, got {type(seed).__name__} {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    return int(seed)


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


def int_between(rng):
    """``n(lo, hi)``: an int drawn from the NumPy generator ``rng`` between lo and hi, both
    included (the hidden cases of a check draw their sizes with it)."""
    return lambda lo, hi: int(rng.integers(lo, hi + 1))


def as_float_array(x):
    """``x`` as a float64 NumPy array (a tensor is detached and moved to the CPU first), or
    ``None`` when it is not an array of numbers. Text is not a number, even ``"2.3"``, and
    ``None`` is not NaN: NumPy would convert both, and a check would then pass an answer that
    returns the right digits as a string."""
    try:
        raw = np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)
        if raw.dtype.kind in "SU" or (raw.dtype.kind == "O" and any(
                v is None or isinstance(v, (str, bytes)) for v in raw.flat)):
            return None
        return np.asarray(raw, dtype=float)
    except (TypeError, ValueError, RuntimeError):
        return None


def as_number(x) -> float | None:
    """``x`` as a float when it is one number (a Python or NumPy number, or a tensor or array
    holding exactly one), else ``None`` (text, a pair, an empty array)."""
    arr = as_float_array(x)
    return float(arr.reshape(())) if arr is not None and arr.size == 1 else None


def matches(got, want, *, rtol: float = 1e-6, atol: float = 1e-9) -> bool:
    """True when ``got`` has ``want``'s shape and equals it within the tolerances."""
    got_a, want_a = as_float_array(got), as_float_array(want)
    return (got_a is not None and want_a is not None and got_a.shape == want_a.shape
            and bool(np.allclose(got_a, want_a, rtol=rtol, atol=atol)))


def diagnose(got, want, wrong: dict, *, what: str, rtol: float = 1e-6,
             atol: float = 1e-9) -> None:
    """Return if ``got`` matches ``want``. Otherwise fail with the hint of the first typical
    wrong answer in ``wrong`` (``{hint: wrong_value}``) that ``got`` equals, or else with the
    precise hint of :func:`compare_arrays` (shape, constant factor, size of the error)."""
    if matches(got, want, rtol=rtol, atol=atol):
        return
    for hint, candidate in wrong.items():
        if matches(got, candidate, rtol=rtol, atol=atol):
            fail(f"{what} is wrong: {hint}")
    compare_arrays(got, as_float_array(want), what=what, rtol=rtol, atol=atol)


def _largest_relative_error(got: np.ndarray, want: np.ndarray) -> float:
    scale = np.maximum(np.abs(want), np.finfo(float).tiny)
    return float(np.max(np.abs(got - want) / scale))


def compare_arrays(got, want, *, what: str, rtol: float = 1e-6, atol: float = 1e-8,
                   time_axis: int | None = None) -> None:
    """Raise CheckFailed with a precise hint unless ``got`` equals ``want`` within tolerance.

    The hint names a wrong type or shape, a constant factor (sign or scale error), or, with
    ``time_axis``, the first time step where the values differ.
    """
    got_a, want_a = as_float_array(got), as_float_array(want)
    if got_a is None:
        fail(f"{what} should be an array of numbers, got {type(got).__name__}")
    if got_a.shape != want_a.shape:
        fail(f"{what} has shape {got_a.shape}, expected {want_a.shape}")
    if not np.all(np.isfinite(got_a)):
        fail(f"{what} contains NaN or inf")
    if np.allclose(got_a, want_a, rtol=rtol, atol=atol):
        return
    denom = float(np.vdot(want_a, want_a))
    if denom > 0:
        ratio = float(np.vdot(got_a, want_a)) / denom
        if abs(ratio) > 1e-12 and np.allclose(got_a, ratio * want_a, rtol=1e-4, atol=atol * 10):
            if abs(ratio - 1) < 1e-4:          # close everywhere, only not to the tolerance
                fail(f"{what} is close but not within rtol={rtol:g}: largest relative error "
                     f"{_largest_relative_error(got_a, want_a):.2g} (computed in float32, or "
                     "with a step rounded? work in float64)")
            fail(f"{what} is off by a constant factor of {ratio:.4g} "
                 "(a missing or extra scale, sign or 1/N?)")
    if time_axis is not None and got_a.ndim > time_axis:
        bad = ~np.isclose(got_a, want_a, rtol=rtol, atol=atol)
        per_step = np.moveaxis(bad, time_axis, 0).reshape(got_a.shape[time_axis], -1)
        steps = np.nonzero(np.any(per_step, axis=1))[0]
        fail(f"{what} is wrong from time step {int(steps[0])} on "
             f"({len(steps)} of {got_a.shape[time_axis]} steps differ)")
    err = float(np.max(np.abs(got_a - want_a)))
    fail(f"{what} differs from the reference by up to {err:.3g}")
