"""Unit tests of rnnlab.numpy_rnn: the NumPy RNN against torch.nn.RNN and autograd."""
import itertools

import numpy as np
import pytest
import torch

from rnnlab import numpy_rnn as nr

D, H, O = 3, 5, 2


def _x(B, T, D=D, seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, D))


def test_forward_hidden_states_equal_torch_rnn(subtests):
    for B, T in [(4, 7), (1, 1), (2, 1), (1, 9)]:   # one example and/or one step, or neither
        with subtests.test(B=B, T=T):
            params = nr.init_params(D, H, O, seed=1)
            x, h0 = _x(B, T), np.random.default_rng(2).normal(size=(B, H))
            y, cache = nr.forward(params, x, h0)
            want, h_T = nr.to_torch_rnn(params)(torch.from_numpy(x), torch.from_numpy(h0)[None])
            assert y.shape == (B, T, O)
            assert cache["h"].shape == (B, T + 1, H) and cache["a"].shape == (B, T, H)
            assert np.array_equal(cache["h"][:, 0], h0)
            assert np.max(np.abs(cache["h"][:, 1:] - want.detach().numpy())) < 1e-12
            assert np.max(np.abs(cache["h"][:, -1] - h_T[0].detach().numpy())) < 1e-12
            assert np.allclose(y, cache["h"][:, 1:] @ params["W_hy"].T + params["b_y"])


def test_from_torch_rnn_round_trip_and_no_readout():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(D, H, batch_first=True).double()
    params = nr.from_torch_rnn(rnn)
    assert set(params) == {"W_xh", "W_hh", "b_h"}
    x = _x(3, 6)
    y, _ = nr.forward(params, x)  # no read-out: y is h
    want, _ = rnn(torch.from_numpy(x))
    assert np.max(np.abs(y - want.detach().numpy())) < 1e-12
    back = nr.to_torch_rnn(params)
    got, _ = back(torch.from_numpy(x))
    assert torch.max(torch.abs(got - want)) < 1e-12
    with_out = nr.from_torch_rnn(rnn, W_hy=np.ones((O, H)), b_y=np.zeros(O))
    assert nr.forward(with_out, x)[0].shape == (3, 6, O)


def test_init_params_shapes_bound_and_seed():
    p = nr.init_params(D, H, O, seed=3)
    assert {k: v.shape for k, v in p.items()} == {
        "W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}
    assert all(np.all(np.abs(v) < 1 / np.sqrt(H)) for v in p.values())
    q = nr.init_params(D, H, O, seed=3)
    assert all(np.array_equal(p[k], q[k]) for k in p)
    assert nr.init_params(D, H, O, dtype=np.float32)["W_hh"].dtype == np.float32


# -- autograd references ------------------------------------------------------------------
def _torch_grads(params, x, target, h0, *, activation="tanh", window=None, chunk=None):
    """Autograd gradients of the MSE loss. ``window=k``: l_t computed from h_{t-k}.detach()
    (t >= k); ``chunk=k``: the state is detached at h_k, h_2k, ..."""
    P = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x, target = torch.from_numpy(x), torch.from_numpy(target)
    h0 = torch.tensor(h0, requires_grad=True)
    phi = torch.tanh if activation == "tanh" else torch.relu
    B, T, _ = x.shape

    def step(h, t):
        return phi(x[:, t] @ P["W_xh"].T + h @ P["W_hh"].T + P["b_h"])

    def readout(h):
        return h @ P["W_hy"].T + P["b_y"] if "W_hy" in P else h

    ys = []
    if window is None:
        h = h0
        for t in range(T):
            if chunk is not None and t % chunk == 0 and t > 0:
                h = h.detach()
            h = step(h, t)
            ys.append(readout(h))
    else:  # sliding: recompute each l_t from h_{t-k}
        with torch.no_grad():
            hs = [h0]
            for t in range(T):
                hs.append(step(hs[-1], t))
        for t in range(1, T + 1):
            start = t - window
            if start >= 0:  # h_{t-k} is a constant, h0 included
                h = hs[start].detach() if start >= 1 else h0.detach()
                first = start
            else:
                h, first = h0, 0
            for s in range(first, t):
                h = step(h, s)
            ys.append(readout(h))
    y = torch.stack(ys, dim=1)
    loss = torch.nn.functional.mse_loss(y, target)
    loss.backward()
    grads = {k: v.grad.numpy() if v.grad is not None else np.zeros_like(params[k])
             for k, v in P.items()}
    grads["h0"] = h0.grad.numpy() if h0.grad is not None else np.zeros(h0.shape)
    return loss.item(), grads


def _problem(B, T, *, readout=True, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = nr.init_params(D, H, O, seed=seed)
    for k in ("W_hh", "W_xh"):
        params[k] = params[k] * scale
    if not readout:
        del params["W_hy"], params["b_y"]
    out = O if readout else H
    return params, rng.normal(size=(B, T, D)), rng.normal(size=(B, T, out)), rng.normal(size=(B, H))


def _max_diff(a, b):
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in b)


def test_backward_equals_autograd(subtests):
    for activation, readout in itertools.product(["tanh", "relu"], [True, False]):
        with subtests.test(activation=activation, readout=readout):
            # one step, one example, longer
            for B, T in [(4, 7), (1, 1), (3, 1), (1, 12), (2, 30)]:
                params, x, target, h0 = _problem(B, T, readout=readout, scale=2.0)
                y, cache = nr.forward(params, x, h0, activation=activation)
                loss, dy = nr.mse_loss(y, target)
                grads = nr.backward(params, cache, dy)
                want_loss, want = _torch_grads(params, x, target, h0, activation=activation)
                assert abs(loss - want_loss) < 1e-12, (B, T)
                assert set(grads) == set(want), (B, T)
                assert _max_diff(grads, want) < 1e-10, (B, T)


def test_loss_and_grads_and_dh():
    params, x, target, h0 = _problem(3, 6)
    loss, grads = nr.loss_and_grads(params, x, target, h0)
    want_loss, want = _torch_grads(params, x, target, h0)
    assert abs(loss - want_loss) < 1e-12 and _max_diff(grads, want) < 1e-10
    # dh: the total dL/dh_t, checked with autograd on the hidden states
    y, cache = nr.forward(params, x, h0)
    _, dy = nr.mse_loss(y, target)
    _, dh = nr.backward(params, cache, dy, return_dh=True)
    rnn = nr.to_torch_rnn(params)
    hs = []
    h = torch.from_numpy(h0)
    for t in range(x.shape[1]):
        h = rnn(torch.from_numpy(x[:, t:t + 1]), h[None])[0][:, 0]
        h.retain_grad()
        hs.append(h)
    yt = torch.stack(hs, 1) @ torch.from_numpy(params["W_hy"]).T + torch.from_numpy(params["b_y"])
    torch.nn.functional.mse_loss(yt, torch.from_numpy(target)).backward()
    assert np.max(np.abs(dh - torch.stack([h.grad for h in hs], 1).numpy())) < 1e-12


# (B, T, k): windows shorter than the sequence (k >= T is the full gradient, tested below):
# every step cut (k = 1), several cuts, one cut, one example
TRUNCATIONS = [(2, 7, 1), (2, 7, 2), (2, 7, 5), (1, 12, 5)]


def test_chunked_truncation_equals_autograd_with_detach(subtests):
    for B, T, k in TRUNCATIONS:
        with subtests.test(B=B, T=T, k=k):
            params, x, target, h0 = _problem(B, T, scale=1.5)
            _, want = _torch_grads(params, x, target, h0, chunk=k)
            _, got = nr.loss_and_grads(params, x, target, h0, truncate=k, truncation="chunked")
            assert _max_diff(got, want) < 1e-10


def test_sliding_truncation_equals_autograd_per_term(subtests):
    for B, T, k in TRUNCATIONS:
        with subtests.test(B=B, T=T, k=k):
            params, x, target, h0 = _problem(B, T, scale=1.5)
            _, want = _torch_grads(params, x, target, h0, window=k)
            _, got = nr.loss_and_grads(params, x, target, h0, truncate=k)
            assert _max_diff(got, want) < 1e-10


def test_truncation_long_window_is_full_and_lags_sum_to_full():
    params, x, target, h0 = _problem(2, 9, scale=1.5)
    _, full = nr.loss_and_grads(params, x, target, h0)
    for variant, k in (("sliding", 10), ("chunked", 9), ("chunked", 50)):   # nothing cut
        _, trunc = nr.loss_and_grads(params, x, target, h0, truncate=k, truncation=variant)
        assert _max_diff(trunc, full) < 1e-12
    # sliding with k = T drops only l_T's path to h0 (lag T)
    _, trunc = nr.loss_and_grads(params, x, target, h0, truncate=9)
    assert _max_diff(full, {k: v for k, v in trunc.items() if k != "h0"}) < 1e-12
    assert np.max(np.abs(trunc["h0"] - full["h0"])) > 0
    y, cache = nr.forward(params, x, h0)
    _, dy = nr.mse_loss(y, target)
    lags = nr.grads_by_lag(params, cache, dy)
    assert lags["W_hh"].shape == (9, H, H)
    for name in ("W_xh", "W_hh", "b_h"):
        assert np.max(np.abs(lags[name].sum(0) - full[name])) < 1e-12
    assert np.max(np.abs(lags["h0"] - full["h0"])) < 1e-12
    # truncated sliding = the first k lags; k=1 differs from the full gradient
    _, k3 = nr.loss_and_grads(params, x, target, h0, truncate=3)
    assert np.max(np.abs(lags["W_hh"][:3].sum(0) - k3["W_hh"])) < 1e-12
    _, k1 = nr.loss_and_grads(params, x, target, h0, truncate=1)
    assert np.max(np.abs(k1["W_hh"] - full["W_hh"])) > 1e-4
    assert np.all(k1["h0"] == 0)


def test_finite_differences_agree_with_backward():
    params, x, target, h0 = _problem(2, 5)

    def f(p):
        return nr.mse_loss(nr.forward(p, x, h0)[0], target)[0]

    before = {k: v.copy() for k, v in params.items()}
    num = nr.numerical_gradient(f, params, eps=1e-6)
    assert all(np.array_equal(before[k], params[k]) for k in params)  # untouched
    _, grads = nr.loss_and_grads(params, x, target, h0)
    for k in params:
        assert nr.relative_error(grads[k], num[k]) < 1e-7, k
    # a wrong gradient is caught
    assert nr.relative_error(2 * grads["W_hh"], num["W_hh"]) > 0.3


def test_relative_error_and_cache_nbytes():
    assert nr.relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert nr.relative_error(np.ones(3), -np.ones(3)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        nr.relative_error(np.ones(3), np.ones(4))
    params = nr.init_params(D, H, O)
    B, T = 4, 11
    _, cache = nr.forward(params, _x(B, T))
    assert nr.cache_nbytes(cache) == 8 * B * (T * D + T * H + (T + 1) * H)


def test_float32_runs_and_is_close():
    p64 = nr.init_params(D, H, O, seed=2)
    p32 = {k: v.astype(np.float32) for k, v in p64.items()}
    x, target = _x(2, 6), _x(2, 6, D=O, seed=1)
    _, g64 = nr.loss_and_grads(p64, x, target)
    _, g32 = nr.loss_and_grads(p32, x, target)
    assert g32["W_hh"].dtype == np.float32
    assert _max_diff(g32, g64) < 1e-5


# -- bad inputs -----------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    params = nr.init_params(D, H, O)
    x = _x(2, 4)
    with pytest.raises(ValueError, match=r"x must have 3 dimensions"):
        nr.forward(params, x[0])
    with pytest.raises(ValueError, match=r"x must have size 3 on axis 2"):
        nr.forward(params, _x(2, 4, D=4))
    with pytest.raises(TypeError, match=r"x must have a floating dtype"):
        nr.forward(params, np.ones((2, 4, D), dtype=int))
    with pytest.raises(TypeError, match=r"x must be a numpy array"):
        nr.forward(params, torch.zeros(2, 4, D))
    with pytest.raises(ValueError, match=r"h0 must have size 2 on axis 0"):
        nr.forward(params, x, np.zeros((3, H)))
    with pytest.raises(ValueError, match=r"h0 must have size 5 on axis 1"):
        nr.forward(params, x, np.zeros((2, H + 1)))
    with pytest.raises(ValueError, match=r"activation must be one of"):
        nr.forward(params, x, activation="gelu")
    with pytest.raises(TypeError, match=r"params must be a dict"):
        nr.forward([params], x)
    with pytest.raises(ValueError, match=r"params must hold W_xh"):
        nr.forward({k: v for k, v in params.items() if k != "b_y"}, x)
    with pytest.raises(ValueError, match=r"params\['W_hh'\] must have size 5"):
        nr.forward({**params, "W_hh": np.zeros((H, H + 1))}, x)
    with pytest.raises(ValueError, match=r"params\['W_hy'\] must have size 5 on axis 1"):
        nr.forward({**params, "W_hy": np.zeros((O, H + 1))}, x)
    y, cache = nr.forward(params, x)
    with pytest.raises(ValueError, match=r"dy must have size 2 on axis 2"):
        nr.backward(params, cache, np.zeros((2, 4, O + 1)))
    with pytest.raises(ValueError, match=r"dy must have size 4 on axis 1"):
        nr.backward(params, cache, np.zeros((2, 5, O)))
    with pytest.raises(TypeError, match=r"cache must be the dict returned by forward"):
        nr.backward(params, {"x": x}, y)
    for bad in (0, -3):
        with pytest.raises(ValueError, match=r"truncate must be >= 1"):
            nr.backward(params, cache, y, truncate=bad)
    with pytest.raises(TypeError, match=r"truncate must be an int"):
        nr.backward(params, cache, y, truncate=2.5)
    with pytest.raises(ValueError, match=r"truncation must be one of"):
        nr.backward(params, cache, y, truncate=2, truncation="random")
    with pytest.raises(ValueError, match=r"target must have size 2 on axis 2"):
        nr.loss_and_grads(params, x, np.zeros((2, 4, O + 1)))
    with pytest.raises(ValueError, match=r"eps must be a float in \(0, 1\)"):
        nr.numerical_gradient(lambda p: 0.0, params, eps=0.0)
    with pytest.raises(ValueError, match=r"hidden_size must be >= 1"):
        nr.init_params(D, 0, O)
    with pytest.raises(TypeError, match=r"dtype must be a floating dtype"):
        nr.init_params(D, H, O, dtype=np.int64)


def test_torch_conversion_bad_inputs():
    with pytest.raises(TypeError, match=r"module must be a torch.nn.RNN"):
        nr.from_torch_rnn(torch.nn.LSTM(D, H))
    with pytest.raises(ValueError, match=r"one-layer, unidirectional"):
        nr.from_torch_rnn(torch.nn.RNN(D, H, num_layers=2))
    with pytest.raises(ValueError, match=r"nonlinearity"):
        nr.to_torch_rnn(nr.init_params(D, H, O), nonlinearity="gelu")
    params = nr.from_torch_rnn(torch.nn.RNN(D, H, bias=False))
    assert np.all(params["b_h"] == 0)


def test_relu_torch_rnn_matches_forward_with_relu():
    params = nr.init_params(D, H, O, seed=4)
    x = _x(3, 8)
    y, cache = nr.forward(params, x, activation="relu")
    want, _ = nr.to_torch_rnn(params, nonlinearity="relu")(torch.from_numpy(x))
    assert np.max(np.abs(cache["h"][:, 1:] - want.detach().numpy())) < 1e-12


def test_dh_of_long_windows_and_grads_by_lag_max_lag():
    params, x, target, h0 = _problem(2, 6)
    y, cache = nr.forward(params, x, h0)
    _, dy = nr.mse_loss(y, target)
    _, dh_full = nr.backward(params, cache, dy, return_dh=True)
    for variant in ("sliding", "chunked"):
        _, dh = nr.backward(params, cache, dy, truncate=7, truncation=variant, return_dh=True)
        assert np.max(np.abs(dh - dh_full)) < 1e-12
    _, dh1 = nr.backward(params, cache, dy, truncate=1, return_dh=True)
    assert np.allclose(dh1, dy @ params["W_hy"])      # k = 1: only the read-out path
    lags = nr.grads_by_lag(params, cache, dy, max_lag=2)
    assert lags["W_hh"].shape == (3, H, H)
    with pytest.raises(ValueError, match=r"max_lag must be >= 0"):
        nr.grads_by_lag(params, cache, dy, max_lag=-1)
