"""Unit tests of rnnlab.numpy_rnn: the NumPy RNN against torch.nn.RNN and autograd."""
import numpy as np
import pytest
import torch

from rnnlab import numpy_rnn as nr

D, H, O = 3, 5, 2


def _x(B, T, D=D, seed=0):
    return np.random.default_rng(seed).normal(size=(B, T, D))


@pytest.mark.parametrize("B,T", [(4, 7), (1, 1), (2, 1), (1, 9)])
def test_forward_hidden_states_equal_torch_rnn(B, T):
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
