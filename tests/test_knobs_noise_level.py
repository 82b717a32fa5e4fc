"""rnnlab.knobs.noise_level: chapter 1's slider data (noise level -> test error by step)."""
import numpy as np
import pytest
import torch

from rnnlab import cells, models
from rnnlab.knobs import noise_level

B, T = 6, 5


def _setup():
    gen = torch.Generator().manual_seed(0)
    x_clean = torch.sin(torch.linspace(0, 3, T)[None, :, None] + torch.rand(B, 1, 1, generator=gen))
    eps = torch.randn(B, T, 1, generator=gen)
    y = torch.randn(B, T, 1, generator=gen)
    nets = {}
    for seed in range(3):
        torch.manual_seed(seed)
        nets[seed] = models.SequenceModel(cells.RNNCell(1, 4), 1, head="all")
    return nets, x_clean, eps, y


def _memoryless(x, sigma):
    return 0.5 * np.asarray(x) + sigma                  # any function of x_t alone


def _mse_by_step(pred, y):
    return ((np.asarray(pred) - y.numpy()) ** 2).mean(axis=(0, 2))   # (T,)


def test_sweep_matches_direct_computation_at_two_noise_levels(subtests):
    nets, x_clean, eps, y = _setup()
    curves = noise_level.error_by_noise(nets, _memoryless, x_clean, eps, y, [0.0, 0.1, 0.2],
                                        floor=0.125)
    assert sorted(curves) == [0.0, 0.1, 0.2]
    for sigma in (0.0, 0.2):
        x = x_clean + sigma * eps
        with torch.no_grad():
            per_seed = np.array([_mse_by_step(net(x), y) for net in nets.values()])  # (N, T)
        want = {"RNN, median of 3 seeds": np.median(per_seed, axis=0),
                "RNN, worst seed": per_seed.max(axis=0),
                "memoryless": _mse_by_step(_memoryless(x, sigma), y),
                "noise-free floor": np.full(T, 0.125)}
        assert list(curves[sigma]) == list(want)
        for name, direct in want.items():
            with subtests.test(sigma=sigma, series=name):
                steps, mse = curves[sigma][name]
                assert np.array_equal(steps, np.arange(1, T + 1))
                assert np.allclose(mse, direct, rtol=1e-6, atol=0)


def test_bad_input_is_named(subtests):
    nets, x_clean, eps, y = _setup()
    bad = [
        (dict(nets={}), ValueError, "nets must hold at least one"),
        (dict(nets=list(nets.values())), TypeError, "nets must be a dict"),
        (dict(eps=eps[:, :, 0]), ValueError, "eps must have 3 dimensions"),
        (dict(eps=eps[:, :1]), ValueError, "eps must have size 5 on axis 1"),
        (dict(y=y[:2]), ValueError, "y must have size 6 on axis 0"),
        (dict(sigmas=[-0.1]), ValueError, "sigma must be >= 0"),
        (dict(floor=-1.0), ValueError, "floor must be >= 0"),
    ]
    for kw, error, match in bad:
        with subtests.test(match=match):
            args = dict(nets=nets, memoryless=_memoryless, x_clean=x_clean, eps=eps, y=y,
                        sigmas=[0.0, 0.1], floor=0.125)
            args.update(kw)
            with pytest.raises(error, match=match):
                noise_level.error_by_noise(**args)
