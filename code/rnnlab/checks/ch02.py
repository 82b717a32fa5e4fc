"""Checks of the chapter 2 exercises (backpropagation through time).

* :func:`bptt_step`: one backward step of a tanh RNN (exercise ex-02-2);
* :func:`bptt_cache_bytes`: the memory full BPTT keeps (exercise ex-02-3);
* :func:`relu_bptt`: full BPTT for a ReLU RNN (exercise ex-02-4).

Each runs the learner's function on several cases (one sequence, one time step, a zero and a
random initial state) against :mod:`rnnlab.numpy_rnn` and names the first wrong time step
and the likely mistake. With ``seed=0`` (the default) a check runs the cases the chapter shows;
another seed draws other cases of the same kind (hidden tests for an autograder).
"""
from __future__ import annotations

import numpy as np

from .. import numpy_rnn as nr
from ._core import call_student, check, diagnose, fail, int_between

__all__ = ["bptt_step", "bptt_cache_bytes", "relu_bptt"]


def _case(B, T, D, H, O, *, seed, h0_zero, activation="tanh", scale=1.5):  # noqa: E741
    rng = np.random.default_rng(seed)
    params = nr.init_params(D, H, O, seed=seed)
    params["W_hh"] = params["W_hh"] * scale
    x = rng.normal(size=(B, T, D))
    h0 = np.zeros((B, H)) if h0_zero else rng.normal(size=(B, H))
    y, cache = nr.forward(params, x, h0, activation=activation)
    _, dy = nr.mse_loss(y, rng.normal(size=y.shape))
    return params, cache, dy


def _drawn(cases: list, seed: int) -> list:
    """``cases`` (keyword dicts of :func:`_case`) for seed 0; for another seed as many cases
    with other sizes and data, each keeping what its visible case tests (B = 1, T = 1, h0 = 0)."""
    if seed == 0:
        return cases
    n = int_between(np.random.default_rng(seed))
    return [dict(B=1 if c["B"] == 1 else n(2, 4), T=1 if c["T"] == 1 else n(3, 9), D=n(1, 4),
                 H=n(2, 6), seed=n(0, 2**31), h0_zero=c["h0_zero"]) for c in cases]


# -- ex-02-2 ---------------------------------------------------------------------------------
_STEP_CASES = [dict(B=3, T=6, D=2, H=4, seed=0, h0_zero=True),
               dict(B=1, T=5, D=3, H=5, seed=1, h0_zero=False),
               dict(B=2, T=1, D=2, H=3, seed=2, h0_zero=False)]


def _check_step(out, dh_t, h_t, h_prev, x_t, W_hh, where):
    """Compare one step's four gradients with the reference, typical mistakes first."""
    da = dh_t * (1 - h_t ** 2)                              # (B, H)
    missing = "the tanh derivative (1 - h_t**2) is missing"
    diagnose(out[3], da @ W_hh, {
        missing: dh_t @ W_hh,
        "the tanh derivative is taken at h_prev; it belongs to h_t = tanh(a_t)":
            dh_t * (1 - h_prev ** 2) @ W_hh,
        "W_hh is transposed: dL/dh_prev = dL/da_t @ W_hh for row vectors": da @ W_hh.T,
    }, what=f"dh_prev {where}")
    diagnose(out[1], da.T @ h_prev, {
        missing: dh_t.T @ h_prev,
        "it is transposed: dW_hh_t has shape (H, H) with [i, j] = sum_b da[b, i] * h_prev[b, j]":
            h_prev.T @ da,
        "it multiplies by h_t; W_hh acts on h_prev": da.T @ h_t,
    }, what=f"dW_hh_t {where}")
    diagnose(out[0], da.T @ x_t, {missing: dh_t.T @ x_t}, what=f"dW_xh_t {where}")
    diagnose(out[2], da.sum(axis=0), {
        missing: dh_t.sum(axis=0),
        "sum over the batch: b_h is shared by every sequence": da,
    }, what=f"db_h_t {where}")


@check("bptt_step")
def bptt_step(fn, *, seed: int = 0) -> object:
    """Check ``fn(dh_t, h_t, h_prev, x_t, W_hh) -> (dW_xh_t, dW_hh_t, db_h_t, dh_prev)``.

    ``dh_t`` is the total dL/dh_t (B, H); the step returns this step's share of the weight
    gradients and dL/dh_{t-1} through this step. The check feeds the exact ``dh_t`` at every
    step, from t = T down to 1, and names the first step that comes back wrong. Another
    ``seed`` draws other sequences.
    """
    cases = _drawn(_STEP_CASES, seed)
    for case in cases:
        params, cache, dy = _case(O=2, **case)
        _, dh = nr.backward(params, cache, dy, return_dh=True)
        x, h, W_hh = cache["x"], cache["h"], params["W_hh"]
        T = x.shape[1]
        for t in range(T, 0, -1):   # chapter's t: h[:, t] is h_t, x[:, t-1] is x_t
            dh_t, h_t, h_prev, x_t = dh[:, t - 1], h[:, t], h[:, t - 1], x[:, t - 1]
            out = call_student(fn, dh_t.copy(), h_t.copy(), h_prev.copy(), x_t.copy(),
                               W_hh.copy())
            if not isinstance(out, (tuple, list)) or len(out) != 4:
                fail("return a tuple of 4 arrays (dW_xh_t, dW_hh_t, db_h_t, dh_prev), "
                     f"got {type(out).__name__}")
            where = f"at step t={t} (B={x.shape[0]}, T={T}; BPTT visits t={T} first)"
            _check_step(out, dh_t, h_t, h_prev, x_t, W_hh, where)
    return (f"{len(cases)} sequences (incl. B=1, T=1, zero and random h0), "
            "every step equals the reference")


# -- ex-02-3 ---------------------------------------------------------------------------------
_MEM_CASES = [(4, 10, 3, 5, 8), (1, 1, 1, 1, 8), (2, 50, 7, 16, 4), (8, 3, 2, 32, 8)]


def _mem_cases(seed: int) -> list:
    """(B, T, D, H, itemsize) of the visible shapes for seed 0; for another seed other sizes,
    the ones (the one-number case) and the itemsizes kept."""
    if seed == 0:
        return _MEM_CASES
    n = int_between(np.random.default_rng(seed))
    return [(*(1 if d == 1 else n(2, 64) for d in dims), size) for *dims, size in _MEM_CASES]


@check("bptt_cache_bytes")
def bptt_cache_bytes(fn, *, seed: int = 0) -> object:
    """Check ``fn(B, T, D, H, itemsize=8)``: the bytes of the cache :func:`forward` keeps
    (``x``, ``a`` and ``h``), measured on real caches in float64 and float32. Another ``seed``
    draws other shapes."""
    cases = _mem_cases(seed)
    for B, T, D, H, size in cases:
        dtype = np.float64 if size == 8 else np.float32
        params = nr.init_params(D, H, 1, dtype=dtype)
        _, cache = nr.forward(params, np.zeros((B, T, D), dtype))
        want = nr.cache_nbytes(cache)
        got = call_student(fn, B, T, D, H, itemsize=size)
        if not isinstance(got, (int, np.integer)) or isinstance(got, bool):
            fail(f"return an int number of bytes, got {type(got).__name__} {got!r:.40}")
        n_numbers = want // size
        wrong = {
            size * B * (T * D + 2 * T * H): "h holds T+1 states: h_0 is kept too",
            size * B * (2 * T + 1) * H: "the cache keeps the inputs x as well (needed for dW_xh)",
            size * B * (T * D + (T + 1) * H): "the cache keeps the pre-activations a as well",
            n_numbers: "that is the number of values; multiply by itemsize for bytes",
            want // B: "every sequence of the batch has its own states: multiply by B",
        }
        if got != want:
            hint = wrong.get(int(got), f"expected {want} bytes, got {got}")
            fail(f"for B={B}, T={T}, D={D}, H={H}, itemsize={size}: {hint}")
    return f"{len(cases)} shapes in float64 and float32 equal the measured cache"


# -- ex-02-4 ---------------------------------------------------------------------------------
_RELU_CASES = [dict(B=3, T=7, D=2, H=4, seed=3, h0_zero=False),
               dict(B=1, T=9, D=3, H=5, seed=4, h0_zero=True),
               dict(B=2, T=1, D=2, H=3, seed=5, h0_zero=False)]


@check("relu_bptt")
def relu_bptt(fn, *, seed: int = 0) -> object:
    """Check ``fn(params, cache, dy) -> dict`` with the gradients ``"W_xh"``, ``"W_hh"``,
    ``"b_h"`` of a ReLU RNN (``cache`` from ``forward(..., activation="relu")``). Another
    ``seed`` draws other sequences."""
    cases = _drawn(_RELU_CASES, seed)
    for case in cases:
        params, cache, dy = _case(O=2, activation="relu", **case)
        want = nr.backward(params, cache, dy)
        got = call_student(fn, {k: v.copy() for k, v in params.items()},
                           {k: (v.copy() if isinstance(v, np.ndarray) else v)
                            for k, v in cache.items()}, dy.copy())
        if not isinstance(got, dict) or any(k not in got for k in ("W_xh", "W_hh", "b_h")):
            fail("return a dict with keys 'W_xh', 'W_hh', 'b_h', got "
                 f"{sorted(got) if isinstance(got, dict) else type(got).__name__}")
        wrong = {
            "this is the tanh derivative 1 - h**2; ReLU's is 1 where a_t > 0, else 0":
                nr.backward(params, {**cache, "activation": "tanh"}, dy),
            "the gradient stops at each step: add dL/da_{t+1} @ W_hh to dL/dh_t":
                nr.backward(params, cache, dy, truncate=1),
            "W_hh is transposed in the recursion (dL/dh_{t-1} = dL/da_t @ W_hh)":
                nr.backward({**params, "W_hh": params["W_hh"].T}, cache, dy),
        }
        where = f"(B={case['B']}, T={case['T']})"
        for key in ("W_hh", "W_xh", "b_h"):
            diagnose(got[key], want[key], {h: w[key] for h, w in wrong.items()},
                     what=f"{key} {where}")
    return f"{len(cases)} sequences (incl. B=1, T=1) equal the reference"
