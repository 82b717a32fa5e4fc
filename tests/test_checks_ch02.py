"""Unit tests of rnnlab.checks.ch02: each check passes the reference, says TODO for an
unfilled starter, and gives each typical wrong answer its own hint."""
import numpy as np
import pytest

from rnnlab import numpy_rnn as nr
from rnnlab.checks import CheckFailed, ch02


# -- ex-02-2: one backward step ---------------------------------------------------------------
def step_ref(dh_t, h_t, h_prev, x_t, W_hh):
    da = dh_t * (1 - h_t ** 2)
    return da.T @ x_t, da.T @ h_prev, da.sum(axis=0), da @ W_hh


def step_todo(dh_t, h_t, h_prev, x_t, W_hh):
    raise NotImplementedError("fill in")


def _step_variant(**change):
    def fn(dh_t, h_t, h_prev, x_t, W_hh):
        out = list(step_ref(dh_t, h_t, h_prev, x_t, W_hh))
        da = dh_t * (1 - h_t ** 2)
        for i, f in change.items():
            out[int(i[1:])] = f(dh_t, h_t, h_prev, x_t, W_hh, da)
        return tuple(out)
    return fn


STEP_WRONG = {
    "no tanh derivative in dh_prev": (_step_variant(o3=lambda dh, h, hp, x, W, da: dh @ W),
                                      r"dh_prev at step t=6 .*tanh derivative \(1 - h_t\*\*2\) is missing"),
    "derivative at h_prev": (_step_variant(o3=lambda dh, h, hp, x, W, da: dh * (1 - hp ** 2) @ W),
                             r"dh_prev .*taken at h_prev"),
    "W_hh transposed": (_step_variant(o3=lambda dh, h, hp, x, W, da: da @ W.T),
                        r"dh_prev .*W_hh is transposed"),
    "dW_hh transposed": (_step_variant(o1=lambda dh, h, hp, x, W, da: hp.T @ da),
                         r"dW_hh_t at step t=6 .*transposed"),
    "dW_hh with h_t": (_step_variant(o1=lambda dh, h, hp, x, W, da: da.T @ h),
                       r"dW_hh_t at step t=6 .*multiplies by h_t"),
    "dW_xh without derivative": (_step_variant(o0=lambda dh, h, hp, x, W, da: dh.T @ x),
                                 r"dW_xh_t .*tanh derivative"),
    "db not summed": (_step_variant(o2=lambda dh, h, hp, x, W, da: da),
                      r"db_h_t .*sum over the batch"),
    "db averaged": (_step_variant(o2=lambda dh, h, hp, x, W, da: da.mean(axis=0)),
                    r"db_h_t .*constant factor of 0\.3333"),
    "sign flipped": (_step_variant(o3=lambda dh, h, hp, x, W, da: -(da @ W)),
                     r"dh_prev .*constant factor of -1"),
    "noise": (_step_variant(o0=lambda dh, h, hp, x, W, da: da.T @ x + 1e-3),
              r"dW_xh_t at step t=6 .*differs from the reference"),
    "wrong arity": (lambda *a: step_ref(*a)[:3], r"tuple of 4 arrays"),
}


def test_bptt_step_passes_reference(capsys):
    res = ch02.bptt_step(step_ref)
    assert res.status == "passed" and bool(res)
    assert capsys.readouterr().out.startswith("PASSED bptt_step")


def test_bptt_step_todo(capsys):
    res = ch02.bptt_step(step_todo)
    assert res.status == "todo" and not res
    assert "TODO bptt_step" in capsys.readouterr().out


@pytest.mark.parametrize("label", list(STEP_WRONG))
def test_bptt_step_wrong_answers_get_their_hint(label):
    fn, pattern = STEP_WRONG[label]
    with pytest.raises(CheckFailed, match=pattern):
        ch02.bptt_step(fn)


def test_bptt_step_names_first_wrong_step():
    """A step that goes wrong only at h_prev = 0 (t=1 of the first case) is reported there."""
    def fn(dh_t, h_t, h_prev, x_t, W_hh):
        out = step_ref(dh_t, h_t, h_prev, x_t, W_hh)
        return out if np.any(h_prev) else (*out[:3], 0 * out[3])
    with pytest.raises(CheckFailed, match=r"dh_prev at step t=1 \(B=3, T=6; BPTT visits t=6 first\)"):
        ch02.bptt_step(fn)


# -- ex-02-3: memory ----------------------------------------------------------------------------
def mem_ref(B, T, D, H, itemsize=8):
    return itemsize * B * (T * D + T * H + (T + 1) * H)


MEM_WRONG = {
    "no h0": (lambda B, T, D, H, itemsize=8: itemsize * B * (T * D + 2 * T * H), r"h_0 is kept too"),
    "no x": (lambda B, T, D, H, itemsize=8: itemsize * B * (2 * T + 1) * H, r"inputs x as well"),
    "no a": (lambda B, T, D, H, itemsize=8: itemsize * B * (T * D + (T + 1) * H), r"pre-activations a"),
    "numbers": (lambda B, T, D, H, itemsize=8: B * (T * D + T * H + (T + 1) * H), r"multiply by itemsize"),
    "no batch": (lambda B, T, D, H, itemsize=8: itemsize * (T * D + T * H + (T + 1) * H), r"multiply by B"),
    "ignores itemsize": (lambda B, T, D, H, itemsize=8: 8 * B * (T * D + T * H + (T + 1) * H),
                         r"itemsize=4: expected 15728 bytes, got 31456"),
    "float": (lambda B, T, D, H, itemsize=8: float(mem_ref(B, T, D, H, itemsize)), r"return an int"),
}


def test_bptt_cache_bytes_reference_and_todo(capsys):
    assert ch02.bptt_cache_bytes(mem_ref).status == "passed"
    assert ch02.bptt_cache_bytes(lambda *a, **k: (_ for _ in ()).throw(NotImplementedError)).status == "todo"
    out = capsys.readouterr().out
    assert "PASSED bptt_cache_bytes" in out and "TODO bptt_cache_bytes" in out


@pytest.mark.parametrize("label", list(MEM_WRONG))
def test_bptt_cache_bytes_wrong_answers(label):
    fn, pattern = MEM_WRONG[label]
    with pytest.raises(CheckFailed, match=pattern):
        ch02.bptt_cache_bytes(fn)


# -- ex-02-4: ReLU BPTT ------------------------------------------------------------------------
def relu_ref(params, cache, dy):
    a, h, x = cache["a"], cache["h"], cache["x"]
    dh_y = dy @ params["W_hy"]
    da = np.zeros_like(a)
    dh_next = np.zeros_like(a[:, 0])
    for t in reversed(range(a.shape[1])):
        da[:, t] = (dh_y[:, t] + dh_next) * (a[:, t] > 0)
        dh_next = da[:, t] @ params["W_hh"]
    return {"W_xh": np.einsum("bth,btd->hd", da, x), "W_hh": np.einsum("bth,btk->hk", da, h[:, :-1]),
            "b_h": da.sum(axis=(0, 1))}


def _relu_variant(deriv=None, recur=True, transpose=False):
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


RELU_WRONG = {
    "tanh derivative": (_relu_variant(deriv=lambda a, h: 1 - h ** 2), r"W_hh .*tanh derivative"),
    "no recursion": (_relu_variant(recur=False), r"gradient stops at each step"),
    "transposed": (_relu_variant(transpose=True), r"W_hh is transposed in the recursion"),
    "derivative of a shifted": (_relu_variant(deriv=lambda a, h: (a > 0.1)), r"differs from the reference"),
    "missing key": (lambda p, c, d: {"W_hh": relu_ref(p, c, d)["W_hh"]}, r"keys 'W_xh', 'W_hh', 'b_h'"),
}


def test_relu_bptt_reference_todo(capsys):
    assert ch02.relu_bptt(relu_ref).status == "passed"
    assert ch02.relu_bptt(lambda p, c, d: (_ for _ in ()).throw(NotImplementedError)).status == "todo"


def test_relu_reference_equals_numpy_rnn_and_cases_have_dead_units():
    params, cache, dy = ch02._case(B=3, T=7, D=2, H=4, O=2, seed=3, h0_zero=False, activation="relu")
    assert np.mean(cache["a"] <= 0) > 0.1  # the ReLU derivative matters in the cases
    want = nr.backward(params, cache, dy)
    got = relu_ref(params, cache, dy)
    assert all(np.allclose(got[k], want[k], atol=1e-12) for k in got)


@pytest.mark.parametrize("label", list(RELU_WRONG))
def test_relu_bptt_wrong_answers(label):
    fn, pattern = RELU_WRONG[label]
    with pytest.raises(CheckFailed, match=pattern):
        ch02.relu_bptt(fn)
