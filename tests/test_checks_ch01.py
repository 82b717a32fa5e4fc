"""Unit tests of rnnlab.checks.ch01: ex-01-1's values, and the typical mistakes and special cases
of the other checks. Their protocol cases (references and other correct answers pass, starters
are TODO, answers hard-coded for the visible cases fail) are the table ``PROTOCOL``, run by
test_checks_protocol.py."""
import math

import numpy as np
import pytest
import torch
from checkcases import SEEDS, Protocol, assert_hints, unfilled
from torch import nn

from rnnlab.checks import CheckFailed, ch01

pytestmark = pytest.mark.usefixtures("lenient")


# -- ex-01-1: unroll two steps by hand ------------------------------------------------------
E = ch01.UNROLL_EXAMPLE
H1 = math.tanh(E["w_xh"] * E["x"][0])
H2 = math.tanh(E["w_xh"] * E["x"][1] + E["w_hh"] * H1)


def test_unroll_passes_exact_and_rounded_answers_and_ignores_the_seed(subtests, capsys):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            capsys.readouterr()
            exact = ch01.unroll_two_steps(H1, H2, seed=seed)
            assert exact.status == "passed"
            assert ch01.unroll_two_steps(round(H1, 3), round(H2, 3), seed=seed)
            assert exact.message == ch01.unroll_two_steps(H1, H2).message
            assert capsys.readouterr().out.startswith("PASSED unroll_two_steps")


def test_unroll_placeholders_are_todo(subtests, capsys):
    for what, h1, h2 in [("both None", None, None), ("h2 None", H1, None),
                         ("h1 Ellipsis", ..., H2)]:
        with subtests.test(what):
            capsys.readouterr()
            assert ch01.unroll_two_steps(h1, h2).status == "todo"
            assert "TODO unroll_two_steps" in capsys.readouterr().out


UNROLL_WRONG = [                        # (h1, h2, hint); the hint is the subtest's id
    (1.0, H2, "pre-activation a_1"),
    (0.5, H2, "h1 = 0.5 is wrong"),
    (H1, H1, "only the recurrent term"),
    (H1, E["w_xh"] * E["x"][1] + E["w_hh"] * H1, "pre-activation a_2"),
    (H1, math.tanh(E["w_xh"] * E["x"][1] + E["w_hh"] * 1.0), "instead of the state h_1"),
    (H1, math.tanh(E["w_xh"] * E["x"][1] - E["w_hh"] * H1), "sign of the recurrent term"),
    (H1, 0.9, "h2 = 0.9 is wrong"),
    ("a", H2, "should be numbers, got str and float"),
    (str(H1), str(H2), "should be numbers, got str and str"),   # the right digits as text
]


def test_unroll_mistakes_get_hints(subtests):
    for h1, h2, hint in UNROLL_WRONG:
        with subtests.test(hint=hint):
            with pytest.raises(CheckFailed, match="^unroll_two_steps: .*" + hint):
                ch01.unroll_two_steps(h1, h2)


# -- ex-01-2: parameter count; ex-01-3: the forward loop ------------------------------------
def count(D, H, O, L):  # noqa: E741
    return L * (H * H + 2 * H) + H * D + (L - 1) * H * H + O * H + O


def count_by_torch(D, H, O, L):  # noqa: E741
    return sum(p.numel() for m in (nn.RNN(D, H, num_layers=L), nn.Linear(H, O))
               for p in m.parameters())


def loop(x, W_xh, W_hh, b_h, h0):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)
        hs.append(h)
    return np.stack(hs, axis=1)


def returns_none(*args):
    """A starter that returns nothing yet: ex-01-2 and ex-01-3 take it as not attempted."""
    return None


PROTOCOL = [
    Protocol(ch01.rnn_param_count, count, starters=(unfilled, returns_none),
             also_correct={"as a float": lambda *a: float(count(*a)),
                           "by instantiating": count_by_torch}),
    Protocol(ch01.rnn_forward_loop, loop, starters=(unfilled, returns_none),
             also_correct={"returning a tensor": lambda *a: torch.from_numpy(loop(*a))}),
]


COUNT_WRONG = [                         # (what, wrong, hint); K is the read-out size O
    ("one bias", lambda D, H, K, L: count(D, H, K, L) - L * H, "two bias vectors per layer"),
    ("three biases", lambda D, H, K, L: count(D, H, K, L) + L * H, "three bias vectors"),
    ("no read-out", lambda D, H, K, L: count(D, H, K, L) - K * H - K, "add the linear read-out"),
    ("no read-out bias", lambda D, H, K, L: count(D, H, K, L) - K, "also has O biases"),
    ("no W_hh", lambda D, H, K, L: count(D, H, K, L) - L * H * H, "recurrent matrix W_hh"),
    ("every layer reads x", lambda D, H, K, L: L * (H * D + H * H + 2 * H) + K * H + K,
     "not the input"),
    ("one layer", lambda D, H, K, L: count(D, H, K, 1), "counted one layer"),
    ("a constant", lambda D, H, K, L: 7, "write the count as a sum"),
    ("a fraction", lambda D, H, K, L: 2.5, "return an integer"),
    ("a string", lambda D, H, K, L: "many", "return an integer"),
]


def test_count_mistakes_get_hints(subtests):
    assert_hints(subtests, ch01.rnn_param_count, COUNT_WRONG)


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


def untransposed_W_xh(x, W_xh, W_hh, b_h, h0):
    h, hs = h0, []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ W_xh + h @ W_hh.T + b_h)
        hs.append(h)
    return np.stack(hs, axis=1)


def time_major(x, W_xh, W_hh, b_h, h0):
    return loop(x, W_xh, W_hh, b_h, h0).transpose(1, 0, 2)


def last_step_wrong(x, W_xh, W_hh, b_h, h0):
    hs = loop(x, W_xh, W_hh, b_h, h0)
    hs[:, -1] *= 0.5
    return hs


LOOP_WRONG = [                          # (what, wrong, hint)
    ("no update", no_update, "every step starts from h0"),
    ("shifted", shifted, "off by one"),
    ("linear", linear, "apply tanh"),
    ("zero h0", lambda x, W_xh, W_hh, b_h, h0: loop(x, W_xh, W_hh, b_h, 0 * h0),
     "given h0, not zeros"),
    ("W_hh transposed", lambda x, W_xh, W_hh, b_h, h0: loop(x, W_xh, W_hh.T, b_h, h0),
     r"h @ W_hh.T .*not h @ W_hh"),
    ("W_xh untransposed", untransposed_W_xh, "raised ValueError.*x_t @ W_xh.T"),
    ("time major", time_major, r"\(T, B, H\), time first"),
    ("time major list", lambda *a: list(time_major(*a)), r"\(T, B, H\), time first"),
    ("doubled", lambda *a: 2 * loop(*a), "constant factor of 2"),
    ("a dict", lambda *a: {"h": 1}, "as one array"),
]


def test_loop_mistakes_get_hints(subtests):
    assert_hints(subtests, ch01.rnn_forward_loop, LOOP_WRONG)


def test_loop_hint_names_the_first_wrong_time_step(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            T = ch01._forward_cases(seed)[0][0].shape[1]          # the first case's length
            with pytest.raises(CheckFailed, match=f"case 1: the hidden states is wrong from time "
                                                  f"step {T - 1} on \\(1 of {T} steps differ\\)"):
                ch01.rnn_forward_loop(last_step_wrong, seed=seed)


def test_hidden_loop_cases_keep_what_the_visible_ones_test(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            (x1, W_xh, *_, h01), (x2, *_), (x3, *_, h03) = ch01._forward_cases(seed)
            B, T, D = x1.shape
            assert W_xh.shape[0] != D and T != B and np.any(h01)         # D != H, T != B
            assert x2.shape[1] == 1 and x3.shape[0] == 1 and not np.any(h03)


def test_checks_do_not_modify_the_cases():
    def mutating(x, W_xh, W_hh, b_h, h0):
        W_hh *= 0  # a learner's in-place edit must not change the next case's reference
        return loop(x, W_xh, W_hh, b_h, h0)
    with pytest.raises(CheckFailed):
        ch01.rnn_forward_loop(mutating)
    assert ch01.rnn_forward_loop(loop)
