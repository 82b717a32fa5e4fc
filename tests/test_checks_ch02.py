"""Unit tests of rnnlab.checks.ch02: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import itertools

import numpy as np
import pytest
from checkcases import HIDDEN, SEEDS, Protocol, assert_hints

from rnnlab.checks import CheckFailed, ch02

pytestmark = pytest.mark.usefixtures("lenient")


# -- the references ---------------------------------------------------------------------------
def step_ref(dh_t, h_t, h_prev, x_t, W_hh):
    da = dh_t * (1 - h_t ** 2)
    return da.T @ x_t, da.T @ h_prev, da.sum(axis=0), da @ W_hh


def mem_ref(B, T, D, H, itemsize=8):
    return itemsize * B * (T * D + T * H + (T + 1) * H)


def _relu_variant(deriv=None, recur=True, transpose=False):
    """BPTT of a ReLU RNN by hand, with one typical mistake switched on (none by default)."""
    def fn(params, cache, dy):
        a, h, x = cache["a"], cache["h"], cache["x"]
        W = params["W_hh"].T if transpose else params["W_hh"]
        dh_y = dy @ params["W_hy"]
        da = np.zeros_like(a)
        dh_next = np.zeros_like(a[:, 0])
        for t in reversed(range(a.shape[1])):
            d = deriv(a[:, t], h[:, t + 1]) if deriv else (a[:, t] > 0)
            da[:, t] = (dh_y[:, t] + (dh_next if recur else 0)) * d
            dh_next = da[:, t] @ W
        return {"W_xh": np.einsum("bth,btd->hd", da, x),
                "W_hh": np.einsum("bth,btk->hk", da, h[:, :-1]), "b_h": da.sum(axis=(0, 1))}
    return fn


relu_ref = _relu_variant()
PROTOCOL = [
    Protocol(ch02.bptt_step, step_ref),
    Protocol(ch02.bptt_cache_bytes, mem_ref),
    Protocol(ch02.relu_bptt, relu_ref),
]


# -- ex-02-2: one backward step ---------------------------------------------------------------
def _step_variant(**change):
    def fn(dh_t, h_t, h_prev, x_t, W_hh):
        out = list(step_ref(dh_t, h_t, h_prev, x_t, W_hh))
        da = dh_t * (1 - h_t ** 2)
        for i, f in change.items():
            out[int(i[1:])] = f(dh_t, h_t, h_prev, x_t, W_hh, da)
        return tuple(out)
    return fn


FIRST = r"at step t=(\d+) \(B=\d+, T=\1;"        # the first step BPTT visits, t = T
STEP_WRONG = {
    "no tanh derivative in dh_prev": (_step_variant(o3=lambda dh, h, hp, x, W, da: dh @ W),
                                      rf"dh_prev {FIRST}.*tanh derivative \(1 - h_t\*\*2\) is "
                                      "missing"),
    "derivative at h_prev": (_step_variant(o3=lambda dh, h, hp, x, W, da: dh * (1 - hp ** 2) @ W),
                             r"dh_prev .*taken at h_prev"),
    "W_hh transposed": (_step_variant(o3=lambda dh, h, hp, x, W, da: da @ W.T),
                        r"dh_prev .*W_hh is transposed"),
    "dW_hh transposed": (_step_variant(o1=lambda dh, h, hp, x, W, da: hp.T @ da),
                         rf"dW_hh_t {FIRST}.*transposed"),
    "dW_hh with h_t": (_step_variant(o1=lambda dh, h, hp, x, W, da: da.T @ h),
                       rf"dW_hh_t {FIRST}.*multiplies by h_t"),
    "dW_xh without derivative": (_step_variant(o0=lambda dh, h, hp, x, W, da: dh.T @ x),
                                 r"dW_xh_t .*tanh derivative"),
    "db not summed": (_step_variant(o2=lambda dh, h, hp, x, W, da: da),
                      r"db_h_t .*sum over the batch"),
    "db averaged": (_step_variant(o2=lambda dh, h, hp, x, W, da: da.mean(axis=0)),
                    r"db_h_t .*constant factor of 0\.\d+ "),
    "sign flipped": (_step_variant(o3=lambda dh, h, hp, x, W, da: -(da @ W)),
                     r"dh_prev .*constant factor of -1 "),
    "noise": (_step_variant(o0=lambda dh, h, hp, x, W, da: da.T @ x + 1e-3),
              rf"dW_xh_t {FIRST}.*differs from the reference"),
    "wrong arity": (lambda *a: step_ref(*a)[:3], r"tuple of 4 arrays"),
}


def test_bptt_step_wrong_answers_get_their_hint(subtests):
    assert_hints(subtests, ch02.bptt_step, STEP_WRONG)


def test_bptt_step_names_first_wrong_step(subtests):
    """A step that goes wrong only at h_prev = 0 (t=1 of the first case) is reported there."""
    def fn(dh_t, h_t, h_prev, x_t, W_hh):
        out = step_ref(dh_t, h_t, h_prev, x_t, W_hh)
        return out if np.any(h_prev) else (*out[:3], 0 * out[3])
    for seed in SEEDS:
        with subtests.test(seed=seed):
            first = ch02._drawn(ch02._STEP_CASES, seed)[0]
            with pytest.raises(CheckFailed,
                               match=rf"dh_prev at step t=1 \(B={first['B']}, T={first['T']}; "
                                     rf"BPTT visits t={first['T']} first\)"):
                ch02.bptt_step(fn, seed=seed)


def test_hidden_sequences_keep_what_the_visible_ones_test(subtests):
    # seed 0 draws the visible cases themselves: nothing to compare
    for seed, (name, cases) in itertools.product(
            HIDDEN, [("step", ch02._STEP_CASES), ("relu", ch02._RELU_CASES)]):
        with subtests.test(seed=seed, cases=name):
            drawn = ch02._drawn(cases, seed)
            assert [(c["B"] == 1, c["T"] == 1, c["h0_zero"]) for c in drawn] == \
                [(c["B"] == 1, c["T"] == 1, c["h0_zero"]) for c in cases]


# -- ex-02-3: memory ----------------------------------------------------------------------------
MEM_WRONG = {
    "no h0": (lambda B, T, D, H, itemsize=8: itemsize * B * (T * D + 2 * T * H),
              r"h_0 is kept too"),
    "no x": (lambda B, T, D, H, itemsize=8: itemsize * B * (2 * T + 1) * H, r"inputs x as well"),
    "no a": (lambda B, T, D, H, itemsize=8: itemsize * B * (T * D + (T + 1) * H),
             r"pre-activations a"),
    "numbers": (lambda B, T, D, H, itemsize=8: B * (T * D + T * H + (T + 1) * H),
                r"multiply by itemsize"),
    "no batch": (lambda B, T, D, H, itemsize=8: itemsize * (T * D + T * H + (T + 1) * H),
                 r"multiply by B"),
    "ignores itemsize": (lambda B, T, D, H, itemsize=8: mem_ref(B, T, D, H),
                         r"itemsize=4: expected \d+ bytes, got \d+$"),
    "float": (lambda *a, **k: float(mem_ref(*a, **k)), r"return an int"),
}


def test_bptt_cache_bytes_wrong_answers_get_their_hint(subtests):
    assert_hints(subtests, ch02.bptt_cache_bytes, MEM_WRONG)


# -- ex-02-4: ReLU BPTT ------------------------------------------------------------------------
RELU_WRONG = {
    "tanh derivative": (_relu_variant(deriv=lambda a, h: 1 - h ** 2), r"W_hh .*tanh derivative"),
    "no recursion": (_relu_variant(recur=False), r"gradient stops at each step"),
    "transposed": (_relu_variant(transpose=True), r"W_hh is transposed in the recursion"),
    "derivative of a shifted": (_relu_variant(deriv=lambda a, h: (a > 0.1)),
                                r"differs from the reference"),
    "missing key": (lambda p, c, d: {"W_hh": relu_ref(p, c, d)["W_hh"]},
                    r"keys 'W_xh', 'W_hh', 'b_h'"),
}


def test_relu_bptt_wrong_answers_get_their_hint(subtests):
    assert_hints(subtests, ch02.relu_bptt, RELU_WRONG)


def test_relu_cases_have_dead_units_so_the_derivative_matters(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            pre = [ch02._case(O=2, activation="relu", **case)[1]["a"]
                   for case in ch02._drawn(ch02._RELU_CASES, seed)]
            assert np.mean(np.concatenate([a.ravel() for a in pre]) <= 0) > 0.1
