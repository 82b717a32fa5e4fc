"""Unit tests of rnnlab.checks.ch04: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import pytest
import torch
from checkcases import SEEDS, Protocol, assert_hint, assert_hints

from rnnlab.checks import ch04
from rnnlab.gated import LSTMCell

pytestmark = pytest.mark.usefixtures("lenient")


# -- the references ---------------------------------------------------------------------------
G = {"rnn": 1, "lstm": 4, "gru": 3}


def count_ref(kind, D, H):
    return G[kind] * (H * D + H * H + 2 * H)


def peep_ref(x_t, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o, *, o_sees="c", swap=False,
             order="ifgo"):
    a = dict(zip(order, (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(4, dim=1)))
    if swap:
        p_i, p_f = p_f, p_i
    i, f = torch.sigmoid(a["i"] + p_i * c_prev), torch.sigmoid(a["f"] + p_f * c_prev)
    c = f * c_prev + i * torch.tanh(a["g"])
    o = torch.sigmoid(a["o"] + p_o * (c if o_sees == "c" else c_prev))
    return o * torch.tanh(c), c


def cifg_ref(x_t, h_prev, c_prev, W_x, W_h, b, *, mistake=""):
    a_i, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(3, dim=1)
    i, g, o = torch.sigmoid(a_i), torch.tanh(a_g), torch.sigmoid(a_o)
    f = torch.sigmoid(-a_i) if mistake != "f=i" else i      # 1 - sigma(a) = sigma(-a)
    c = f * c_prev + (g if mistake == "no i" else i * g)
    if mistake == "o sigmoid c":
        return o * torch.sigmoid(c), c
    return o * torch.tanh(c), c


def backward_by_autograd(a, c_prev, dh, dc):
    a, c_prev = a.clone().requires_grad_(True), c_prev.clone().requires_grad_(True)
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    c = torch.sigmoid(a_f) * c_prev + torch.sigmoid(a_i) * torch.tanh(a_g)
    h = torch.sigmoid(a_o) * torch.tanh(c)
    da, dc_prev = torch.autograd.grad((h * dh).sum() + (c * dc).sum(), (a, c_prev))
    return da, dc_prev


PROTOCOL = [
    Protocol(ch04.param_count, count_ref),
    Protocol(ch04.peephole_lstm_step, peep_ref),
    Protocol(ch04.cifg_lstm_step, cifg_ref),
    Protocol(ch04.lstm_step_backward, backward_by_autograd),
]


# -- ex-04-1 -----------------------------------------------------------------------------------
PARAM_COUNT_WRONG = [        # (answer, hint)
    (lambda k, D, H: G[k] * (H * D + H * H + H), "one bias per gate"),
    (lambda k, D, H: G[k] * (H * D + H * H), "biases are missing"),
    (lambda k, D, H: G[k] * (H * D + H + 2 * H), "count H\\*H per gate"),
    (lambda k, D, H: (3 if k == "lstm" else G[k]) * (H * D + H * H + 2 * H), "G = 4 blocks"),
    (lambda k, D, H: count_ref(k, D, H) + 1, "expected"),
]


def test_param_count_wrong(subtests):
    assert_hints(subtests, ch04.param_count, PARAM_COUNT_WRONG)


# -- ex-04-2 -----------------------------------------------------------------------------------
def test_peephole_cases_with_zero_peepholes_are_lstm_steps(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            for args, _ in ch04._lstm_cases(seed):
                D, H = args["x_t"].shape[1], args["h_prev"].shape[1]
                cell = LSTMCell(D, H).double()
                with torch.no_grad():
                    cell.W_x.copy_(args["W_x"])
                    cell.W_h.copy_(args["W_h"])
                    cell.b.copy_(args["b"])
                z = torch.zeros(H, dtype=torch.float64)
                h, c = peep_ref(**args, p_i=z, p_f=z, p_o=z)
                want_h, want_c = cell(args["x_t"], (args["h_prev"], args["c_prev"]))
                assert torch.allclose(h, want_h) and torch.allclose(c, want_c)


PEEPHOLE_WRONG = [           # (answer, hint)
    (lambda *a, **k: peep_ref(*a, **k, o_sees="c_prev"), "new cell c_t"),
    (lambda *a, **k: peep_ref(*a, **k, swap=True), "swapped"),
    (lambda *a, **k: peep_ref(*a, **{**k, "p_f": 0 * k["p_f"]}), "forget gate has no peephole"),
    (lambda *a, **k: peep_ref(*a, **{**k, "p_i": 0 * k["p_i"]}), "input gate has no peephole"),
    (lambda *a, **k: peep_ref(*a, **{**k, "p_o": 0 * k["p_o"]}), "output gate has no peephole"),
    (lambda *a, **k: peep_ref(*a, **k, order="figo"), "all peepholes zero"),
    (lambda *a, **k: peep_ref(*a, **k)[0], "return a pair"),
    (lambda *a, **k: (peep_ref(*a, **k)[0][:, :-1], peep_ref(*a, **k)[1]), "shape"),
]


def test_peephole_wrong(subtests):
    assert_hints(subtests, ch04.peephole_lstm_step, PEEPHOLE_WRONG)


# -- ex-04-3 -----------------------------------------------------------------------------------
def test_cifg_wrong(subtests):
    for mistake, hint in [("f=i", "1 - i, not i"), ("no i", "scaled by the input gate"),
                          ("o sigmoid c", "h .*differs")]:
        with subtests.test(mistake=mistake, hint=hint):
            assert_hint(ch04.cifg_lstm_step,
                        lambda *a, m=mistake, **k: cifg_ref(*a, **k, mistake=m), hint)


# -- ex-04-5 -----------------------------------------------------------------------------------
def test_backward_reference_of_the_check_equals_autograd(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            for case in ch04._backward_cases(seed):
                for got, want in zip(ch04._backward_ref(*case), backward_by_autograd(*case)):
                    assert torch.allclose(got, want, rtol=1e-12, atol=1e-14)


BACKWARD_WRONG = [           # (answer, hint): the check's own typical mistakes, then no pair
    *[(lambda a, c, dh, dc, v=v: ch04._backward_ref(a, c, dh, dc, v), hint) for v, hint in [
        ("no tanh'", "tanh'\\(c\\)"), ("no dh", "path through h_t is missing"),
        ("sigmoid g", "1 - g\\*\\*2"), ("no f", "forget gate f")]],
    (lambda a, c, dh, dc: a, "return a pair"),
]


def test_backward_wrong(subtests):
    assert_hints(subtests, ch04.lstm_step_backward, BACKWARD_WRONG)
