"""Unit tests of rnnlab.checks.ch01: references pass, stubs are TODO, typical mistakes get hints."""
import math

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab import checks
from rnnlab.checks import CheckFailed, ch01

# -- ex-01-2: unroll two steps by hand ----------------------------------------------------------
E = ch01.UNROLL_EXAMPLE
H1 = math.tanh(E["w_xh"] * E["x"][0])
H2 = math.tanh(E["w_xh"] * E["x"][1] + E["w_hh"] * H1)


def test_unroll_reference_passes_also_rounded(capsys):
    assert checks.unroll_two_steps(H1, H2).status == "passed"
    assert checks.unroll_two_steps(round(H1, 3), round(H2, 3))
    assert capsys.readouterr().out.startswith("PASSED unroll_two_steps")


@pytest.mark.parametrize("h1, h2", [(None, None), (H1, None), (..., H2)])
def test_unroll_placeholders_are_todo(h1, h2, capsys):
    assert checks.unroll_two_steps(h1, h2).status == "todo"
    assert "TODO unroll_two_steps" in capsys.readouterr().out


@pytest.mark.parametrize("h1, h2, hint", [
    (1.0, H2, "pre-activation a_1"),
    (0.5, H2, "h1 = 0.5 is wrong"),
    (H1, H1, "only the recurrent term"),
    (H1, E["w_xh"] * E["x"][1] + E["w_hh"] * H1, "pre-activation a_2"),
    (H1, math.tanh(E["w_xh"] * E["x"][1] + E["w_hh"] * 1.0), "instead of the state h_1"),
    (H1, math.tanh(E["w_xh"] * E["x"][1] - E["w_hh"] * H1), "sign of the recurrent term"),
    (H1, 0.9, "h2 = 0.9 is wrong"),
    ("a", H2, "should be numbers"),
])
def test_unroll_mistakes_get_hints(h1, h2, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.unroll_two_steps(h1, h2)


# -- ex-01-1: parameter count -----------------------------------------------------------------
def count(D, H, O, L):
    return L * (H * H + 2 * H) + H * D + (L - 1) * H * H + O * H + O


def test_count_reference_passes():
    assert checks.rnn_param_count(count).status == "passed"
    assert checks.rnn_param_count(lambda *a: float(count(*a))).status == "passed"


def test_count_by_instantiating_also_passes():
    def by_torch(D, H, O, L):
        return sum(p.numel() for m in (nn.RNN(D, H, num_layers=L), nn.Linear(H, O))
                   for p in m.parameters())
    assert checks.rnn_param_count(by_torch)


def test_count_stub_is_todo(capsys):
    def stub(D, H, O, L):
        raise NotImplementedError("count the parameters")
    assert checks.rnn_param_count(stub).status == "todo"
    assert checks.rnn_param_count(lambda *a: None).status == "todo"
    assert "TODO rnn_param_count" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda D, H, O, L: count(D, H, O, L) - L * H, "two bias vectors per layer"),
    (lambda D, H, O, L: count(D, H, O, L) + L * H, "three bias vectors"),
    (lambda D, H, O, L: count(D, H, O, L) - O * H - O, "add the linear read-out"),
    (lambda D, H, O, L: count(D, H, O, L) - O, "also has O biases"),
    (lambda D, H, O, L: count(D, H, O, L) - L * H * H, "recurrent matrix W_hh"),
    (lambda D, H, O, L: L * (H * D + H * H + 2 * H) + O * H + O, "not the input"),
    (lambda D, H, O, L: count(D, H, O, 1), "counted one layer"),
    (lambda D, H, O, L: 7, "write the count as a sum"),
    (lambda D, H, O, L: 2.5, "return an integer"),
    (lambda D, H, O, L: "many", "return an integer"),
])
def test_count_mistakes_get_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.rnn_param_count(wrong)


# -- ex-01-3: the forward loop ----------------------------------------------------------------
def loop(x, W_xh, W_hh, b_h, h0):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        hs.append(h)
    return np.stack(hs, axis=1)


def test_loop_reference_passes(capsys):
    assert checks.rnn_forward_loop(loop).status == "passed"
    assert "PASSED rnn_forward_loop" in capsys.readouterr().out


def test_loop_torch_answer_passes():
    def torch_loop(x, W_xh, W_hh, b_h, h0):
        return torch.from_numpy(loop(x, W_xh, W_hh, b_h, h0))
    assert checks.rnn_forward_loop(torch_loop)


def test_loop_stub_is_todo():
    def stub(x, W_xh, W_hh, b_h, h0):
        raise NotImplementedError("write the loop")
    assert checks.rnn_forward_loop(stub).status == "todo"
    assert checks.rnn_forward_loop(lambda *a: None).status == "todo"


def no_update(x, W_xh, W_hh, b_h, h0):
    return np.stack([np.tanh(x[:, t] @ W_xh.T + h0 @ W_hh.T + b_h) for t in range(x.shape[1])], 1)


def shifted(x, W_xh, W_hh, b_h, h0):
    full = loop(x, W_xh, W_hh, b_h, h0)
    return np.concatenate([h0[:, None], full[:, :-1]], axis=1)


def linear(x, W_xh, W_hh, b_h, h0):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = x[:, t] @ W_xh.T + h @ W_hh.T + b_h
        hs.append(h)
    return np.stack(hs, axis=1)


def from_zeros(x, W_xh, W_hh, b_h, h0):
    return loop(x, W_xh, W_hh, b_h, np.zeros_like(h0))


def untransposed_W_hh(x, W_xh, W_hh, b_h, h0):
    return loop(x, W_xh, W_hh.T, b_h, h0)


def untransposed_W_xh(x, W_xh, W_hh, b_h, h0):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh.T + b_h)
        hs.append(h)
    return np.stack(hs, axis=1)


def time_major(x, W_xh, W_hh, b_h, h0):
    return loop(x, W_xh, W_hh, b_h, h0).transpose(1, 0, 2)


def list_of_steps(x, W_xh, W_hh, b_h, h0):
    return list(time_major(x, W_xh, W_hh, b_h, h0))


def last_step_wrong(x, W_xh, W_hh, b_h, h0):
    hs = loop(x, W_xh, W_hh, b_h, h0)
    hs[:, -1] *= 0.5
    return hs


def doubled(x, W_xh, W_hh, b_h, h0):
    return 2 * loop(x, W_xh, W_hh, b_h, h0)


def a_dict(x, W_xh, W_hh, b_h, h0):
    return {"h": 1}


@pytest.mark.parametrize("wrong, hint", [
    (no_update, "every step starts from h0"),
    (shifted, "off by one"),
    (linear, "apply tanh"),
    (from_zeros, "from the given h0, not zeros"),
    (untransposed_W_hh, r"h @ W_hh.T .*not h @ W_hh"),
    (untransposed_W_xh, "raised ValueError.*x_t @ W_xh.T"),
    (time_major, r"\(T, B, H\), time first"),
    (list_of_steps, r"\(T, B, H\), time first"),
    (last_step_wrong, "wrong from time step 4 on"),
    (doubled, "constant factor of 2"),
    (a_dict, "as one array"),
])
def test_loop_mistakes_get_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.rnn_forward_loop(wrong)


def test_checks_do_not_modify_the_cases():
    def mutating(x, W_xh, W_hh, b_h, h0):
        W_hh *= 0  # a learner's in-place edit must not change the next case's reference
        return loop(x, W_xh, W_hh, b_h, h0)
    with pytest.raises(CheckFailed):
        checks.rnn_forward_loop(mutating)
    assert checks.rnn_forward_loop(loop)
