"""Checks of the chapter 6 exercises (applications at laptop scale).

* :func:`bigram_nats`: add-alpha smoothed bigram cross-entropy in nats per character (ex-06-2);
* :func:`temperature_probs`: ``softmax(z / tau)`` along the last axis, stable for large
  logits (ex-06-3);
* :func:`well_formed_brackets`: is a string of ``()[]`` well-formed? (ex-06-4).

Each runs the learner's function on several cases against a reference and, when the answer
matches a typical mistake, says which one. With ``seed=0`` (the default) a check runs the cases
the chapter shows; another seed draws other cases of the same kind (hidden tests).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ._core import as_number, call_student, check, compare_arrays, fail, int_between

__all__ = ["bigram_nats", "temperature_probs", "well_formed_brackets"]

_DT = torch.float64


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


# -- ex-06-2 ---------------------------------------------------------------------------------
_BIGRAM_CASES = [([0, 1, 2, 0, 1, 2, 0, 1], [0, 1, 2, 2, 0], 3, 1.0),
                 ([3, 1, 3, 1, 1, 0, 3, 1, 2], [1, 3, 1, 0, 0, 2], 5, 0.5),
                 ([0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1], 2, 0.1)]


def _bigram_cases(seed: int) -> list:
    """(train_ids, val_ids, vocab_size, alpha): the visible three for seed 0, else as many
    drawn texts, each with a validation pair never seen in training."""
    if seed == 0:
        return _BIGRAM_CASES
    rng = np.random.default_rng(seed)
    n = int_between(rng)
    cases = []
    for _ in _BIGRAM_CASES:
        V = n(2, 6)
        while True:
            train, val = rng.integers(V, size=n(8, 14)).tolist(), rng.integers(V, size=n(5, 8))
            if set(zip(val[:-1], val[1:])) - set(zip(train[:-1], train[1:])):
                break
        cases.append((train, val.tolist(), V, float(rng.uniform(0.05, 1.5))))
    return cases


@check("bigram_nats")
def bigram_nats(fn, *, seed: int = 0):
    """Check ``fn(train_ids, val_ids, vocab_size, alpha) -> float`` (nats per character);
    another ``seed`` draws other texts."""
    cases = _bigram_cases(seed)
    for train, val, V, alpha in cases:
        got = call_student(fn, torch.tensor(train), torch.tensor(val), V, alpha)
        value = as_number(got)
        if value is None:
            fail(f"return one number (a float), got {type(got).__name__}")
        ref, wrong = _bigram_variants(train, val, V, alpha)
        if math.isclose(value, ref, rel_tol=1e-5, abs_tol=1e-9):
            continue
        if not math.isfinite(value):
            fail("the result is not finite: " + next(iter(wrong)))
        for hint, candidate in wrong.items():
            if math.isfinite(candidate) and math.isclose(value, candidate, rel_tol=1e-5):
                fail(hint)
        fail(f"for vocab_size={V}, alpha={alpha} you return {value:.6g}, expected "
             f"{ref:.6g}: mean of -ln p(val[t+1] | val[t]) over t")
    return (f"add-alpha bigram cross-entropy matches on {len(cases)} cases, "
            "including pairs never seen in training")


# -- ex-06-3 ---------------------------------------------------------------------------------
def _temperature_cases(seed: int) -> list:
    """(logits, temperature): a vector at 1, a batch below 1, a batch above 1 and logits so
    large that a naive exp overflows; another seed draws other sizes, values, temperatures."""
    if seed == 0:
        g = torch.Generator().manual_seed(6)
        return [(torch.randn(7, generator=g, dtype=_DT), 1.0),
                (torch.randn(3, 5, generator=g, dtype=_DT) * 2, 0.5),
                (torch.randn(2, 4, generator=g, dtype=_DT), 3.0),
                (torch.tensor([[1000.0, 999.0, 0.0]], dtype=_DT), 1.0)]
    rng = np.random.default_rng(seed)
    n = int_between(rng)
    randn = lambda *shape: torch.from_numpy(rng.standard_normal(shape))  # noqa: E731
    K = n(3, 6)
    large = rng.uniform(750, 1200) - rng.uniform(0, 4, size=(1, K))
    large[0, n(0, K - 1)] = 0.0
    return [(randn(n(2, 10)), 1.0), (randn(n(2, 5), n(2, 7)) * 2, float(rng.uniform(0.2, 0.9))),
            (randn(n(2, 5), n(2, 7)), float(rng.uniform(1.5, 4))), (torch.from_numpy(large), 1.0)]


def _temperature_hint(arr, z, tau, what):
    """Fail with the hint of a typical mistake that gives ``arr`` (of the right shape)."""
    if not np.all(np.isfinite(arr)):
        fail(f"{what} contain NaN or inf: exp(1000) overflows; subtract each "
             "row's maximum before exp (the softmax does not change) or use torch.softmax")
    if tau != 1.0 and np.allclose(arr, torch.softmax(z * tau, -1).numpy(), atol=1e-9):
        fail(f"{what}: you multiplied the logits by the temperature; divide them")
    if tau != 1.0 and np.allclose(arr, torch.softmax(z, -1).numpy(), atol=1e-9):
        fail(f"{what} ignore the temperature: use softmax(logits / temperature)")
    if z.ndim == 2 and np.allclose(arr, torch.softmax(z / tau, 0).numpy(), atol=1e-9):
        fail(f"{what} are normalised over the wrong axis: each row (last axis) must sum to 1")
    if not np.allclose(arr.sum(axis=-1), 1.0, atol=1e-6):
        fail(f"{what} do not sum to 1 along the last axis: divide exp(z / tau) by its sum")


@check("temperature_probs")
def temperature_probs(fn, *, seed: int = 0):
    """Check ``fn(logits, temperature) -> softmax(logits / temperature)`` on the last axis;
    another ``seed`` draws other logits and temperatures."""
    for z, tau in _temperature_cases(seed):
        got = call_student(fn, z.clone(), tau)
        want = torch.softmax(z / tau, dim=-1).numpy()
        try:
            arr = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, dtype=float)
        except (TypeError, ValueError):
            fail(f"return an array of probabilities, got {type(got).__name__}")
        if arr.shape == want.shape and np.allclose(arr, want, rtol=1e-6, atol=1e-9):
            continue
        what = f"the probabilities for logits of shape {tuple(z.shape)} and temperature {tau}"
        if arr.shape == want.shape:
            _temperature_hint(arr, z, tau, what)
        compare_arrays(arr, want, what=what)
    return "softmax(logits / temperature) matches on 4 cases, large logits included"


# -- ex-06-4 ---------------------------------------------------------------------------------
#: The visible words, by kind: well-formed ones, then the kinds of malformed words.
_BRACKET_CASES = {
    "ok": ("()", "([])", "()[]", "[[()]()]", "(((([[]]))))"),
    "crossed": ("([)]", "[(])"), "underflow": (")(", "())("), "unclosed": ("((", "(()"),
    "mismatch": ("(]",), "empty": ("",), "foreign": ("(a)",),
}
_CLOSE = {"(": ")", "[": "]"}


def _balanced(rng, pairs: int) -> str:
    """A random well-formed word of ``pairs`` bracket pairs ("" for none)."""
    if pairs == 0:
        return ""
    inner, o = int(rng.integers(pairs)), "(["[int(rng.integers(2))]
    return o + _balanced(rng, inner) + _CLOSE[o] + _balanced(rng, pairs - 1 - inner)


def _malformed(rng, kind: str) -> str:
    """A random word of one malformed ``kind``, inside well-formed context where it can be."""
    p, s = _balanced(rng, int(rng.integers(3))), _balanced(rng, int(rng.integers(3)))
    o, other = ("(", "[") if rng.integers(2) else ("[", "(")
    middle = {"crossed": o + other + _CLOSE[o] + _CLOSE[other], "underflow": _CLOSE[o] + o,
              "unclosed": o + s, "mismatch": o + _CLOSE[other],
              "foreign": o + "abxyz"[int(rng.integers(5))] + _CLOSE[o]}[kind]
    return p + middle + ("" if kind == "unclosed" else s)


def _bracket_cases(seed: int) -> list:
    """(word, kind) pairs: the visible words in order for seed 0; for another seed as many
    drawn words of each kind (the empty word stays), in a shuffled order."""
    if seed == 0:
        return [(w, kind) for kind, words in _BRACKET_CASES.items() for w in words]
    rng = np.random.default_rng(seed)
    cases = [(_balanced(rng, int(rng.integers(1, 7))) if kind == "ok" else
              "" if kind == "empty" else _malformed(rng, kind), kind)
             for kind, words in _BRACKET_CASES.items() for _ in words]
    return [cases[i] for i in rng.permutation(len(cases))]


def _bracket_hint(word: str, kind: str, got: bool) -> str:
    q = f"is_well_formed({word!r}) returned {got!r}"
    if kind == "crossed":
        return (f"{q}: each kind is balanced on its own, but the brackets close in the wrong "
                "order; keep a stack of the open brackets and compare each closer with its top")
    if kind == "underflow":
        return f"{q}: a closing bracket came with nothing open (the depth went below zero)"
    if kind == "unclosed":
        return f"{q}: brackets are still open at the end; the stack must be empty"
    if kind == "mismatch":
        o, c = next((a, b) for a, b in zip(word, word[1:]) if a in _CLOSE and b in ")]"
                    and _CLOSE[a] != b)
        return (f"{q}: {c!r} does not close {o!r}; each closer must match the kind on top of "
                "the stack")
    if kind == "empty":
        return (f"{q}: in this course's language the empty word is not well-formed "
                "(a word has at least one pair)")
    if kind == "foreign":
        return f"{q}: a character that is not a bracket makes the word malformed"
    return f"{q}, expected {not got!r}"


@check("is_well_formed")
def well_formed_brackets(fn, *, seed: int = 0):
    """Check ``fn(word) -> bool`` on well-formed and malformed words over ``()[]``; another
    ``seed`` draws other words of the same kinds."""
    cases = _bracket_cases(seed)
    for word, kind in cases:
        got = call_student(fn, word)
        if not isinstance(got, (bool, np.bool_)):
            fail(f"return True or False, got {type(got).__name__} for {word!r}")
        if bool(got) != (kind == "ok"):
            fail(_bracket_hint(word, kind, bool(got)))
    return (f"all {len(cases)} words classified correctly, crossed and "
            "unclosed brackets included")
