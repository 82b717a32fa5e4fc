"""Unit tests of rnnlab.init: the variance of each scheme, orthogonality, singular values."""
import math

import numpy as np
import pytest
import torch

from rnnlab import cells, init
from rnnlab.runtime import make_generator


def test_xavier_and_he_variances():
    g = make_generator(0)
    W = init.xavier_uniform(300, 200, generator=g)
    assert W.shape == (300, 200)
    a = math.sqrt(6 / 500)
    assert W.abs().max() <= a
    assert W.var().item() == pytest.approx(2 / 500, rel=0.05)
    var = init.xavier_normal(300, 200, generator=g).var().item()
    assert var == pytest.approx(2 / 500, rel=0.05)
    assert init.xavier_normal(300, 200, gain=2.0, generator=g).var().item() == \
        pytest.approx(8 / 500, rel=0.05)
    assert init.he_normal(300, 200, generator=g).var().item() == pytest.approx(2 / 200, rel=0.05)


def test_orthogonal_has_unit_singular_values(subtests):
    for shape in [(6, 6), (8, 3), (3, 8)]:      # square, tall, wide
        with subtests.test(shape=shape):
            Q = init.orthogonal(*shape, generator=make_generator(1), dtype=torch.float64)
            assert Q.shape == shape
            s = torch.linalg.svdvals(Q)
            torch.testing.assert_close(s, torch.ones_like(s))
            small = min(shape)
            gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
            torch.testing.assert_close(gram, torch.eye(small, dtype=torch.float64))


def test_scaled_orthogonal_singular_values_and_eigenvalues(subtests):
    for scale in (0.5, 1.5):          # shrinks, grows (scale 1 is the same code)
        with subtests.test(scale=scale):
            W = init.scaled_orthogonal(16, scale, generator=make_generator(2),
                                       dtype=torch.float64)
            s = torch.linalg.svdvals(W)
            torch.testing.assert_close(s, torch.full_like(s, scale))
            torch.testing.assert_close(torch.linalg.eigvals(W).abs(),
                                       torch.full((16,), scale, dtype=torch.float64))
            assert init.spectral_norm(W) == pytest.approx(scale)
            assert init.spectral_radius(W) == pytest.approx(scale)


def test_generator_makes_initialisers_reproducible():
    for fn in (init.xavier_uniform, init.xavier_normal, init.he_normal, init.orthogonal):
        a = fn(5, 4, generator=make_generator(3))
        b = fn(5, 4, generator=make_generator(3))
        assert torch.equal(a, b)
    assert torch.equal(init.identity(4), torch.eye(4))


def test_spectral_norm_and_radius_differ_for_non_normal_matrices():
    W = torch.tensor([[0.5, 2.0], [0.0, 0.5]])
    assert init.spectral_radius(W) == pytest.approx(0.5)
    assert init.spectral_norm(W) > 2.0
    assert init.spectral_norm(torch.randn(3, 5)) > 0    # any rectangular matrix


def test_init_recurrent_overwrites_W_hh(subtests):
    for scheme in sorted(init.INITIALIZERS):
        with subtests.test(scheme=scheme):
            cell = cells.RNNCell(3, 8)
            W_xh = cell.W_xh.detach().clone()
            init.init_recurrent_(cell, scheme, scale=0.9, generator=make_generator(0))
            assert torch.equal(cell.W_xh, W_xh)                  # only W_hh changes
            want = 0.9 * init.INITIALIZERS[scheme](8, 8, generator=make_generator(0))
            assert torch.equal(cell.W_hh.detach(), want)         # to 0.9 times the scheme's draw
            if scheme in ("orthogonal", "identity"):
                assert init.spectral_norm(cell.W_hh) == pytest.approx(0.9, rel=1e-5)
                assert init.spectral_radius(cell.W_hh) == pytest.approx(0.9, rel=1e-5)


BAD_INPUTS = [                      # (case, call, error, message)
    ("rows a float", lambda: init.xavier_uniform(3.0, 2), TypeError, "rows must be an int"),
    ("cols 0", lambda: init.he_normal(3, 0), ValueError, "cols must be >= 1"),
    ("generator an int", lambda: init.orthogonal(3, generator=0), TypeError,
     "generator must be a torch.Generator or None, got int"),
    ("identity not square", lambda: init.identity(3, 4), ValueError, "square"),
    ("unknown scheme", lambda: init.init_recurrent_(cells.RNNCell(2, 3), "glorot"), ValueError,
     "scheme must be one of"),
    ("a module without W_hh", lambda: init.init_recurrent_(torch.nn.Linear(2, 3), "orthogonal"),
     TypeError, r"cell must be a cell with a W_hh parameter \(an RNNCell\), got Linear"),
    ("an array, not a cell", lambda: init.init_recurrent_(np.zeros((3, 3)), "orthogonal"),
     TypeError, r"cell must be a cell with a W_hh parameter .* got numpy array of shape \(3, 3\)"),
    ("radius of a non-square", lambda: init.spectral_radius(torch.randn(3, 4)), RuntimeError,
     "square"),                                                  # PyTorch's eigvals says it
    ("norm of a list", lambda: init.spectral_norm([[1.0, 0.0], [0.0, 1.0]]), TypeError,
     "W must be a torch.Tensor, got list"),
    ("norm of a 3-D tensor", lambda: init.spectral_norm(torch.randn(2, 3, 3)), ValueError,
     "2 dimensions"),
]


def test_bad_inputs(subtests):
    for case, call, error, message in BAD_INPUTS:
        with subtests.test(case), pytest.raises(error, match=message):
            call()


def test_chrono_bias_follows_tallec_and_ollivier():
    b_i, b_f = init.chrono_bias(20000, 200, generator=make_generator(0), dtype=torch.float64)
    u = torch.exp(b_f)                                        # b_f = log(u), u ~ U[1, T_max - 1]
    assert torch.equal(b_i, -b_f)
    assert u.min() >= 1 and u.max() <= 199
    assert u.mean().item() == pytest.approx(100, rel=0.01)     # mean of U[1, 199]
    assert u.var().item() == pytest.approx(198 ** 2 / 12, rel=0.03)
    b_i2, b_f2 = init.chrono_bias(20000, 200, generator=make_generator(0), dtype=torch.float64)
    assert torch.equal(b_f, b_f2)                              # the generator decides


def test_chrono_init_sets_lstm_biases(subtests):
    for kind in ("torch", "cell"):
        with subtests.test(kind=kind):
            torch.manual_seed(0)
            if kind == "torch":
                lstm = torch.nn.LSTM(3, 5, num_layers=2)
                before = {n: p.clone() for n, p in lstm.named_parameters()}
                init.chrono_init_(lstm, 50, generator=make_generator(1))
                for layer in ("l0", "l1"):
                    b = getattr(lstm, f"bias_ih_{layer}") + getattr(lstm, f"bias_hh_{layer}")
                    torch.testing.assert_close(b[:5], -b[5:10])
                    assert torch.all(b[5:10] >= 0) and torch.all(b[5:10] <= math.log(49))
                    torch.testing.assert_close(b[10:], before[f"bias_ih_{layer}"][10:]
                                               + before[f"bias_hh_{layer}"][10:])
                for name, p in lstm.named_parameters():
                    if name.startswith("weight"):
                        assert torch.equal(p, before[name])
            else:
                from rnnlab.gated import LSTMCell
                cell = LSTMCell(3, 5)
                g_before = cell.b[10:].clone()
                init.chrono_init_(cell, 50, generator=make_generator(1))
                torch.testing.assert_close(cell.b[:5], -cell.b[5:10])
                assert torch.equal(cell.b[10:], g_before)


def test_chrono_bad_arguments(subtests):
    cases = [("not an LSTM", lambda: init.chrono_init_(torch.nn.GRU(2, 3), 10), TypeError),
             ("max_lag < 2", lambda: init.chrono_bias(4, 1), ValueError),
             ("max_lag float", lambda: init.chrono_bias(4, 10.0), TypeError),
             ("hidden_size 0", lambda: init.chrono_bias(0, 10), ValueError)]
    for name, call, error in cases:
        with subtests.test(case=name):
            with pytest.raises(error):
                call()
