"""Checks of the chapter 4 exercises (LSTM and GRU).

* :func:`param_count`: parameters of ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` by formula (ex-04-1);
* :func:`peephole_lstm_step`: one step of an LSTM with peephole connections (ex-04-2);
* :func:`cifg_lstm_step`: one step of an LSTM whose forget gate is ``1 - i`` (ex-04-3);
* :func:`lstm_step_backward`: the backward pass of one LSTM step by hand (ex-04-5).

Each runs the learner's function on several cases against a reference and, when the answer
equals a typical mistake, says which one. With ``seed=0`` (the default) a check runs the cases
the chapter shows; another seed draws other cases of the same kind (hidden tests).
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._core import call_student, check, diagnose, fail, int_between

__all__ = ["param_count", "peephole_lstm_step", "cifg_lstm_step", "lstm_step_backward"]

_DT = torch.float64


def _diagnose(got, want, wrong: dict, *, what):
    """:func:`diagnose` at this chapter's float64 tolerances."""
    diagnose(got, want, wrong, what=what, rtol=1e-9, atol=1e-12)


def _pair(out, what):
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        fail(f"return a pair {what}, got {type(out).__name__}")
    return out


# -- ex-04-1 ---------------------------------------------------------------------------------
_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
_MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _count_cases(seed: int) -> list:
    """(kind, D, H): each kind with the visible sizes for seed 0, else with three drawn pairs
    (the smallest, D = H = 1, kept)."""
    sizes = [(2, 32), (10, 64), (1, 1)]
    if seed != 0:
        n = int_between(np.random.default_rng(seed))
        sizes = [(n(2, 12), n(8, 64)), (n(2, 16), n(8, 96)), (1, 1)]
    return [(k, D, H) for k in ("rnn", "lstm", "gru") for D, H in sizes]


@check("param_count")
def param_count(fn, *, seed: int = 0):
    """Check ``fn(kind, input_size, hidden_size)``: the number of parameters of a one-layer
    ``torch.nn.RNN`` / ``LSTM`` / ``GRU`` (``kind`` = ``"rnn"``, ``"lstm"``, ``"gru"``).
    Another ``seed`` draws other sizes."""
    cases = _count_cases(seed)
    for kind, D, H in cases:
        want = sum(p.numel() for p in _MODULES[kind](D, H).parameters())
        got = call_student(fn, kind, D, H)
        if got == want:
            continue
        G = _GATES[kind]
        where = (f"for kind={kind!r}, input_size={D}, hidden_size={H}: got {got!r}, "
                 f"expected {want}")
        wrong = {
            G * H * (D + H) + G * H: "one bias per gate; PyTorch keeps two, bias_ih and bias_hh",
            G * H * (D + H): "the biases are missing (two vectors of G*H entries)",
            G * (D * H + H + 2 * H): "W_hh is (G*H, H): count H*H per gate, not H",
        }
        for g_wrong in {1, 2, 3, 4} - {G}:
            wrong.setdefault(g_wrong * H * (D + H + 2),
                             f"the {kind.upper()} has G = {G} blocks of rows (the candidate "
                             "counts as one), not " + str(g_wrong))
        fail(f"{where}: {wrong[got]}" if got in wrong else where)
    return f"the formula matches torch.nn on {len(cases)} cases"


# -- shared LSTM data ------------------------------------------------------------------------
def _lstm_case(seed, B=3, D=2, H=4, G=4):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=_DT)  # noqa: E731
    return dict(x_t=r(B, D), h_prev=r(B, H) * 0.5, c_prev=r(B, H), W_x=r(G * H, D) * 0.7,
                W_h=r(G * H, H) * 0.5, b=r(G * H) * 0.3), (r(H), r(H), r(H))


def _lstm_cases(seed: int, G: int = 4) -> list:
    """Three cases of :func:`_lstm_case`: data seeds 0, 1, 2 and sizes B=3, D=2, H=4 for seed 0,
    else drawn data seeds and sizes."""
    if seed == 0:
        return [_lstm_case(s, G=G) for s in range(3)]
    n = int_between(np.random.default_rng(seed))
    return [_lstm_case(n(3, 2**31), B=n(1, 4), D=n(1, 4), H=n(1, 6), G=G) for _ in range(3)]


def _peephole(x_t, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o, o_sees="c"):
    a_i, a_f, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(4, dim=1)
    i, f = torch.sigmoid(a_i + p_i * c_prev), torch.sigmoid(a_f + p_f * c_prev)
    c = f * c_prev + i * torch.tanh(a_g)
    o = torch.sigmoid(a_o + p_o * (c if o_sees == "c" else c_prev))
    return o * torch.tanh(c), c


# -- ex-04-2 ---------------------------------------------------------------------------------
@check("peephole_lstm_step")
def peephole_lstm_step(fn, *, seed: int = 0):
    """Check ``fn(x_t, h_prev, c_prev, W_x, W_h, b, p_i, p_f, p_o) -> (h, c)``: an LSTM step
    (rows i, f, g, o) where the input and forget gates also see ``c_prev`` and the output
    gate sees the new ``c`` through the diagonal weights ``p_*`` (Gers et al.; Greff et al.).
    Another ``seed`` draws other sizes and values."""
    for args, (p_i, p_f, p_o) in _lstm_cases(seed):
        zero = torch.zeros_like(p_i)
        plain = _peephole(**args, p_i=zero, p_f=zero, p_o=zero)
        got = _pair(call_student(fn, **args, p_i=zero, p_f=zero, p_o=zero), "(h, c)")
        for k, part in enumerate("hc"):
            _diagnose(got[k], plain[k], {}, what=f"{part} with all peepholes zero "
                      "(it must equal an ordinary LSTM step; check the gate order i, f, g, o)")
        want = _peephole(**args, p_i=p_i, p_f=p_f, p_o=p_o)
        got = _pair(call_student(fn, **args, p_i=p_i, p_f=p_f, p_o=p_o), "(h, c)")
        _diagnose(got[1], want[1], {
            "p_i and p_f are swapped": _peephole(**args, p_i=p_f, p_f=p_i, p_o=p_o)[1],
            "the forget gate has no peephole": _peephole(**args, p_i=p_i, p_f=zero, p_o=p_o)[1],
            "the input gate has no peephole": _peephole(**args, p_i=zero, p_f=p_f, p_o=p_o)[1],
        }, what="c")
        _diagnose(got[0], want[0], {
            "the output gate must look at the new cell c_t, not c_prev (it is computed "
            "after c)": _peephole(**args, p_i=p_i, p_f=p_f, p_o=p_o, o_sees="c_prev")[0],
            "the output gate has no peephole": _peephole(**args, p_i=p_i, p_f=p_f, p_o=zero)[0],
        }, what="h")
    return ("h and c match on 3 random cases, and equal a plain LSTM step when "
            "the peepholes are zero")


# -- ex-04-3 ---------------------------------------------------------------------------------
def _cifg(x_t, h_prev, c_prev, W_x, W_h, b, variant=""):
    a_i, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(3, dim=1)
    i, g, o = torch.sigmoid(a_i), torch.tanh(a_g), torch.sigmoid(a_o)
    f = i if variant == "f=i" else 1 - i
    c = f * c_prev + (g if variant == "no i" else i * g)
    return o * torch.tanh(c), c


@check("cifg_lstm_step")
def cifg_lstm_step(fn, *, seed: int = 0):
    """Check ``fn(x_t, h_prev, c_prev, W_x, W_h, b) -> (h, c)``: an LSTM step with coupled
    input and forget gates, ``f = 1 - i``; ``W_x (3H, D)``, ``W_h (3H, H)``, ``b (3H,)``
    with rows i, g, o. Another ``seed`` draws other sizes and values."""
    for args, _ in _lstm_cases(seed, G=3):
        want = _cifg(**args)
        got = _pair(call_student(fn, **args), "(h, c)")
        _diagnose(got[1], want[1], {
            "the forget gate is 1 - i, not i": _cifg(**args, variant="f=i")[1],
            "the candidate g must still be scaled by the input gate: c = (1 - i) c_prev + i g":
                _cifg(**args, variant="no i")[1],
        }, what="c")
        _diagnose(got[0], want[0], {}, what="h")
    return "h and c match on 3 random cases"


# -- ex-04-5 ---------------------------------------------------------------------------------
def _backward_ref(a, c_prev, dh, dc, variant=""):
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
    c = f * c_prev + i * g
    tc = torch.tanh(c)
    dc_total = dc + (dh * o if variant == "no tanh'" else dh * o * (1 - tc ** 2))
    if variant == "no dh":
        dc_total = dc
    dg = dc_total * i * (g * (1 - g) if variant == "sigmoid g" else 1 - g ** 2)
    da = torch.cat([dc_total * g * i * (1 - i), dc_total * c_prev * f * (1 - f), dg,
                    dh * tc * o * (1 - o)], dim=1)
    return da, dc_total * (1 if variant == "no f" else f)


def _backward_cases(seed: int) -> list:
    """(a, c_prev, dh, dc) of three steps: B=3, H=4 from data seeds 0, 1, 2 for seed 0, else
    drawn sizes and data seeds."""
    if seed == 0:
        sizes = [(s, 3, 4) for s in range(3)]
    else:
        n = int_between(np.random.default_rng(seed))
        sizes = [(n(3, 2**31), n(1, 4), n(1, 6)) for _ in range(3)]
    cases = []
    for data_seed, B, H in sizes:
        gen = torch.Generator().manual_seed(data_seed)
        cases.append(tuple(torch.randn(*s, generator=gen, dtype=_DT)
                           for s in ((B, 4 * H), (B, H), (B, H), (B, H))))
    return cases


@check("lstm_step_backward")
def lstm_step_backward(fn, *, seed: int = 0):
    """Check ``fn(a, c_prev, dh, dc) -> (da, dc_prev)``. ``a (B, 4H)`` holds the
    pre-activations of i, f, g, o of one step, ``c_prev (B, H)`` the previous cell; ``dh`` and
    ``dc`` are dL/dh_t and the dL/dc_t that arrives from later steps. Return dL/da and
    dL/dc_prev. Another ``seed`` draws other sizes and values."""
    for a, c_prev, dh, dc in _backward_cases(seed):
        want = _backward_ref(a, c_prev, dh, dc)
        got = _pair(call_student(fn, a.clone(), c_prev.clone(), dh.clone(), dc.clone()),
                    "(da, dc_prev)")
        wrong = {v: _backward_ref(a, c_prev, dh, dc, v) for v in
                 ("no tanh'", "no dh", "sigmoid g", "no f")}
        no_dh = "dL/dc_t is dc + dh * o * (1 - tanh(c)**2): the path through h_t is missing"
        _diagnose(got[0], want[0], {
            "dh reaches c through h = o tanh(c): multiply by o and by tanh'(c) = 1 - tanh(c)**2":
                wrong["no tanh'"][0],
            no_dh: wrong["no dh"][0],
            "g is a tanh, so its derivative is 1 - g**2, not g (1 - g)": wrong["sigmoid g"][0],
        }, what="da")
        _diagnose(got[1], want[1], {
            "dc_prev is dL/dc_t times the forget gate f (the carousel), f is missing":
                wrong["no f"][1],
            no_dh: wrong["no dh"][1],
        }, what="dc_prev")
    return "da and dc_prev match autograd on 3 random cases"
