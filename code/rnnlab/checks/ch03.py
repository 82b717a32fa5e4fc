"""Checks of the chapter 3 exercises (vanishing and exploding gradients).

* :func:`sigmoid_prime`: the derivative of the logistic sigmoid (exercise ex-03-1);
* :func:`jacobian_by_hand`: ``dh_T/dh_0`` of a tanh RNN as a product of step Jacobians
  (exercise ex-03-2);
* :func:`steps_to_vanish`: how many steps until ``rho**k`` falls below a factor (ex-03-3);
* :func:`clip_by_norm`: gradient clipping by global norm, as ``clip_grad_norm_`` (ex-03-4).

Each runs the learner's function on several cases against a reference and, when the answer
matches a typical mistake, says which one.
"""
from __future__ import annotations

import math
from functools import reduce

import numpy as np
import torch

from ._core import NotAttempted, as_float_array, call_student, diagnose, fail, passed, todo

__all__ = ["sigmoid_prime", "jacobian_by_hand", "steps_to_vanish", "clip_by_norm"]


# -- ex-03-1 ---------------------------------------------------------------------------------
def sigmoid_prime(fn):
    """Check ``fn(a) -> sigma'(a)`` elementwise on a float64 tensor, far tails included."""
    name = "sigmoid_prime"
    a = torch.cat([torch.linspace(-12, 12, 97, dtype=torch.float64),
                   torch.tensor([-800.0, -50.0, 50.0, 800.0], dtype=torch.float64)])
    s = torch.sigmoid(a)
    want = (s * (1 - s)).numpy()
    try:
        got = call_student(fn, a.clone())
    except NotAttempted:
        return todo(name, "sigmoid_prime")
    arr = as_float_array(got)
    if arr is not None and arr.shape == want.shape and not np.all(np.isfinite(arr)):
        fail(name, "some values are NaN or inf for large |a|: write the derivative with "
                   "torch.sigmoid, sigma(a) * (1 - sigma(a)), instead of exponentials")
    diagnose(name, got, want, {
        "it is the derivative of tanh, 1 - tanh(a)**2": (1 - torch.tanh(a) ** 2).numpy(),
        "it returns sigma(a) itself; multiply by (1 - sigma(a))": s.numpy(),
        "it is sigma(a) * (1 - a); the factor is (1 - sigma(a)), not (1 - a)":
            (s * (1 - a)).numpy(),
    }, what="sigma'(a)", atol=1e-12)
    return passed(name, f"sigma'(a) matches on {len(a)} points in [-800, 800]; "
                        f"its largest value is {want.max():.4f} at a = 0")


# -- ex-03-2 ---------------------------------------------------------------------------------
def _rnn_case(T, D, H, seed, scale):
    g = torch.Generator().manual_seed(seed)
    W_hh = torch.randn(H, H, generator=g, dtype=torch.float64) * scale / math.sqrt(H)
    W_xh = torch.randn(H, D, generator=g, dtype=torch.float64)
    b_h = torch.randn(H, generator=g, dtype=torch.float64) * 0.1
    h0 = torch.randn(H, generator=g, dtype=torch.float64) * 0.5
    x = torch.randn(T, D, generator=g, dtype=torch.float64)
    return W_hh, W_xh, b_h, h0, x


def _variants(W_hh, W_xh, b_h, h0, x):
    """Reference dh_T/dh_0 and the products that typical mistakes produce."""
    hs, pres = [h0], []
    for t in range(x.shape[0]):
        pres.append(W_xh @ x[t] + W_hh @ hs[-1] + b_h)          # (H,)
        hs.append(torch.tanh(pres[-1]))                         # (H,)
    d = [1 - h ** 2 for h in hs[1:]]                            # tanh'(a_t) = 1 - h_t**2
    J = [torch.diag(d[t]) @ W_hh for t in range(len(d))]        # dh_{t+1}/dh_t, (H, H)
    eye = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    prod = lambda Js: reduce(torch.matmul, Js, eye)  # noqa: E731   (H, H)
    wrong = {
        "the factors are multiplied in the wrong order; dh_T/dh_0 = J_T J_(T-1) ... J_1, the "
        "last step on the left": prod(J),
        "tanh' is missing: each step contributes diag(1 - h_t**2) @ W_hh, not W_hh alone":
            prod([W_hh] * len(J)),
        "W_hh is transposed": prod([torch.diag(d[t]) @ W_hh.T for t in range(len(d))][::-1]),
        "diag(tanh') must multiply W_hh from the left (rows of J_t are the units of h_t)":
            prod([W_hh @ torch.diag(d[t]) for t in range(len(d))][::-1]),
        "tanh' is taken at h_(t-1); it belongs to the new state, 1 - h_t**2":
            prod([torch.diag(1 - hs[t] ** 2) @ W_hh for t in range(len(d))][::-1]),
        "tanh' is applied to h_t; it is 1 - tanh(a_t)**2 = 1 - h_t**2, not 1 - tanh(h_t)**2":
            prod([torch.diag(1 - torch.tanh(hs[t + 1]) ** 2) @ W_hh for t in range(len(d))][::-1]),
        "one step is missing (T - 1 factors instead of T)": prod(J[1:][::-1]),
    }
    return prod(J[::-1]), wrong


def jacobian_by_hand(fn):
    """Check ``fn(W_hh, W_xh, b_h, h0, x) -> dh_T/dh_0`` for the tanh RNN
    ``h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h)``.

    Shapes: ``W_hh (H, H)``, ``W_xh (H, D)``, ``b_h (H,)``, ``h0 (H,)``, ``x (T, D)``; the answer
    is ``(H, H)``. (The unit tests verify the reference against autograd.)
    """
    name = "jacobian_by_hand"
    cases = [dict(T=6, D=2, H=4, seed=0, scale=1.5), dict(T=1, D=3, H=3, seed=1, scale=1.0),
             dict(T=12, D=1, H=5, seed=2, scale=2.5)]
    try:
        for case in cases:
            args = _rnn_case(**case)
            want, wrong = _variants(*args)
            got = call_student(fn, *(a.clone() for a in args))
            diagnose(name, got, want.numpy(), {k: v.numpy() for k, v in wrong.items()},
                      what=f"dh_T/dh_0 for T={case['T']}, H={case['H']}")
    except NotAttempted:
        return todo(name, "jacobian_by_hand")
    return passed(name, f"dh_T/dh_0 matches autograd on {len(cases)} sequences (T = 1, 6, 12)")


# -- ex-03-3 ---------------------------------------------------------------------------------
_VANISH_CASES = [(0.5, 1e-3), (0.9, 1e-3), (0.99, 0.5), (0.5, 0.5), (0.3, 0.9), (0.9, 1e-8),
                 (1.0, 0.1), (1.2, 1e-3)]


def _vanish_ref(rho, factor):
    if rho >= 1:
        return math.inf
    k = 0
    while rho ** k > factor:
        k += 1
    return k


def steps_to_vanish(fn):
    """Check ``fn(rho, factor)``: the smallest integer ``k >= 0`` with ``rho**k <= factor``
    (``0 < rho``, ``0 < factor < 1``), or ``math.inf`` when ``rho >= 1``."""
    name = "steps_to_vanish"
    try:
        for rho, factor in _VANISH_CASES:
            want = _vanish_ref(rho, factor)
            try:
                got = call_student(fn, rho, factor)
            except (ZeroDivisionError, ValueError, OverflowError) as exc:
                fail(name, f"for rho={rho}, factor={factor} it raised {type(exc).__name__}; when "
                           "rho >= 1 the gradient never falls below the factor: return math.inf")
            if got == want:
                continue
            if want == math.inf:
                fail(name, f"for rho={rho} it returned {got!r}: rho**k never shrinks when "
                           "rho >= 1, return math.inf")
            exact = math.log(factor) / math.log(rho)
            if isinstance(got, (int, float, np.integer, np.floating)) and math.isfinite(got):
                if got == math.floor(exact) and got + 1 == want:
                    fail(name, f"for rho={rho}, factor={factor} it returned {got}, one step short: "
                               f"rho**{got} = {rho ** got:.3g} is still above the factor; round up")
                if abs(got - exact) < 1e-9 and got != want:
                    fail(name, f"for rho={rho}, factor={factor} it returned {got}: the number of "
                               "steps is an integer, round log(factor)/log(rho) up")
                if got == want + 1:
                    fail(name, f"for rho={rho}, factor={factor} it returned {got}, one step too "
                               f"many: rho**{want} = {rho ** want:.3g} is already <= the factor")
                if got < 0:
                    fail(name, f"for rho={rho} it returned {got} < 0: both log(factor) and "
                               "log(rho) are negative, so their ratio is positive")
            fail(name, f"for rho={rho}, factor={factor} expected {want} steps, got {got!r}")
    except NotAttempted:
        return todo(name, "steps_to_vanish")
    return passed(name, f"correct on {len(_VANISH_CASES)} cases, rho >= 1 included")


# -- ex-03-4 ---------------------------------------------------------------------------------
def _grad_cases():
    g = torch.Generator().manual_seed(0)
    big = [torch.randn(4, 3, generator=g, dtype=torch.float64) * 10,
           torch.randn(5, generator=g, dtype=torch.float64) * 10]
    small = [torch.randn(3, 3, generator=g, dtype=torch.float64) * 0.01,
             torch.randn(2, generator=g, dtype=torch.float64) * 0.01]
    one = [torch.randn(7, generator=g, dtype=torch.float64) * 3]
    return [(big, 1.0), (small, 1.0), (one, 2.0), (big, 25.0)]


def clip_by_norm(fn):
    """Check ``fn(grads, max_norm) -> (clipped, total_norm)`` against ``clip_grad_norm_``.

    ``grads`` is a list of tensors; ``clipped`` a list of the rescaled tensors (same shapes),
    ``total_norm`` the global norm *before* clipping.
    """
    name = "clip_by_norm"
    try:
        for grads, max_norm in _grad_cases():
            params = [torch.zeros_like(t, requires_grad=True) for t in grads]
            for p, t in zip(params, grads):
                p.grad = t.clone()
            total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
            want = [p.grad for p in params]
            out = call_student(fn, [t.clone() for t in grads], max_norm)
            norm = as_float_array(out[1]) if isinstance(out, (tuple, list)) and len(out) == 2 else None
            if norm is None or norm.size != 1:
                fail(name, "return a pair (clipped_grads, total_norm), total_norm one number")
            clipped = out[0]
            if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
                fail(name, f"clipped_grads should be a list of {len(grads)} tensors")
            where = f"(total norm {total:.3g}, max_norm {max_norm})"
            got_norm = float(norm.reshape(()))
            if not math.isclose(got_norm, total, rel_tol=1e-6):
                if math.isclose(got_norm, min(total, max_norm), rel_tol=1e-5):
                    fail(name, f"total_norm {where}: return the norm before clipping, as "
                               "clip_grad_norm_ does (it is what you log)")
                fail(name, f"total_norm {where}: got {got_norm:.6g}; it is the norm of all "
                           "gradients together, sqrt of the sum of every squared entry")
            scale_up = [t * (max_norm / total) for t in grads]
            per_tensor = [t * min(1.0, max_norm / float(t.norm())) for t in grads]
            for i, (c, w) in enumerate(zip(clipped, want)):
                diagnose(name, c, w.numpy(), {
                    "the gradients are scaled up when their norm is below max_norm; leave them "
                    "unchanged then": scale_up[i].numpy(),
                    "each tensor is clipped on its own; clipping by the global norm scales all "
                    "tensors by the same factor max_norm / total_norm": per_tensor[i].numpy(),
                    "the gradients are not clipped": grads[i].numpy(),
                }, what=f"clipped gradient {i} {where}", rtol=1e-5, atol=1e-9)
    except NotAttempted:
        return todo(name, "clip_by_norm")
    return passed(name, "norm and clipped gradients match torch.nn.utils.clip_grad_norm_ "
                        "above and below the threshold")
