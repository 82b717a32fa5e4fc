"""Unit tests of rnnlab.cells: the from-scratch RNNCell against torch.nn.RNN / RNNCell."""
import itertools

import pytest
import torch
from torch import nn

from rnnlab.cells import ACTIVATIONS, RNNCell
from rnnlab.models import RecurrentLayer

D, H, B, T = 3, 5, 4, 7


def _x(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=g, dtype=torch.float64)


def test_cell_equals_torch_rnncell_after_load(subtests):
    for nonlinearity in ("tanh", "relu"):
        with subtests.test(nonlinearity=nonlinearity):
            torch.manual_seed(1)
            ref = nn.RNNCell(D, H, nonlinearity=nonlinearity).double()
            cell = RNNCell(D, H, nonlinearity).double().load_from_torch(ref)
            x_t, h_prev = _x(B, D), _x(B, H, seed=1)
            assert torch.max(torch.abs(cell(x_t, h_prev) - ref(x_t, h_prev))) < 1e-12


def test_unrolled_cell_equals_torch_rnn_after_load(subtests):
    for nonlinearity in ("tanh", "relu"):
        with subtests.test(nonlinearity=nonlinearity):
            torch.manual_seed(2)
            ref = nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True).double()
            cell = RNNCell(D, H, nonlinearity).double().load_from_torch(ref)
            x, h0 = _x(B, T, D), _x(B, H, seed=3)
            want, h_T = ref(x, h0.unsqueeze(0))
            got, state = RecurrentLayer(cell)(x, h0)
            assert torch.max(torch.abs(got - want)) < 1e-12
            assert torch.max(torch.abs(state - h_T[0])) < 1e-12


def test_to_torch_gives_the_same_function(subtests):
    for bias, nonlinearity in itertools.product([True, False], ["tanh", "relu"]):
        with subtests.test(bias=bias, nonlinearity=nonlinearity):
            torch.manual_seed(3)
            cell = RNNCell(D, H, nonlinearity, bias=bias).double()
            rnn = cell.to_torch()
            assert isinstance(rnn, nn.RNN) and rnn.batch_first and rnn.bias == bias
            assert rnn.weight_hh_l0.dtype == torch.float64
            x = _x(B, T, D)
            want, _ = rnn(x)
            got, _ = RecurrentLayer(cell)(x)
            assert torch.max(torch.abs(got - want)) < 1e-12


def test_load_from_second_layer_of_a_stacked_rnn():
    torch.manual_seed(4)
    ref = nn.RNN(D, H, num_layers=2, batch_first=True).double()
    cell = RNNCell(H, H).double().load_from_torch(ref, layer=1)
    assert torch.equal(cell.W_hh, ref.weight_hh_l1)
    assert torch.allclose(cell.b_h, ref.bias_ih_l1 + ref.bias_hh_l1)


def test_round_trip_keeps_weights():
    cell = RNNCell(D, H)
    back = RNNCell(D, H).load_from_torch(cell.to_torch())
    for a, b in zip(cell.parameters(), back.parameters()):
        assert torch.equal(a, b)


def test_parameter_names_shapes_and_init_range():
    cell = RNNCell(D, H)
    shapes = {n: tuple(p.shape) for n, p in cell.named_parameters()}
    assert shapes == {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,)}
    bound = 1 / H ** 0.5
    assert all(p.abs().max() <= bound for p in cell.parameters())
    assert sum(p.numel() for p in RNNCell(D, H, bias=False).parameters()) == H * D + H * H


def test_init_state_and_hidden():
    cell = RNNCell(D, H).double()
    h0 = cell.init_state(B)
    assert h0.shape == (B, H) and h0.dtype == torch.float64 and not h0.any()
    assert cell.init_state(2, dtype=torch.float32).dtype == torch.float32
    assert cell.hidden(h0) is h0


def test_preactivation_is_the_affine_map():
    cell = RNNCell(D, H).double()
    x_t, h_prev = _x(B, D), _x(B, H, seed=1)
    a = cell.preactivation(x_t, h_prev)
    want = x_t @ cell.W_xh.T + h_prev @ cell.W_hh.T + cell.b_h
    assert torch.allclose(a, want)
    assert torch.allclose(cell(x_t, h_prev), torch.tanh(want))


def test_other_activations(subtests):
    for name in ("sigmoid", "identity"):
        with subtests.test(name=name):
            cell = RNNCell(D, H, name).double()
            x_t, h_prev = _x(B, D), _x(B, H, seed=1)
            assert torch.allclose(cell(x_t, h_prev),
                                  ACTIVATIONS[name](cell.preactivation(x_t, h_prev)))
            with pytest.raises(ValueError, match="tanh and relu"):
                cell.to_torch()


def test_activation_derivatives_match_autograd(subtests):
    a = torch.linspace(-4, 4, 81, dtype=torch.double).requires_grad_(True)
    assert list(ACTIVATIONS) == ["tanh", "relu", "sigmoid", "identity", "leaky_relu", "gelu"]
    for name, activation in ACTIVATIONS.items():
        with subtests.test(name=name):
            (g,) = torch.autograd.grad(activation(a).sum(), a)
            torch.testing.assert_close(activation.derivative(a.detach()), g)


BAD_ARGUMENTS = [                   # (RNNCell's arguments, error, message)
    ((0, H), ValueError, "input_size must be >= 1"),
    ((D, 0), ValueError, "hidden_size must be >= 1"),
    ((2.0, H), TypeError, "input_size must be an int"),
    ((D, H, "softsign"), ValueError, "nonlinearity must be one of"),
]


def test_constructor_rejects_bad_arguments(subtests):
    for args, exc, match in BAD_ARGUMENTS:
        with subtests.test(args=args):
            with pytest.raises(exc, match=match):
                RNNCell(*args)


def test_the_layer_checks_the_whole_input_once():
    layer = RecurrentLayer(RNNCell(D, H))
    h = torch.zeros(B, H)
    with pytest.raises(ValueError, match=r"x must have size 3 on axis 2"):
        layer(torch.zeros(B, T, D + 1), h)
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        layer(torch.zeros(B, D), h)
    with pytest.raises(ValueError, match=r"state must have size 4 on axis 0"):
        layer(torch.zeros(B, T, D), torch.zeros(B + 1, H))
    with pytest.raises(TypeError, match="floating dtype"):
        layer(torch.zeros(B, T, D, dtype=torch.long), h)
    with pytest.raises(TypeError, match="torch.Tensor"):
        layer([[[0.0] * D]], h)


def test_load_from_torch_rejects_mismatches():
    cell = RNNCell(D, H)
    with pytest.raises(TypeError, match="torch.nn.RNN or RNNCell"):
        cell.load_from_torch(nn.LSTM(D, H))
    with pytest.raises(ValueError, match="nonlinearity"):
        cell.load_from_torch(nn.RNN(D, H, nonlinearity="relu"))
    with pytest.raises(ValueError, match="shape mismatch"):
        cell.load_from_torch(nn.RNN(D + 1, H))
    with pytest.raises(ValueError, match="bias"):
        RNNCell(D, H, bias=False).load_from_torch(nn.RNN(D, H))
    with pytest.raises(ValueError, match="bias"):
        cell.load_from_torch(nn.RNN(D, H, bias=False))
