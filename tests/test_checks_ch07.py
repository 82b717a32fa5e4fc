"""Unit tests of rnnlab.checks.ch07: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import math
from functools import partial

import pytest
import torch
from checkcases import Protocol, assert_hints, unfilled

from rnnlab.checks import ch07
from rnnlab.scan import recurrence_loop, recurrence_scan

pytestmark = pytest.mark.usefixtures("lenient")


# -- the references ---------------------------------------------------------------------------
def _past(x, d, fill):
    return torch.cat([torch.full_like(x[:, :d], fill), x[:, :-d]], dim=1)


def doubling_ref(a, b, *, mistake=""):
    T, d = b.shape[1], 1
    while (2 * d < T) if mistake == "few" else (d < T):
        if mistake == "order":
            a = a * _past(a, d, 1.0)
            b = b + a * _past(b, d, 0.0)
        elif mistake == "no a":
            b = b + a * _past(b, d, 0.0)
        elif mistake == "factor":
            b, a = b + _past(a, d, 1.0) * _past(b, d, 0.0), a * _past(a, d, 1.0)
        elif mistake == "future":
            b = b + a * torch.cat([b[:, d:], torch.zeros_like(b[:, :d])], dim=1)
            a = a * torch.cat([a[:, d:], torch.ones_like(a[:, :d])], dim=1)
        else:
            b, a = b + a * _past(b, d, 0.0), a * _past(a, d, 1.0)
        d *= 2
    return b


def horizon_ref(r_min, r_max, eps):
    return math.log(eps) / math.log(r_min), math.log(eps) / math.log(r_max)


def attention_ref(s, keys, W_s, W_h, v, mask, *, mistake=""):
    inside = (s @ W_s.T).unsqueeze(1) + keys @ W_h.T                 # (B, S, A)
    e = torch.tanh(inside) @ v                                       # (B, S)
    if mistake == "no tanh":
        e = inside @ v
    if mistake == "dot":
        e = torch.einsum("bh,bsh->bs", s, keys)
    if mistake == "no query":
        e = torch.tanh(keys @ W_h.T) @ v
    if mistake == "no mask":
        return torch.softmax(e, dim=1)
    if mistake == "after":
        return torch.softmax(e, dim=1) * mask
    e = e.masked_fill(~mask, float("-inf"))
    if mistake == "batch axis":
        return torch.softmax(e, dim=0).nan_to_num()
    return torch.softmax(e, dim=1)


def mingru_ref(x, W_x, b, *, mistake=""):
    a_z, a_n = (x @ W_x.T + b).chunk(2, dim=-1)                       # (B, T, H) each
    if mistake == "rows":
        a_z, a_n = a_n, a_z
    z = torch.sigmoid(a_z)
    n = torch.tanh(a_n) if mistake == "tanh" else a_n
    h, out = torch.zeros_like(z[:, 0]), []
    for t in range(x.shape[1]):
        if mistake == "feng":
            h = (1 - z[:, t]) * h + z[:, t] * n[:, t]
        elif mistake == "no 1-z":
            h = n[:, t] + z[:, t] * h
        else:
            h = (1 - z[:, t]) * n[:, t] + z[:, t] * h
        out.append(h)
    out = torch.stack(out, dim=1)                                    # (B, T, H)
    return out[:, -1] if mistake == "last" else out


def single(t):
    """``t`` in single precision: float32, or complex64 for a complex tensor."""
    return t.to(torch.complex64 if t.is_complex() else torch.float32)


def mingru_by_scan(x, W_x, b):
    a_z, a_n = (x @ W_x.T + b).chunk(2, dim=-1)
    z = torch.sigmoid(a_z)
    return recurrence_scan(z, (1 - z) * a_n)


PROTOCOL = [
    Protocol(ch07.scan_doubling, doubling_ref, starters=(unfilled, None),
             also_correct={"recurrence_scan": recurrence_scan}),
    Protocol(ch07.ring_horizon, horizon_ref, starters=(unfilled, None),
             also_correct={"as an array": lambda *a: torch.tensor(horizon_ref(*a),
                                                                  dtype=torch.float64)}),
    Protocol(ch07.attention_weights, attention_ref, starters=(unfilled, None),
             also_correct={"in numpy": lambda *a: attention_ref(*a).numpy()}),
    Protocol(ch07.mingru, mingru_ref, starters=(unfilled, None),
             also_correct={"by the scan": mingru_by_scan}),
]


# -- ex-07-1 -----------------------------------------------------------------------------------
def _in_place(a, b):
    T, d = b.shape[1], 1
    while d < T:
        b_past, a_past = _past(b, d, 0.0), _past(a, d, 1.0)
        b += a * b_past
        a *= a_past
        d *= 2
    return b


SCAN_DOUBLING_WRONG = [      # (answer, hint)
    (lambda a, b: doubling_ref(a, b, mistake="few"), "one round is missing"),
    (lambda a, b: doubling_ref(a, b, mistake="order"), "a was updated before b"),
    (lambda a, b: doubling_ref(a, b, mistake="no a"), "a is never updated"),
    (lambda a, b: doubling_ref(a, b, mistake="factor"), "not through a_\\(t-d\\)"),
    (lambda a, b: doubling_ref(a, b, mistake="future"), "shift goes the wrong way"),
    (_in_place, "changed a or b in place"),
    (lambda a, b: recurrence_loop(a, b)[:, 1:], "shape"),
    (lambda a, b: doubling_ref(a, b) + 1, "differs from the reference"),
    (lambda a, b: doubling_ref(single(a), single(b)), "only to about 1e-6"),
    (lambda a, b: doubling_ref(a, b).real if b.is_complex() else doubling_ref(a, b),
     "return a complex tensor when a and b are complex"),
]


def test_scan_doubling_wrong(subtests):
    assert_hints(subtests, ch07.scan_doubling, SCAN_DOUBLING_WRONG)


# -- ex-07-2 -----------------------------------------------------------------------------------
RING_HORIZON_WRONG = [       # (answer, hint)
    (lambda a, b, e: horizon_ref(a, b, e)[::-1], "wrong order"),
    (lambda a, b, e: (math.log(a) / math.log(e), math.log(b) / math.log(e)),
     "not ln\\(r\\) / ln\\(eps\\)"),
    (lambda a, b, e: (-math.log(e) / (1 - a), -math.log(e) / (1 - b)), "exact logarithm"),
    (lambda a, b, e: tuple(k / 2 for k in horizon_ref(a, b, e)), "not its square"),
    (lambda a, b, e: tuple(math.ceil(k) for k in horizon_ref(a, b, e)), "do not round"),
    (lambda a, b, e: tuple(k * math.log(10) for k in horizon_ref(a, b, e)), "constant factor"),
    (lambda a, b, e: horizon_ref(a, b, e)[0], "return a pair"),
    (lambda a, b, e: ("1", "2"), "pair of two numbers"),
]


def test_ring_horizon_wrong(subtests):
    assert_hints(subtests, ch07.ring_horizon, RING_HORIZON_WRONG)


# -- ex-07-3 -----------------------------------------------------------------------------------
ATTENTION_WRONG = [          # (mistake, answer, hint)
    ("no mask", partial(attention_ref, mistake="no mask"), "padding positions got weight"),
    ("after", partial(attention_ref, mistake="after"), "after the softmax"),
    ("batch axis", partial(attention_ref, mistake="batch axis"), "over the batch"),
    ("no tanh", partial(attention_ref, mistake="no tanh"), "tanh is missing"),
    ("dot", partial(attention_ref, mistake="dot"), "dot-product attention"),
    ("no query", partial(attention_ref, mistake="no query"), "do not depend on the query"),
    ("a position short", lambda *a: attention_ref(*a)[:, :-1], "shape"),
    ("squared", lambda *a: attention_ref(*a) ** 2, "differs"),
    ("float32", lambda *a: attention_ref(*(single(t) for t in a[:5]), a[5]), "single precision"),
]


def test_attention_weights_wrong(subtests):
    assert_hints(subtests, ch07.attention_weights, ATTENTION_WRONG)


# -- ex-07-4 -----------------------------------------------------------------------------------
MINGRU_WRONG = [             # (mistake, answer, hint)
    ("feng", partial(mingru_ref, mistake="feng"), "z and 1 - z swapped"),
    ("tanh", partial(mingru_ref, mistake="tanh"), "drop the tanh"),
    ("rows", partial(mingru_ref, mistake="rows"), "z first, then n"),
    ("no 1-z", partial(mingru_ref, mistake="no 1-z"), "weight 1 - z"),
    ("last", partial(mingru_ref, mistake="last"), "not only the last state"),
    ("a step short", lambda *a: mingru_ref(*a)[:, 1:], "shape"),
    ("a string", lambda *a: "h", "array of numbers"),
    ("float32", lambda *a: mingru_ref(*(single(t) for t in a)), "single precision"),
]


def test_mingru_wrong(subtests):
    assert_hints(subtests, ch07.mingru, MINGRU_WRONG)
