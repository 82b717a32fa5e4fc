"""rnnlab.knobs.gain: chapter 5's slider data (gain of a deep stack -> per-layer profiles)."""
import math

import numpy as np
import pytest
import torch

from rnnlab import deep
from rnnlab.knobs import gain

W, DEPTH = 16, 6


def _nets(seeds=(0, 1, 2), depth=DEPTH, **options):
    options = {"activation": "relu", "init": "xavier_normal", **options}
    return [deep.DeepMLP(W, W, depth, seed=s, **options).double() for s in seeds]


def _x(B=8):
    return torch.randn(B, W, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_sweep_matches_direct_computation_at_two_gains(subtests):
    nets, x = _nets(), _x()
    before = [w.detach().clone() for w in nets[0].weights]
    curves = gain.profiles_by_gain(nets, x, [0.5, 1.0, 2.0])
    assert sorted(curves) == [0.5, 1.0, 2.0]
    for s2 in (0.5, 2.0):
        direct = [deep.DeepMLP(W, W, DEPTH, seed=s, activation="relu", init="xavier_normal",
                               init_scale=math.sqrt(s2)).double() for s in (0, 1, 2)]
        stds = np.stack([deep.activation_stds(n, x).numpy() for n in direct])     # (3, L)
        grads = np.stack([deep.layer_grad_norms(n, x).numpy() for n in direct])   # (3, L)
        expected = {gain.UP: np.median(stds / stds[:, :1], axis=0),
                    gain.DOWN: np.median(grads / grads[:, -1:], axis=0),
                    gain.LEVEL: np.ones(DEPTH)}
        for name, y in expected.items():
            with subtests.test(s2=s2, series=name):
                layers, measured = curves[s2][name]
                assert np.array_equal(layers, np.arange(1, DEPTH + 1))
                # init_scale scales the float32 draw, the sweep the float64 copy: rounding only
                assert np.allclose(measured, y, rtol=1e-5, atol=0)
    with subtests.test("the nets passed in are left as drawn"):
        assert all(torch.equal(a, b) for a, b in zip(before, nets[0].weights))


def test_per_layer_factors_fit_a_geometric_curve():
    layers = np.arange(1, 11)
    curves = {2.0: {gain.UP: (layers, 0.8 ** (layers - 1)),
                    gain.DOWN: (layers, 1.2 ** (10 - layers)),
                    gain.LEVEL: (layers, np.ones(10))}}
    up, down = gain.per_layer_factors(curves)[2.0]
    assert math.isclose(up, 0.8, rel_tol=1e-12) and math.isclose(down, 1.2, rel_tol=1e-12)


def test_relu_stack_without_bias_tilts_with_the_gain():
    # positive homogeneity: layer l's signal scales by s^(l-1), its gradient by s^(L-l)
    curves = gain.profiles_by_gain(_nets(), _x(), [1.0, 4.0])
    layers = np.arange(1, DEPTH + 1)
    assert np.allclose(curves[4.0][gain.UP][1], curves[1.0][gain.UP][1] * 2.0 ** (layers - 1))
    assert np.allclose(curves[4.0][gain.DOWN][1],
                       curves[1.0][gain.DOWN][1] * 2.0 ** (DEPTH - layers))


BAD = [  # (id, nets, s_squared, error, message)
    ("not a list", _nets()[0], [1.0], TypeError, "nets must be a list of rnnlab.deep.DeepMLP"),
    ("empty", [], [1.0], ValueError, "at least one stack"),
    ("not a stack", [torch.nn.Linear(W, W)], [1.0], TypeError, r"nets\[0\] must be a rnnlab"),
    ("two depths", _nets((0,)) + _nets((1,), depth=3), [1.0], ValueError,
     r"one depth .*got depths \[3, 6\]"),
    ("zero gain", _nets((0,)), [1.0, 0.0], ValueError, "s_squared must be > 0"),
    ("a string", _nets((0,)), ["2"], TypeError, "s_squared must be a number"),
]


def test_bad_arguments_are_named(subtests):
    for case, nets, grid, error, message in BAD:
        with subtests.test(case):
            with pytest.raises(error, match=message):
                gain.profiles_by_gain(nets, _x(), grid)
    with subtests.test("layer_profiles: not a stack"):
        with pytest.raises(TypeError, match="net must be a rnnlab.deep.DeepMLP"):
            gain.layer_profiles(torch.nn.Linear(W, W), _x())
