"""rnnlab.knobs.gate_bias: chapter 4's slider data (gate bias -> gradient ratio by lag)."""
import math

import numpy as np
import pytest
import torch

from rnnlab import gated, gradients
from rnnlab.knobs import gate_bias


def _x(B=3, T=12, D=2):
    return torch.randn(B, T, D, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_sweep_matches_direct_computation_at_two_biases(subtests):
    x = _x()
    curves = gate_bias.ratio_by_gate_bias(x, [0.0, 1.5, 3.0], hidden_size=5, seed=7, every=2)
    assert sorted(curves) == [0.0, 1.5, 3.0]
    lags = np.arange(0, 12, 2)
    for b in (0.0, 3.0):
        for name, make, gate in ((gate_bias.LSTM, gated.LSTMCell, "f"),
                                 (gate_bias.GRU, gated.GRUCell, "z")):
            with subtests.test(bias=b, cell=name):
                torch.manual_seed(7)
                cell = make(2, 5).double()
                with torch.no_grad():
                    cell.weights(gate)[2].fill_(b)
                direct = gradients.grad_ratio_by_lag(cell, x).numpy()
                got_lags, r = curves[b][name]
                assert np.array_equal(got_lags, lags)
                assert np.allclose(r, direct[lags], rtol=1e-12, atol=0)
        got_lags, carousel = curves[b][gate_bias.CAROUSEL]
        assert np.allclose(carousel, (1 / (1 + math.exp(-b))) ** lags)


def test_cell_with_gate_bias_changes_only_that_bias_and_keeps_the_random_state():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = gate_bias.cell_with_gate_bias("lstm", 2, 4, 0.0, seed=1)
    b = gate_bias.cell_with_gate_bias("lstm", 2, 4, 2.5, seed=1)
    assert torch.equal(torch.get_rng_state(), before)
    assert a.b.dtype == torch.float64
    assert torch.equal(b.weights("f")[2], torch.full((4,), 2.5, dtype=torch.float64))
    assert torch.equal(a.W_x, b.W_x) and torch.equal(a.W_h, b.W_h)
    rows = [k for k in range(16) if not 4 <= k < 8]                  # every bias but b_f
    assert torch.equal(a.b[rows], b.b[rows])


def test_bad_arguments_are_named(subtests):
    x = _x()
    cases = [
        ("kind", lambda: gate_bias.cell_with_gate_bias("rnn", 2, 4, 1.0, seed=0),
         ValueError, r"kind must be one of \['gru', 'lstm'\], got 'rnn'"),
        ("bias", lambda: gate_bias.cell_with_gate_bias("gru", 2, 4, "1", seed=0),
         TypeError, "bias must be"),
        ("x", lambda: gate_bias.ratio_by_gate_bias(x[0], [1.0], hidden_size=4, seed=0),
         ValueError, "x must"),
        ("every", lambda: gate_bias.ratio_by_gate_bias(x, [1.0], hidden_size=4, seed=0, every=0),
         ValueError, "every must be >= 1"),
        ("biases", lambda: gate_bias.ratio_by_gate_bias(x, ["a"], hidden_size=4, seed=0),
         TypeError, "a bias of biases must be"),
    ]
    for name, call, error, message in cases:
        with subtests.test(argument=name):
            with pytest.raises(error, match=message):
                call()
