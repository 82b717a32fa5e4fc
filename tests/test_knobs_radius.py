"""rnnlab.knobs.radius: chapter 3's slider data (spectral radius -> gradient ratio by lag)."""
import numpy as np
import pytest
import torch

from rnnlab import cells, gradients, init
from rnnlab.knobs import radius


def _setup(H=8, T=12, B=3):
    gen = torch.Generator().manual_seed(0)
    Q = init.orthogonal(H, generator=gen, dtype=torch.float64)
    W_xh = torch.randn(H, 1, generator=gen, dtype=torch.float64)
    x = torch.randn(B, T, 1, generator=gen, dtype=torch.float64)
    return Q, W_xh, x


def test_sweep_matches_direct_computation_at_two_radii(subtests):
    Q, W_xh, x = _setup()
    scales = {"small": 0.01, "large": 1.0}
    curves = radius.ratio_by_radius(Q, W_xh, x, [0.5, 0.9, 1.3], scales)
    assert sorted(curves) == [0.5, 0.9, 1.3]
    for rho in (0.5, 1.3):
        cell = cells.RNNCell(1, 8, nonlinearity="tanh", bias=False).double()
        with torch.no_grad():
            cell.W_hh.copy_(rho * Q)
            cell.W_xh.copy_(W_xh)
        for name, scale in scales.items():
            with subtests.test(rho=rho, inputs=name):
                lags, r = curves[rho][name]
                direct = gradients.grad_ratio_by_lag(cell, scale * x).numpy()
                assert np.array_equal(lags, np.arange(12))
                assert np.allclose(r, direct, rtol=1e-12, atol=0)
        lags, bound = curves[rho]["ρ^k"]
        assert np.allclose(bound, rho ** np.arange(12))
        assert np.all(curves[rho]["small"][1] <= bound * (1 + 1e-9))


def test_scaled_cell_is_a_cell_without_bias_with_those_weights(subtests):
    Q, W_xh, x = _setup()
    for name, phi in (("tanh", torch.tanh), ("sigmoid", torch.sigmoid)):
        with subtests.test(nonlinearity=name):
            cell = radius.scaled_cell(Q, W_xh, 1.0, nonlinearity=name)
            assert cell.nonlinearity == name and cell.b_h is None
            assert torch.equal(cell.W_hh, Q) and torch.equal(cell.W_xh, W_xh)   # rho = 1: Q as is
            h = torch.randn(3, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
            expected = phi(x[:, 0] @ W_xh.T + h @ Q.T)                          # (B, H)
            assert torch.allclose(cell(x[:, 0], h), expected, rtol=1e-12, atol=0)


def test_scaled_cell_names_bad_arguments():
    Q, W_xh, _ = _setup()
    with pytest.raises(ValueError, match=r"Q must be \(H, H\) = \(8, 8\).*got shape \(7, 7\)"):
        radius.scaled_cell(Q[:7, :7], W_xh, 0.9)
    with pytest.raises(ValueError, match="rho must be >= 0"):
        radius.scaled_cell(Q, W_xh, -1.0)
    with pytest.raises(ValueError, match="nonlinearity"):
        radius.scaled_cell(Q, W_xh, 0.9, nonlinearity="softmax")
    with pytest.raises(TypeError, match="scales must be"):
        radius.ratio_by_radius(Q, W_xh, _setup()[2], [0.5], [0.01])
