"""Checks of the chapter 6 exercises (applications at laptop scale).

* :func:`bigram_nats`: add-alpha smoothed bigram cross-entropy in nats per character (ex-06-2);
* :func:`temperature_probs`: ``softmax(z / tau)`` along the last axis, stable for large
  logits (ex-06-3);
* :func:`well_formed_brackets`: is a string of ``()[]`` well-formed? (ex-06-4).

Each runs the learner's function on several cases against a reference and, when the answer
matches a typical mistake, says which one.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ._core import NotAttempted, call_student, compare_arrays, fail, passed, todo

__all__ = ["bigram_nats", "temperature_probs", "well_formed_brackets"]


def _number(x):
    try:
        return float(x.item() if hasattr(x, "item") else x)
    except (TypeError, ValueError):
        return None


def _bigram_variants(train, val, V, alpha):
    """The reference and the values of typical mistakes, for one case."""
    tr, va = np.asarray(train), np.asarray(val)
    n = np.zeros((V, V))
    np.add.at(n, (tr[:-1], tr[1:]), 1.0)
    prev, nxt = va[:-1], va[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        p = (n + alpha) / (n + alpha).sum(axis=1, keepdims=True)
        ref = -np.mean(np.log(p[prev, nxt]))
        unsmoothed = -np.mean(np.log((n / n.sum(axis=1, keepdims=True))[prev, nxt]))
        col = (n + alpha) / (n + alpha).sum(axis=0, keepdims=True)
        uni = np.bincount(tr, minlength=V) + alpha
        bad_denominator = (n + alpha) / (n.sum(axis=1, keepdims=True) + alpha)
    wrong = {
        "a pair of the validation text never seen in training got probability 0 (log 0 = -inf): "
        "add alpha to every count before normalising (add-alpha smoothing)": unsmoothed,
        "it is in bits: use the natural logarithm, so the loss is in nats": ref / math.log(2),
        "it is a sum, not a mean: divide by the number of predicted characters, len(val_ids) - 1":
            ref * (len(va) - 1),
        "you normalised the counts over the previous character; p(next | prev) divides "
        "n(prev, next) + alpha by the sum of row prev: n(prev) + alpha V":
            -np.mean(np.log(col[prev, nxt])),
        "this is the unigram cross-entropy: condition on the previous character": -np.mean(
            np.log((uni / uni.sum())[nxt])),
        "the smoothed denominator needs alpha once per possible next character: n(prev) + alpha V, "
        "not n(prev) + alpha": -np.mean(np.log(bad_denominator[prev, nxt])),
    }
    return ref, wrong


def bigram_nats(fn):
    """Check ``fn(train_ids, val_ids, vocab_size, alpha) -> float`` (nats per character)."""
    name = "bigram_nats"
    cases = [([0, 1, 2, 0, 1, 2, 0, 1], [0, 1, 2, 2, 0], 3, 1.0),
             ([3, 1, 3, 1, 1, 0, 3, 1, 2], [1, 3, 1, 0, 0, 2], 5, 0.5),
             ([0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1], 2, 0.1)]
    for train, val, V, alpha in cases:
        try:
            got = call_student(fn, torch.tensor(train), torch.tensor(val), V, alpha)
        except NotAttempted:
            return todo(name, "bigram_nats")
        value = _number(got)
        if value is None:
            fail(name, f"return one number (a float), got {type(got).__name__}")
        ref, wrong = _bigram_variants(train, val, V, alpha)
        if math.isclose(value, ref, rel_tol=1e-5, abs_tol=1e-9):
            continue
        if not math.isfinite(value):
            fail(name, "the result is not finite: " + next(iter(wrong)))
        for hint, candidate in wrong.items():
            if math.isfinite(candidate) and math.isclose(value, candidate, rel_tol=1e-5):
                fail(name, hint)
        fail(name, f"for vocab_size={V}, alpha={alpha} you return {value:.6g}, expected "
                   f"{ref:.6g}: mean of -ln p(val[t+1] | val[t]) over t")
    return passed(name, f"add-alpha bigram cross-entropy matches on {len(cases)} cases, "
                        "including pairs never seen in training")


def temperature_probs(fn):
    """Check ``fn(logits, temperature) -> softmax(logits / temperature)`` on the last axis."""
    name = "temperature_probs"
    g = torch.Generator().manual_seed(6)
    cases = [(torch.randn(7, generator=g, dtype=torch.float64), 1.0),
             (torch.randn(3, 5, generator=g, dtype=torch.float64) * 2, 0.5),
             (torch.randn(2, 4, generator=g, dtype=torch.float64), 3.0),
             (torch.tensor([[1000.0, 999.0, 0.0]], dtype=torch.float64), 1.0)]
    for z, tau in cases:
        try:
            got = call_student(fn, z.clone(), tau)
        except NotAttempted:
            return todo(name, "temperature_probs")
        want = torch.softmax(z / tau, dim=-1).numpy()
        try:
            arr = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError):
            fail(name, f"return an array of probabilities, got {type(got).__name__}")
        if arr.shape == want.shape and np.allclose(arr, want, rtol=1e-6, atol=1e-9):
            continue
        what = f"the probabilities for logits of shape {tuple(z.shape)} and temperature {tau}"
        if arr.shape == want.shape:
            if not np.all(np.isfinite(arr)):
                fail(name, f"{what} contain NaN or inf: exp(1000) overflows; subtract each "
                           "row's maximum before exp (the softmax does not change) or use "
                           "torch.softmax")
            if tau != 1.0 and np.allclose(arr, torch.softmax(z * tau, -1).numpy(), atol=1e-9):
                fail(name, f"{what}: you multiplied the logits by the temperature; divide them")
            if tau != 1.0 and np.allclose(arr, torch.softmax(z, -1).numpy(), atol=1e-9):
                fail(name, f"{what} ignore the temperature: use softmax(logits / temperature)")
            if z.ndim == 2 and np.allclose(arr, torch.softmax(z / tau, 0).numpy(), atol=1e-9):
                fail(name, f"{what} are normalised over the wrong axis: each row (last axis) "
                           "must sum to 1")
            if not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-6):
                fail(name, f"{what} do not sum to 1 along the last axis: divide exp(z / tau) "
                           "by its sum")
        compare_arrays(name, arr, want, what=what)
    return passed(name, "softmax(logits / temperature) matches on 4 cases, large logits included")


_BRACKET_CASES = [
    ("()", True), ("([])", True), ("()[]", True), ("[[()]()]", True), ("(((([[]]))))", True),
    ("([)]", False), ("[(])", False), (")(", False), ("())(", False), ("((", False),
    ("(()", False), ("(]", False), ("", False), ("(a)", False),
]


def _bracket_hint(word: str, got: bool) -> str:
    q = f"is_well_formed({word!r}) returned {got!r}"
    if word in ("([)]", "[(])"):
        return (f"{q}: each kind is balanced on its own, but the brackets close in the wrong "
                "order; keep a stack of the open brackets and compare each closer with its top")
    if word in (")(", "())("):
        return f"{q}: a closing bracket came with nothing open (the depth went below zero)"
    if word in ("((", "(()"):
        return f"{q}: brackets are still open at the end; the stack must be empty"
    if word == "(]":
        return f"{q}: ']' does not close '('; each closer must match the kind on top of the stack"
    if word == "":
        return (f"{q}: in this course's language the empty word is not well-formed "
                "(a word has at least one pair)")
    if word == "(a)":
        return f"{q}: a character that is not a bracket makes the word malformed"
    return f"{q}, expected {not got!r}"


def well_formed_brackets(fn):
    """Check ``fn(word) -> bool`` on well-formed and malformed words over ``()[]``."""
    name = "well_formed_brackets"
    for word, want in _BRACKET_CASES:
        try:
            got = call_student(fn, word)
        except NotAttempted:
            return todo(name, "is_well_formed")
        if not isinstance(got, (bool, np.bool_)):
            fail(name, f"return True or False, got {type(got).__name__} for {word!r}")
        if bool(got) != want:
            fail(name, _bracket_hint(word, bool(got)))
    return passed(name, f"all {len(_BRACKET_CASES)} words classified correctly, crossed and "
                        "unclosed brackets included")
