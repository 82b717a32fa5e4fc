"""rnnlab.knobs.ring: chapter 7's slider data (the ring's decade -> gradient ratio by lag)."""
import numpy as np
import pytest
import torch

from rnnlab import gradients, linear_rnn
from rnnlab.knobs import ring


def test_sweep_matches_direct_computation_at_two_rings(subtests):
    curves, notes = ring.ratio_by_ring([1.0, 1.5, 2.0], state_size=6, seed=3, max_lag=1000,
                                       points=30)
    assert sorted(curves) == sorted(notes) == [1.0, 1.5, 2.0]
    x = torch.randn(2, 400, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for d in (1.0, 2.0):
        r_min, r_max = 1 - 10 ** -d, 1 - 10 ** -(d + 1)
        cell = linear_rnn.LinearRecurrentCell(2, 6, r_min=r_min, r_max=r_max, seed=3).double()
        measured = gradients.grad_ratio_by_lag(cell, x).numpy()          # (400,): lags 0..399
        with subtests.test(d=d, series="ring"):
            lags, ratio = curves[d]["ring: rms of |λ_n|^k"]
            near = lags < 400
            assert near.sum() > 10 and np.all(np.diff(lags) > 0)
            assert np.allclose(ratio[near], measured[lags[near].astype(int)], rtol=1e-9, atol=0)
        with subtests.test(d=d, series="bounds"):
            for name, r in (("r_min^k", r_min), ("r_max^k", r_max)):
                lags, y = curves[d][name]
                assert np.allclose(y, r ** lags, rtol=1e-12) and y.min() >= 1e-8
        with subtests.test(d=d, series="note"):
            k_fast, k_slow = linear_rnn.memory_horizon(torch.tensor([r_min, r_max])).tolist()
            assert f"after {k_fast:,.0f} (|λ| = r_min) to {k_slow:,.0f} steps" in notes[d]


def test_ring_bounds_and_bad_input():
    assert ring.ring_bounds(2) == pytest.approx((0.99, 0.999))
    with pytest.raises(ValueError, match="d must be >= 0"):
        ring.ratio_by_ring([-1.0])
    with pytest.raises(TypeError, match="state_size must be an int"):
        ring.ratio_by_ring([1.0], state_size=4.0)
    with pytest.raises(ValueError, match="points must be >= 2"):
        ring.ratio_by_ring([1.0], points=1)
