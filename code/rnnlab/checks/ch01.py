"""Checks of the chapter 1 exercises (recurrent networks).

* :func:`unroll_two_steps` (ex-01-1): ``h_1`` and ``h_2`` of a scalar RNN computed by hand.
* :func:`rnn_param_count` (ex-01-2): the parameter count of ``torch.nn.RNN`` plus a read-out.
* :func:`rnn_forward_loop` (ex-01-3): the forward loop of a vanilla RNN in NumPy, compared with
  :func:`rnnlab.numpy_rnn.forward`; a wrong answer is told its first wrong time step.

With ``seed=0`` (the default) a check runs the cases the chapter shows; another seed draws other
cases of the same kind (hidden tests for an autograder).
"""
from __future__ import annotations

import math

import numpy as np
from torch import nn

from .. import numpy_rnn
from ._core import (
    NotAttempted,
    as_number,
    call_student,
    check,
    compare_arrays,
    fail,
    is_placeholder,
)

__all__ = ["UNROLL_EXAMPLE", "unroll_two_steps", "rnn_param_count", "rnn_forward_loop"]

#: The scalar RNN of exercise ex-01-1: h_t = tanh(w_xh x_t + w_hh h_{t-1} + b_h).
UNROLL_EXAMPLE = {"w_xh": 2.0, "w_hh": -1.0, "b_h": 0.0, "h0": 0.0, "x": (0.5, 0.5)}


def _close(a, b, tol=2e-3) -> bool:
    return abs(a - b) <= tol


@check("h1 and h2")
def unroll_two_steps(h1, h2, *, seed: int = 0):
    """Check ``h1`` and ``h2`` of :data:`UNROLL_EXAMPLE` (three correct decimals suffice).

    The answers are two numbers of that one example, so no seed can change the case: ``seed``
    is accepted, like every check's, and ignored.
    """
    n1, n2 = as_number(h1), as_number(h2)
    if n1 is None or n2 is None:
        fail(f"h1 and h2 should be numbers, got {type(h1).__name__} and {type(h2).__name__}")
    h1, h2 = n1, n2
    e = UNROLL_EXAMPLE
    (x1, x2), w_xh, w_hh, b = e["x"], e["w_xh"], e["w_hh"], e["b_h"]
    a1 = w_xh * x1 + w_hh * e["h0"] + b
    ref1 = math.tanh(a1)
    if not _close(h1, ref1):
        if _close(h1, a1):
            fail(f"h1 = {h1:.4g} is the pre-activation a_1 = w_xh x_1 + w_hh h_0 + b_h; "
                 "apply tanh to it")
        fail(f"h1 = {h1:.4g} is wrong: h_1 = tanh(w_xh x_1 + w_hh h_0 + b_h) with h_0 = 0")
    a2 = w_xh * x2 + w_hh * ref1 + b
    ref2 = math.tanh(a2)
    if _close(h2, ref2):
        return f"h1 = {ref1:.4f}, h2 = {ref2:.4f}: same input, different state, different output"
    if _close(h2, ref1) or _close(h2, math.tanh(w_xh * x2 + b)):
        fail("h2 came out equal to h1: the two inputs are equal, so only the recurrent term "
             "w_hh * h1 can make h2 differ; you left it out")
    if _close(h2, a2):
        fail(f"h2 = {h2:.4g} is the pre-activation a_2; apply tanh to it")
    if _close(h2, math.tanh(w_xh * x2 + w_hh * a1 + b)):
        fail("h2 feeds back the pre-activation a_1 instead of the state h_1 = tanh(a_1)")
    if _close(h2, math.tanh(w_xh * x2 - w_hh * ref1 + b)):
        fail(f"check the sign of the recurrent term: w_hh = {w_hh}")
    fail(f"h2 = {h2:.4g} is wrong: h_2 = tanh(w_xh x_2 + w_hh h_1 + b_h) with your h_1")


# -- ex-01-2 -------------------------------------------------------------------------------
_COUNT_CASES = [(1, 16, 1, 1), (3, 8, 2, 1), (9, 4, 3, 2), (4, 6, 2, 3)]


def _count_cases(seed: int) -> list:
    """(D, H, O, L) of the networks: the visible ones for seed 0, else as many drawn from the
    seed, again with 1 to 3 layers."""
    if seed == 0:
        return _COUNT_CASES
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(1, 13)), int(rng.integers(2, 33)), int(rng.integers(1, 6)), int(L))
            for L in rng.permutation([1, 1, 2, 3])]


def _torch_count(D, H, O, L) -> int:  # noqa: E741
    modules = (nn.RNN(D, H, num_layers=L), nn.Linear(H, O))
    return sum(p.numel() for m in modules for p in m.parameters())


@check("rnn_param_count")
def rnn_param_count(fn, *, seed: int = 0):
    """Check ``fn(D, H, O, L)`` against the count of ``nn.RNN(D, H, num_layers=L)`` +
    ``nn.Linear(H, O)``; another ``seed`` draws other sizes."""
    cases = _count_cases(seed)
    for D, H, O, L in cases:  # noqa: E741
        got = call_student(fn, D, H, O, L)
        if is_placeholder(got):
            raise NotAttempted("returned None")
        want = _torch_count(D, H, O, L)
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            if isinstance(got, (float, np.floating)) and float(got).is_integer():
                got = int(got)
            else:
                fail(f"return an integer count, got {type(got).__name__} ({got!r:.40})")
        if got == want:
            continue
        case = f"for D={D}, H={H}, O={O}, L={L} you return {got}, expected {want}"
        known = [
            (want - L * H, "torch.nn.RNN keeps two bias vectors per layer (bias_ih and "
                           "bias_hh), each of size H; you counted one"),
            (want + L * H, "you counted three bias vectors per layer; there are two"),
            (want - (O * H + O), "add the linear read-out: O*H weights and O biases"),
            (want - O, "the read-out nn.Linear(H, O) also has O biases"),
            (want - L * H * H, "each layer has a recurrent matrix W_hh of shape (H, H)"),
            (want + (L - 1) * H * (D - H), "layers after the first read the hidden state of "
                                           "the layer below (size H), not the input (size D)"),
            (_torch_count(D, H, O, 1), "each of the L layers has its own weights; you "
                                       "counted one layer"),
        ]
        hint = next((h for value, h in known if value == got),
                    "write the count as a sum over the tensors: per layer weight_ih, "
                    "weight_hh, bias_ih and bias_hh; then the read-out")
        fail(f"{case}. {hint}")
    return f"correct on {len(cases)} networks, 1 to 3 layers"


# -- ex-01-3 -------------------------------------------------------------------------------
#: (B, T, D, H, zero_h0) of the visible cases: D != H, then T = 1, then B = 1 with h0 = 0.
_FORWARD_SHAPES = [(2, 5, 3, 4, False), (3, 1, 2, 2, False), (1, 6, 1, 3, True)]


def _forward_cases(seed: int) -> list:
    """(x, W_xh, W_hh, b_h, h0) of the cases; another seed draws other sizes and values that
    keep what each visible case tests (D != H and T != B, T = 1, B = 1 with h0 = 0)."""
    if seed == 0:
        rng, shapes = np.random.default_rng(1), _FORWARD_SHAPES
    else:
        rng = np.random.default_rng(seed)
        n = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731
        D, H = (int(v) for v in rng.choice(np.arange(1, 7), size=2, replace=False))
        shapes = [(n(2, 4), n(5, 8), D, H, False), (n(1, 4), 1, n(1, 5), n(1, 5), False),
                  (1, n(2, 8), n(1, 5), n(1, 5), True)]
    cases = []
    for B, T, D, H, zero_h0 in shapes:
        p = numpy_rnn.init_params(D, H, 1, seed=int(rng.integers(1000)))
        h0 = np.zeros((B, H)) if zero_h0 else rng.uniform(-0.5, 0.5, size=(B, H))
        x = rng.standard_normal((B, T, D))
        cases.append((x, p["W_xh"], p["W_hh"], p["b_h"], h0))
    return cases


def _variant(x, W_xh, W_rec, b_h, h0, *, act=np.tanh, update=True, start=None, shift=False):
    """The hidden-state loop ``h = act(x_t @ W_xh.T + h @ W_rec + b_h)`` with one typical
    mistake switched on (the correct loop has ``W_rec = W_hh.T`` and the defaults)."""
    h = h0 if start is None else start
    hs = [h] if shift else []
    for t in range(x.shape[1]):
        h = act(x[:, t] @ W_xh.T + (h if update else h0) @ W_rec + b_h)  # (B, H)
        hs.append(h)
    return np.stack(hs[:x.shape[1]], axis=1)  # (B, T, H)


def _typical_mistake(got_a, x, W_xh, W_hh, b_h, h0):
    """The hint of the typical mistake that produced ``got_a``, or None."""
    hints = [
        (dict(update=False), "every step starts from h0: carry the new state h_t into "
                             "the next step (h = ... inside the loop)"),
        (dict(shift=True), "off by one: return h_1..h_T (the state after each input), "
                           "not h_0..h_{T-1}"),
        (dict(act=lambda a: a), "apply tanh to the pre-activation"),
        (dict(start=np.zeros_like(h0)), "start the loop from the given h0, not zeros"),
    ]
    for kw, hint in hints:
        if np.allclose(got_a, _variant(x, W_xh, W_hh.T, b_h, h0, **kw), atol=1e-8):
            return hint
    if np.allclose(got_a, _variant(x, W_xh, W_hh, b_h, h0), atol=1e-8):
        return ("the recurrent term is h @ W_hh.T (row i of W_hh makes unit i of the new "
                "state), not h @ W_hh")
    return None


@check("rnn_forward_loop")
def rnn_forward_loop(fn, *, seed: int = 0):
    """Check ``fn(x, W_xh, W_hh, b_h, h0) -> hs`` (B, T, H) on three cases, with hints;
    another ``seed`` draws other sizes and values."""
    for k, (x, W_xh, W_hh, b_h, h0) in enumerate(_forward_cases(seed)):
        args = [a.copy() for a in (x, W_xh, W_hh, b_h, h0)]
        try:
            got = call_student(fn, *args)
        except (ValueError, IndexError, TypeError) as exc:
            fail(f"your function raised {type(exc).__name__}: {exc}. Shapes: x_t is "
                 "(B, D), W_xh (H, D), W_hh (H, H), h (B, H); so the step is "
                 "x_t @ W_xh.T + h @ W_hh.T + b_h, of shape (B, H)")
        if is_placeholder(got):
            raise NotAttempted("returned None")
        want = numpy_rnn.forward({"W_xh": W_xh, "W_hh": W_hh, "b_h": b_h}, x, h0)[0]
        try:
            got_a = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got,
                               dtype=float)
        except (TypeError, ValueError):
            fail(f"return the hidden states as one array (B, T, H), got {type(got).__name__}")
        B, T, H = want.shape
        if got_a.shape == (T, B, H) and (T, B) != (B, T):
            fail(f"your result has shape {got_a.shape} = (T, B, H), time first; "
                 f"return batch first, (B, T, H) = {want.shape} (np.stack(..., axis=1))")
        if got_a.shape == want.shape and not np.allclose(got_a, want, rtol=1e-6, atol=1e-8):
            hint = _typical_mistake(got_a, x, W_xh, W_hh, b_h, h0)
            if hint:
                fail(f"case {k + 1}: {hint}")
        compare_arrays(got_a, want, what=f"case {k + 1}: the hidden states", rtol=1e-6,
                       atol=1e-8, time_axis=1)
    return "equal to rnnlab.numpy_rnn.forward on 3 cases (T = 1, non-zero h0, D != H)"
