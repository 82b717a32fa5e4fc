"""Checks of the chapter 7 exercises (attention, linear recurrences, the parallel scan).

* :func:`scan_doubling`: the recurrence ``h_t = a_t h_(t-1) + b_t`` by doubling (ex-07-1);
* :func:`ring_horizon`: the memory horizons of the fastest-forgetting unit (``r_min``) and the
  slowest (``r_max``) of a ring (ex-07-2);
* :func:`attention_weights`: additive attention weights for given queries, padding masked
  (ex-07-3);
* :func:`mingru`: a minGRU layer over a whole sequence (ex-07-4).

Each runs the learner's function on several cases against a reference and, when the answer
matches a typical mistake, says which one. With ``seed=0`` (the default) a check runs the cases
the chapter shows; another seed draws other cases of the same kind (hidden tests).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..scan import recurrence_loop
from ._core import as_float_array, call_student, check, diagnose, fail, int_between, matches

__all__ = ["scan_doubling", "ring_horizon", "attention_weights", "mingru"]

_DT = torch.float64


def _randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=_DT)


def _single_precision(got, want, what: str) -> None:
    """Fail with a precision hint when ``got`` agrees with ``want`` only to about 1e-6: an
    answer computed in float32 on the float64 cases (the general hint would call it "off by a
    constant factor of 1")."""
    if (not matches(got, want, rtol=1e-9, atol=1e-12)
            and matches(got, want, rtol=1e-4, atol=1e-6)):
        fail(f"{what} agrees with the reference only to about 1e-6, the accuracy of single "
             "precision: the cases are float64, keep their dtype (zeros_like and ones_like "
             "keep it; torch.zeros, torch.tensor and .float() give float32)")


# -- ex-07-1 ---------------------------------------------------------------------------------
_SCAN_SHAPES = [(2, 1, 3, False), (2, 6, 3, False), (1, 8, 2, False), (3, 13, 4, False),
                (2, 9, 3, True)]


def _scan_cases(seed: int) -> list:
    """``(a, b)`` pairs: the visible shapes for seed 0, other shapes for another seed; one
    sequence of one step and one complex case in both."""
    shapes = _SCAN_SHAPES
    if seed:
        n = int_between(np.random.default_rng(seed))
        shapes = [(n(1, 3), 1 if T == 1 else n(2, 40), n(1, 4), cplx) for _, T, _, cplx in shapes]
    g = torch.Generator().manual_seed(700 + seed)
    cases = []
    for B, T, N, cplx in shapes:
        a = 0.4 + 0.6 * torch.rand(B, T, N, generator=g, dtype=_DT)            # |a| in [0.4, 1]
        b = _randn(g, B, T, N)
        if cplx:
            a = torch.polar(a, 6.3 * torch.rand(B, T, N, generator=g, dtype=_DT))
            b = torch.complex(b, _randn(g, B, T, N))
        cases.append((a, b))
    return cases


def _shift(x, d, fill):
    """``x_(t-d)`` at step ``t``; ``fill`` (the identity step) where ``t < d``."""
    return torch.cat([torch.full_like(x[:, :d], fill), x[:, :-d]], dim=1)


def _doubling(a, b, mistake=""):
    """The doubling scan, right or with one typical mistake."""
    T, d = b.shape[1], 1
    while (2 * d < T) if mistake == "few" else (d < T):
        if mistake == "future":
            a_far = torch.cat([a[:, d:], torch.ones_like(a[:, :d])], dim=1)
            b_far = torch.cat([b[:, d:], torch.zeros_like(b[:, :d])], dim=1)
            b, a = b + a * b_far, a * a_far
        elif mistake == "order":
            a = a * _shift(a, d, 1.0)
            b = b + a * _shift(b, d, 0.0)
        elif mistake == "no a":
            b = b + a * _shift(b, d, 0.0)
        elif mistake == "factor":
            b, a = b + _shift(a, d, 1.0) * _shift(b, d, 0.0), a * _shift(a, d, 1.0)
        else:
            b, a = b + a * _shift(b, d, 0.0), a * _shift(a, d, 1.0)
        d *= 2
    return b


_SCAN_HINTS = {
    "few": "one round is missing: keep doubling d while d < T, which takes ceil(log2 T) rounds",
    "order": "a was updated before b in a round; b must use the factors a of the previous "
             "round (b_t + a_t b_(t-d)), then a becomes a_t a_(t-d)",
    "no a": "a is never updated: after the round with distance d, a_t must hold the product "
            "of the 2d factors a_t ... a_(t-2d+1) that carry b_(t-2d) in the next round",
    "factor": "b_(t-d) reaches step t through a_t (the product of the factors in between), "
              "not through a_(t-d)",
    "future": "the shift goes the wrong way: step t combines with step t - d (the past), "
              "not with t + d",
}


@check("scan_doubling")
def scan_doubling(fn, *, seed: int = 0):
    """Check ``fn(a, b) -> h``, ``h_t = a_t * h_(t-1) + b_t`` with ``h_(-1) = 0`` for
    ``a, b (B, T, N)`` (real or complex), against the loop; another ``seed`` draws other
    shapes."""
    cases = _scan_cases(seed)
    for a, b in cases:
        a_in, b_in = a.clone(), b.clone()
        got = call_student(fn, a_in, b_in)
        if not (torch.equal(a_in, a) and torch.equal(b_in, b)):
            fail("your function changed a or b in place; work on new tensors "
                 "(b = b + ..., not b += ...)")
        want = recurrence_loop(a, b)
        what = f"h for a and b of shape {tuple(b.shape)}{' (complex)' if b.is_complex() else ''}"
        if b.is_complex():                     # compare real and imaginary parts
            got_c = torch.as_tensor(got) if not isinstance(got, torch.Tensor) else got
            if not (isinstance(got_c, torch.Tensor) and got_c.is_complex()):
                fail(f"{what}: return a complex tensor when a and b are complex")
            got, want = torch.view_as_real(got_c.resolve_conj()), torch.view_as_real(want)
            wrong = {h: torch.view_as_real(_doubling(a, b, m)) for m, h in _SCAN_HINTS.items()}
        else:
            wrong = {h: _doubling(a, b, m) for m, h in _SCAN_HINTS.items()}
        _single_precision(got, want, what)
        diagnose(got, want, wrong, what=what, rtol=1e-9, atol=1e-12)
    return (f"h matches the loop on {len(cases)} cases, one step and complex factors included")


# -- ex-07-2 ---------------------------------------------------------------------------------
_RING_CASES = [(0.9, 0.99, 0.01), (0.5, 0.999, 0.1), (0.99, 0.9999, 1e-3)]


def _ring_cases(seed: int) -> list:
    if seed == 0:
        return _RING_CASES
    rng = np.random.default_rng(seed)
    cases = []
    for _ in _RING_CASES:
        r_min = float(rng.uniform(0.3, 0.95))
        cases.append((r_min, float(rng.uniform(r_min + 0.01, 0.9999)),
                      float(10 ** rng.uniform(-4, math.log10(0.5)))))
    return cases


def _pair_of_numbers(got):
    if isinstance(got, (str, bytes)) or not hasattr(got, "__len__") or len(got) != 2:
        fail(f"return a pair (k_fast, k_slow), got {type(got).__name__}")
    arr = as_float_array(list(got))
    if arr is None or arr.shape != (2,):
        fail("return a pair of two numbers (k_fast, k_slow)")
    return arr


@check("ring_horizon")
def ring_horizon(fn, *, seed: int = 0):
    """Check ``fn(r_min, r_max, eps) -> (k_fast, k_slow)``: the lags at which ``r**k = eps``
    for the fastest-forgetting (``r_min``) and slowest (``r_max``) unit; another ``seed`` draws
    other rings."""
    cases = _ring_cases(seed)
    for r_min, r_max, eps in cases:
        got = _pair_of_numbers(call_student(fn, r_min, r_max, eps))
        want = np.array([math.log(eps) / math.log(r_min), math.log(eps) / math.log(r_max)])
        diagnose(got, want, {
            "the pair is in the wrong order: the fastest unit (r_min) forgets first, so its "
            "horizon comes first": want[::-1],
            "k solves r**k = eps, so k = ln(eps) / ln(r), not ln(r) / ln(eps)": 1 / want,
            "1 - r approximates -ln(r) only close to 1: use the exact logarithm, "
            "k = ln(eps) / ln(r)": np.array([-math.log(eps) / (1 - r) for r in (r_min, r_max)]),
            "the gradient at lag k is r**k, not its square r**(2k): k = ln(eps) / ln(r)":
                want / 2,
            "return the exact lag, a real number; do not round it": np.ceil(want),
        }, what=f"(k_fast, k_slow) for r_min={r_min:.4g}, r_max={r_max:.4g}, eps={eps:.3g}",
            rtol=1e-9)
    return f"the horizons match on {len(cases)} rings"


# -- ex-07-3 ---------------------------------------------------------------------------------
def _attention_cases(seed: int) -> list:
    """``(s, keys, W_s, W_h, v, mask)``: queries and keys of the same size (so that a
    dot-product answer can be told apart), padding in some rows."""
    sizes = [(3, 6, 4, 5), (2, 4, 3, 2), (1, 1, 2, 3)]
    if seed:
        n = int_between(np.random.default_rng(seed))
        sizes = [(n(2, 4), n(3, 9), n(2, 5), n(2, 6)), (n(1, 3), n(2, 6), n(2, 4), n(2, 4)),
                 (1, 1, n(2, 4), n(2, 4))]
    g = torch.Generator().manual_seed(710 + seed)
    cases = []
    for k, (B, S, H, A) in enumerate(sizes):
        lengths = torch.randint(1, S + 1, (B,), generator=g) if k == 0 else torch.full((B,), S)
        lengths[0] = max(1, S - 2) if k == 0 else S              # padding in the first case
        mask = torch.arange(S) < lengths.unsqueeze(1)             # (B, S)
        cases.append((_randn(g, B, H), _randn(g, B, S, H), _randn(g, A, H), _randn(g, A, H),
                      _randn(g, A), mask))
    return cases


def _scores(s, keys, W_s, W_h, v, variant=""):
    inside = (s @ W_s.T).unsqueeze(1) + keys @ W_h.T              # (B, S, A)
    if variant == "no query":
        inside = keys @ W_h.T
    if variant == "dot":
        return (keys * s.unsqueeze(1)).sum(-1)                    # (B, S)
    return (inside if variant == "no tanh" else torch.tanh(inside)) @ v


def _weights(s, keys, W_s, W_h, v, mask, variant=""):
    e = _scores(s, keys, W_s, W_h, v, variant)                    # (B, S)
    if variant == "no mask":
        return torch.softmax(e, 1)
    e = e.masked_fill(~mask, -math.inf)
    if variant == "batch axis":
        return torch.nan_to_num(torch.softmax(e, 0))
    if variant == "after":
        return torch.softmax(_scores(s, keys, W_s, W_h, v), 1) * mask
    return torch.softmax(e, 1)


_ATTENTION_HINTS = {
    "no mask": "padding positions got weight: set their scores to -inf before the softmax "
               "(scores.masked_fill(~mask, float('-inf')))",
    "after": "the padding weights were set to zero after the softmax, so the rows no longer "
             "sum to 1: mask the scores before the softmax",
    "batch axis": "the softmax runs over the batch; it must run over the positions of each "
                  "sequence (dim=1), so each row sums to 1",
    "no tanh": "the tanh is missing: the score is v . tanh(W_s s + W_h h_i)",
    "dot": "this is dot-product attention, s . h_i; additive attention scores each position "
           "with v . tanh(W_s s + W_h h_i)",
    "no query": "the scores do not depend on the query: W_s s belongs inside the tanh, next "
                "to W_h h_i",
}


@check("attention_weights")
def attention_weights(fn, *, seed: int = 0):
    """Check ``fn(s, keys, W_s, W_h, v, mask) -> alpha (B, S)``: ``alpha = softmax over the
    real positions of v . tanh(W_s s + W_h h_i)``; ``s (B, H)``, ``keys (B, S, H)``,
    ``W_s, W_h (A, H)``, ``v (A,)``, ``mask (B, S)`` bool; another ``seed`` draws other sizes."""
    cases = _attention_cases(seed)
    for s, keys, W_s, W_h, v, mask in cases:
        got = call_student(fn, s.clone(), keys.clone(), W_s.clone(), W_h.clone(), v.clone(),
                           mask.clone())
        want = _weights(s, keys, W_s, W_h, v, mask)
        wrong = {h: _weights(s, keys, W_s, W_h, v, mask, m) for m, h in _ATTENTION_HINTS.items()}
        what = (f"alpha for {s.shape[0]} queries over {keys.shape[1]} positions "
                f"({int((~mask).sum())} of them padding)")
        _single_precision(got, want, what)
        diagnose(got, want, wrong, what=what, rtol=1e-9, atol=1e-12)
    return (f"the weights match on {len(cases)} cases; padding gets weight 0 and every row "
            "sums to 1")


# -- ex-07-4 ---------------------------------------------------------------------------------
def _mingru_cases(seed: int) -> list:
    sizes = [(2, 7, 3, 4), (1, 1, 2, 3), (3, 20, 1, 2)]
    if seed:
        n = int_between(np.random.default_rng(seed))
        sizes = [(n(1, 3), n(2, 25), n(1, 4), n(1, 5)), (1, 1, n(1, 3), n(1, 4)),
                 (n(1, 3), n(2, 25), n(1, 4), n(1, 5))]
    g = torch.Generator().manual_seed(720 + seed)
    return [(_randn(g, B, T, D), _randn(g, 2 * H, D), _randn(g, 2 * H))
            for B, T, D, H in sizes]


def _mingru(x, W_x, b, variant=""):
    a = x @ W_x.T + b                                             # (B, T, 2H)
    a_z, a_n = a.chunk(2, dim=-1)
    if variant == "rows":
        a_z, a_n = a_n, a_z
    z = torch.sigmoid(a_z)
    n = torch.tanh(a_n) if variant == "tanh" else a_n
    if variant == "feng":
        return recurrence_loop(1 - z, z * n)
    if variant == "no 1-z":
        return recurrence_loop(z, n)
    return recurrence_loop(z, (1 - z) * n)                        # h = z h_prev + (1 - z) n


_MINGRU_HINTS = {
    "feng": "z weights the old state in this course (chapter 4): h = (1 - z) * n + z * h_prev; "
            "Feng et al. write the same cell with z and 1 - z swapped",
    "tanh": "the minGRU's candidate is linear, n = W_xn x_t + b_n: drop the tanh",
    "rows": "the rows of W_x and b are z first, then n",
    "no 1-z": "the candidate enters with the weight 1 - z: h = (1 - z) * n + z * h_prev",
}


@check("mingru")
def mingru(fn, *, seed: int = 0):
    """Check ``fn(x, W_x, b) -> h (B, T, H)``: the minGRU from ``h_(-1) = 0``, with
    ``z = sigmoid(W_xz x_t + b_z)``, ``n = W_xn x_t + b_n`` and ``h = (1 - z) n + z h_prev``;
    rows of ``W_x (2H, D)`` and ``b (2H,)``: z, then n. Another ``seed`` draws other sizes."""
    cases = _mingru_cases(seed)
    for x, W_x, b in cases:
        got = call_student(fn, x.clone(), W_x.clone(), b.clone())
        want = _mingru(x, W_x, b)
        wrong = {h: _mingru(x, W_x, b, m) for m, h in _MINGRU_HINTS.items()}
        arr = as_float_array(got)
        if arr is not None and arr.shape == tuple(want.shape[::2]):
            fail(f"return h at every step, shape {tuple(want.shape)}, not only the last state")
        _single_precision(got, want, f"h for x of shape {tuple(x.shape)}")
        diagnose(got, want, wrong, what=f"h for x of shape {tuple(x.shape)}", rtol=1e-9,
                 atol=1e-12)
    return f"h matches at every step on {len(cases)} cases, a one-step sequence included"
