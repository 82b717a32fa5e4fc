"""Claims: every measured statement of the book, asserted on the numbers just computed (all
chapters).

The prose of a chapter says what a measurement shows; the cell right after it (collapsed in the
book) checks that statement on the values the notebook has just computed::

    claims.less("the worst LSTM seed solves the adding problem (test MSE)", worst, 0.05)
    claims.greater("the best tanh seed stays near the baseline 1/6 (test MSE)", best, 0.14)
    claims.between("E[tanh'(Z)] is about 0.61", e1, 0.60, 0.62)
    claims.holds("the carousel block is diag(f_t) at every step", exact, "compared bit for bit")

Each call prints one line with the value, the threshold and the *headroom*: how far the value
is from failing, relative to the threshold (``(threshold - value) / |threshold|`` for
:func:`less`, the mirror image for :func:`greater`, the nearer side for :func:`between`; a
threshold of 0 counts as 1). A claim that does not hold raises :class:`ClaimFailed`, an
``AssertionError`` whose message names the claim, so a failing notebook says which sentence of
the book stopped being true, in nbval's report and in the book build's log.

:func:`on_this_machine` records a fact about the machine the notebook runs on (which kernel
PyTorch dispatches to, which layer is faster on this CPU): it prints what was measured and
whether the statement holds here, and never fails, because on another CPU it may not.

:func:`publish` hands a number to the book's results page, which pastes it with MyST-NB's
``{glue:text}`` role: the page quotes the chapter's own computation, never a copy of it.

Every claim is also a record of the standard :mod:`logging` logger ``rnnlab.claims``
(:data:`LOGGER`), at level INFO, with the claim's fields in its attribute ``claim``. The logger
has no handler and lets nothing through by default, so a learner sees only the printed line.
:func:`log_to` is the explicit hook that keeps them: it appends every claim to a file as one
JSON line (``claim``, ``kind``, ``ok``, ``value``, ``threshold``, ``headroom``, the process id
``pid``, so the lines of one execution can be grouped, and the notebook ``source``).
``python -m rnncourse.margins`` runs the chapters with that hook in their kernels and reports the
smallest headroom of each claim over many executions.
"""
from __future__ import annotations

import json
import logging
import math
import numbers
import os

__all__ = ["ClaimFailed", "less", "greater", "between", "holds", "on_this_machine", "publish",
           "LOGGER", "log_to"]

#: Where every claim goes as a logging record (no handler unless :func:`log_to` adds one).
LOGGER = logging.getLogger(__name__)


class ClaimFailed(AssertionError):
    """A claim of the book does not hold on the numbers just computed; the message names it."""


def _number(value, what: str, claim: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"claim {claim!r}: {what} must be a number, got "
                        f"{type(value).__name__}") from None
    return number


def _check_text(text) -> str:
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"a claim needs a non-empty text saying what it checks, got {text!r}")
    return text


def _headroom(distance: float, threshold: float) -> float:
    return distance / (abs(threshold) if threshold != 0 else 1.0)


def _record(kind: str, text: str, ok: bool, value=None, threshold=None, headroom=None) -> None:
    LOGGER.info("%s: %s", "holds" if ok else "DOES NOT HOLD", text, extra={"claim": {
        "claim": text, "kind": kind, "ok": ok, "value": value, "threshold": threshold,
        "headroom": headroom}})


class _JsonLines(logging.Formatter):
    """A claim record as one JSON line, with the process id and the notebook it ran in."""

    def __init__(self, source: str | None):
        super().__init__()
        self.source = source

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "claim", None) or {"claim": record.getMessage()}
        return json.dumps({**fields, "pid": record.process, "source": self.source})


def log_to(path, *, source: str | None = None) -> logging.Handler:
    """Append every claim from now on to the file ``path``, one JSON line each, naming the
    notebook ``source``; the handler (``LOGGER.removeHandler(handler); handler.close()`` stops
    it). A second call for the same file replaces the first, so a claim is written once."""
    path = os.path.abspath(os.fspath(path))
    if source is not None and not isinstance(source, str):
        raise TypeError(f"source must be a str or None, got {type(source).__name__}")
    for old in [h for h in LOGGER.handlers if getattr(h, "baseFilename", None) == path]:
        LOGGER.removeHandler(old)
        old.close()
    handler = logging.FileHandler(path, mode="a", encoding="utf-8")
    handler.setFormatter(_JsonLines(source))
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    return handler


def _compare(kind: str, text: str, value, op: str, threshold, *, fail: bool) -> bool:
    text = _check_text(text)
    v = _number(value, "the measured value", text)
    t = _number(threshold, "the threshold", text)
    if math.isnan(v):
        ok, room = False, float("nan")
    elif op == "<":
        ok, room = v < t, _headroom(t - v, t)
    else:
        ok, room = v > t, _headroom(v - t, t)
    _record(kind, text, ok, v, t, room)
    line = f"{text}: {v:.4g} {op} {t:.4g}"
    if not ok and fail:
        raise ClaimFailed(f"claim does not hold: {line} is false")
    mark = "holds" if ok else "DOES NOT HOLD"
    print(f"{mark}: {line} (headroom {room:.0%})" if ok else f"{mark} on this machine: {line}")
    return ok


# The claims print what they checked and return nothing: a claim that ends a notebook cell
# shows its line, not a stray number after it.
def less(text: str, value, threshold) -> None:
    """Assert ``value < threshold`` for the claim ``text``."""
    _compare("less", text, value, "<", threshold, fail=True)


def greater(text: str, value, threshold) -> None:
    """Assert ``value > threshold`` for the claim ``text``."""
    _compare("greater", text, value, ">", threshold, fail=True)


def between(text: str, value, low, high) -> None:
    """Assert ``low < value < high`` for the claim ``text``."""
    text = _check_text(text)
    v = _number(value, "the measured value", text)
    lo, hi = _number(low, "low", text), _number(high, "high", text)
    if not lo < hi:
        raise ValueError(f"claim {text!r}: low must be below high, got {lo} and {hi}")
    ok = lo < v < hi
    room = min(_headroom(v - lo, lo), _headroom(hi - v, hi)) if not math.isnan(v) else float("nan")
    _record("between", text, ok, v, [lo, hi], room)
    line = f"{text}: {lo:.4g} < {v:.4g} < {hi:.4g}"
    if not ok:
        raise ClaimFailed(f"claim does not hold: {line} is false")
    print(f"holds: {line} (headroom {room:.0%})")


def holds(text: str, condition, detail: str = "") -> None:
    """Assert an exact or logical fact (an identity, a bit-for-bit equality), which has no
    headroom: ``condition`` must be true. ``detail`` says what was compared."""
    text = _check_text(text)
    ok = bool(condition)
    _record("holds", text, ok)
    suffix = f" ({detail})" if detail else ""
    if not ok:
        raise ClaimFailed(f"claim does not hold: {text}{suffix}")
    print(f"holds: {text}{suffix}")


def on_this_machine(text: str, value, op: str, threshold) -> None:
    """Record a fact about this machine's hardware or libraries, ``value op threshold`` with
    ``op`` ``"<"`` or ``">"``: print what was measured and whether it holds here; never raise."""
    if op not in ("<", ">"):
        raise ValueError(f"op must be '<' or '>', got {op!r}")
    _compare("machine", text, value, op, threshold, fail=False)


#: The mime-type prefix under which MyST-NB finds glued values without showing them.
_GLUE_PREFIX = "application/papermill.record/"


def publish(name: str, value) -> None:
    """Store ``value`` (a number or a short text) under ``name`` in the notebook's output, in
    MyST-NB's glue format, without showing it: the results page pastes it from there with
    ``{glue:text}`NN_chapter.ipynb::name:.3g```. Outside a notebook it does nothing."""
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier, got {name!r}")
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)                  # a builtin, so that its repr is a plain literal
    elif not isinstance(value, str):
        try:
            if isinstance(value, bool):
                raise TypeError
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError("value must be a number or a str, got "
                            f"{type(value).__name__}") from None
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is None:
        return
    display({_GLUE_PREFIX + "text/plain": repr(value)}, raw=True,
            metadata={"scrapbook": {"name": name, "mime_prefix": _GLUE_PREFIX}})
