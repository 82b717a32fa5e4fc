"""Checks of the chapter 3 exercises (vanishing and exploding gradients).

* :func:`sigmoid_prime`: the derivative of the logistic sigmoid (exercise ex-03-1);
* :func:`jacobian_by_hand`: ``dh_T/dh_0`` of a tanh RNN as a product of step Jacobians
  (exercise ex-03-2);
* :func:`steps_to_vanish`: how many steps until ``rho**k`` falls below a factor (ex-03-3);
* :func:`clip_by_norm`: gradient clipping by global norm, as ``clip_grad_norm_`` (ex-03-4).

Each runs the learner's function on several cases against a reference and, when the answer
matches a typical mistake, says which one. With ``seed=0`` (the default) a check runs the cases
the chapter shows; another seed draws other cases of the same kind (hidden tests).
"""
from __future__ import annotations

import math
from functools import reduce

import numpy as np
import torch

from ._core import as_float_array, call_student, check, diagnose, fail, int_between

__all__ = ["sigmoid_prime", "jacobian_by_hand", "steps_to_vanish", "clip_by_norm"]

_DT = torch.float64


# -- ex-03-1 ---------------------------------------------------------------------------------
def _sigmoid_points(seed: int) -> torch.Tensor:
    """97 points in [-12, 12] (evenly spaced for seed 0, else drawn, a = 0 among them) and the
    far tails -800, -50, 50, 800."""
    if seed == 0:
        bulk = torch.linspace(-12, 12, 97, dtype=_DT)
    else:
        drawn = np.random.default_rng(seed).uniform(-12, 12, size=96)
        bulk = torch.from_numpy(np.append(drawn, 0.0))
    return torch.cat([bulk, torch.tensor([-800.0, -50.0, 50.0, 800.0], dtype=_DT)])


@check("sigmoid_prime")
def sigmoid_prime(fn, *, seed: int = 0):
    """Check ``fn(a) -> sigma'(a)`` elementwise on a float64 tensor, far tails included;
    another ``seed`` draws other points."""
    a = _sigmoid_points(seed)
    s = torch.sigmoid(a)
    want = (s * (1 - s)).numpy()
    got = call_student(fn, a.clone())
    arr = as_float_array(got)
    if arr is not None and arr.shape == want.shape and not np.all(np.isfinite(arr)):
        fail("some values are NaN or inf for large |a|: exp(-a) overflows there (inf / inf "
             "is nan); write sigma' through sigma itself, which stays between 0 and 1 "
             "(part 1 shows how)")
    diagnose(got, want, {
        "it is the derivative of tanh, 1 - tanh(a)**2": (1 - torch.tanh(a) ** 2).numpy(),
        "it returns sigma(a) itself, not its derivative (part 1 derives the derivative)":
            s.numpy(),
        "it is sigma(a) * (1 - a), which is negative for a > 1, while sigma' never is: "
        "check the second factor against your derivation in part 1": (s * (1 - a)).numpy(),
    }, what="sigma'(a)", atol=1e-12)
    return (f"sigma'(a) matches on {len(a)} points in [-800, 800]; "
            f"its largest value is {want.max():.4f} at a = 0")


# -- ex-03-2 ---------------------------------------------------------------------------------
_JACOBIAN_CASES = [dict(T=6, D=2, H=4, seed=0, scale=1.5), dict(T=1, D=3, H=3, seed=1, scale=1.0),
                   dict(T=12, D=1, H=5, seed=2, scale=2.5)]


def _jacobian_cases(seed: int) -> list:
    """The visible sequences for seed 0; for another seed other sizes, weights and inputs
    (the one-step sequence kept)."""
    if seed == 0:
        return _JACOBIAN_CASES
    rng = np.random.default_rng(seed)
    n = int_between(rng)
    return [dict(T=1 if c["T"] == 1 else n(2, 15), D=n(1, 4), H=n(2, 6), seed=n(3, 2**31),
                 scale=float(rng.uniform(0.8, 2.5))) for c in _JACOBIAN_CASES]


def _rnn_case(T, D, H, seed, scale):
    g = torch.Generator().manual_seed(seed)
    W_hh = torch.randn(H, H, generator=g, dtype=_DT) * scale / math.sqrt(H)
    W_xh = torch.randn(H, D, generator=g, dtype=_DT)
    b_h = torch.randn(H, generator=g, dtype=_DT) * 0.1
    h0 = torch.randn(H, generator=g, dtype=_DT) * 0.5
    x = torch.randn(T, D, generator=g, dtype=_DT)
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
    steps = range(len(d))
    wrong = {
        "the factors are multiplied in the wrong order; dh_T/dh_0 = J_T J_(T-1) ... J_1, the "
        "last step on the left": prod(J),
        "tanh' is missing: each step contributes diag(1 - h_t**2) @ W_hh, not W_hh alone":
            prod([W_hh] * len(J)),
        "it is the transpose of dh_T/dh_0, the product of the factors W_hh.T @ diag(tanh') "
        "that backprop multiplies a gradient by (dL/dh_0 = (dh_T/dh_0)^T dL/dh_T, "
        "eq-03-product); the exercise asks for dh_T/dh_0 itself, the product of the step "
        "Jacobians of eq-03-step": prod(J[::-1]).T,
        "each factor is W_hh.T @ diag(tanh'), backprop's factor: it is the transpose of a "
        "step Jacobian, what carries a gradient from h_t back to h_(t-1); dh_T/dh_0 multiplies "
        "the step Jacobians of eq-03-step themselves":
            prod([W_hh.T @ torch.diag(d[t]) for t in steps][::-1]),
        "W_hh is transposed": prod([torch.diag(d[t]) @ W_hh.T for t in steps][::-1]),
        "diag(tanh') must multiply W_hh from the left (rows of J_t are the units of h_t)":
            prod([W_hh @ torch.diag(d[t]) for t in steps][::-1]),
        "tanh' is taken at h_(t-1); it belongs to the new state, 1 - h_t**2":
            prod([torch.diag(1 - hs[t] ** 2) @ W_hh for t in steps][::-1]),
        "tanh' is applied to h_t; it is 1 - tanh(a_t)**2 = 1 - h_t**2, not 1 - tanh(h_t)**2":
            prod([torch.diag(1 - torch.tanh(hs[t + 1]) ** 2) @ W_hh for t in steps][::-1]),
        "one step is missing (T - 1 factors instead of T)": prod(J[1:][::-1]),
    }
    return prod(J[::-1]), wrong


@check("jacobian_by_hand")
def jacobian_by_hand(fn, *, seed: int = 0):
    """Check ``fn(W_hh, W_xh, b_h, h0, x) -> dh_T/dh_0`` for the tanh RNN
    ``h_t = tanh(W_xh x_t + W_hh h_(t-1) + b_h)``; another ``seed`` draws other sequences.

    Shapes: ``W_hh (H, H)``, ``W_xh (H, D)``, ``b_h (H,)``, ``h0 (H,)``, ``x (T, D)``; the answer
    is ``(H, H)``. (The unit tests verify the reference against autograd.)
    """
    cases = _jacobian_cases(seed)
    for case in cases:
        args = _rnn_case(**case)
        want, wrong = _variants(*args)
        got = call_student(fn, *(a.clone() for a in args))
        diagnose(got, want.numpy(), {k: v.numpy() for k, v in wrong.items()},
                 what=f"dh_T/dh_0 for T={case['T']}, H={case['H']}")
    lengths = ", ".join(str(c["T"]) for c in sorted(cases, key=lambda c: c["T"]))
    return f"dh_T/dh_0 matches autograd on {len(cases)} sequences (T = {lengths})"


# -- ex-03-3 ---------------------------------------------------------------------------------
_VANISH_CASES = [(0.5, 1e-3), (0.9, 1e-3), (0.99, 0.5), (0.5, 0.5), (0.3, 0.9), (0.9, 1e-8),
                 (0.1, 1e-3), (1.0, 0.1), (1.2, 1e-3)]
_TIE = 1e-9     # log(factor)/log(rho) this close to an integer n: rho**n = factor, up to rounding


def _is_tie(rho, factor) -> bool:
    """``rho**n == factor`` in exact arithmetic for an integer ``n >= 2``, as 0.1**3 and 1e-3,
    where floating point may land on either side (``factor = rho`` is exact in floats)."""
    ratio = math.log(factor) / math.log(rho)
    return factor != rho and abs(ratio - round(ratio)) < _TIE


def _vanish_cases(seed: int) -> list:
    """(rho, factor) of the visible cases for seed 0; for another seed as many drawn ones of
    the same kinds: ``rho = 1``, ``rho > 1``, ``factor = rho`` (one step exactly), ``factor``
    above ``sqrt(rho)`` (one step, ``log(factor)/log(rho)`` below 1/2), a tie
    (``factor = rho**n`` written with 12 digits, see :func:`_vanish_accepted`), and the rest
    with no ratio within 1e-6 of an integer (where rounding could tip the count)."""
    if seed == 0:
        return _VANISH_CASES
    rng = np.random.default_rng(seed)
    cases = []
    for rho, factor in _VANISH_CASES:
        if rho >= 1:
            new = 1.0 if rho == 1 else float(rng.uniform(1.01, 2.0))
            cases.append((new, float(10 ** rng.uniform(-8, -0.05))))
            continue
        if _is_tie(rho, factor):
            new = round(float(rng.uniform(0.05, 0.9)), 2)
            cases.append((new, float(f"{new ** int(rng.integers(2, 6)):.12g}")))
            continue
        new = float(rng.uniform(0.05, 0.995))
        if factor >= rho:
            cases.append((new, new if factor == rho else float(rng.uniform(new ** 0.5, 1))))
            continue
        while True:
            factor = float(10 ** rng.uniform(-8, -0.05))
            ratio = math.log(factor) / math.log(new)
            if abs(ratio - round(ratio)) > 1e-6:
                break
        cases.append((new, factor))
    return cases


def _vanish_ref(rho, factor):
    """The smallest integer ``k >= 0`` with ``rho**k <= factor`` in exact arithmetic (a tie, as
    rho = 0.1 and factor = 1e-3, counts as reached), or ``math.inf`` when ``rho >= 1``."""
    if rho >= 1:
        return math.inf
    if _is_tie(rho, factor):
        return round(math.log(factor) / math.log(rho))
    k = 0
    while rho ** k > factor:
        k += 1
    return k


def _vanish_accepted(rho, factor) -> set:
    """The answers the check accepts: :func:`_vanish_ref`, and at a tie also what the two
    natural float computations give, ``ceil(log(factor) / log(rho))`` and a loop that stops at
    the first ``rho**k <= factor`` (0.1**3 is 0.0010000000000000002 in floats, above 1e-3)."""
    want = _vanish_ref(rho, factor)
    if want == math.inf or not _is_tie(rho, factor):
        return {want}
    k = 0
    while rho ** k > factor:
        k += 1
    return {want, k, math.ceil(math.log(factor) / math.log(rho))}


def _vanish_hint(got, rho, factor, want) -> str:
    """The hint for a wrong number of steps ``got`` (``want`` is right)."""
    where = f"for rho={rho}, factor={factor}"
    if want == math.inf:
        return (f"for rho={rho} it returned {got!r}: rho**k never shrinks when rho >= 1, "
                "return math.inf")
    exact = math.log(factor) / math.log(rho)
    if isinstance(got, (int, float, np.integer, np.floating)) and math.isfinite(got):
        if got == math.floor(exact) and got + 1 == want:
            return (f"{where} it returned {got}, one step short: rho**{got} = "
                    f"{rho ** got:.3g} is still above the factor; round up")
        if abs(got - exact) < 1e-9 and got != want:
            return (f"{where} it returned {got}: the number of steps is an integer, round "
                    "log(factor)/log(rho) up")
        if got == want + 1:
            return (f"{where} it returned {got}, one step too many: rho**{want} = "
                    f"{rho ** want:.3g} is already <= the factor")
        if got < 0:
            return (f"for rho={rho} it returned {got} < 0: both log(factor) and log(rho) are "
                    "negative, so their ratio is positive")
    return f"{where} expected {want} steps, got {got!r}"


@check("steps_to_vanish")
def steps_to_vanish(fn, *, seed: int = 0):
    """Check ``fn(rho, factor)``: the smallest integer ``k >= 0`` with ``rho**k <= factor``
    (``0 < rho``, ``0 < factor < 1``), or ``math.inf`` when ``rho >= 1``; at a tie
    (``rho**n = factor`` up to rounding) ``n`` and what floats give are accepted
    (:func:`_vanish_accepted`). Another ``seed`` draws other rho and factors."""
    cases = _vanish_cases(seed)
    for rho, factor in cases:
        want = _vanish_ref(rho, factor)
        try:
            got = call_student(fn, rho, factor)
        except (ZeroDivisionError, ValueError, OverflowError) as exc:
            fail(f"for rho={rho}, factor={factor} it raised {type(exc).__name__}; when "
                 "rho >= 1 the gradient never falls below the factor: return math.inf")
        if not any(got == k for k in _vanish_accepted(rho, factor)):
            fail(_vanish_hint(got, rho, factor, want))
    return (f"correct on {len(cases)} cases, rho >= 1 and a tie (rho = 0.1, factor = 1e-3: "
            "3 steps, or 4 where floats put 0.1**3 above 1e-3) included")


# -- ex-03-4 ---------------------------------------------------------------------------------
def _grad_cases(seed: int) -> list:
    """(grads, max_norm) pairs: large gradients (clipped), tiny ones (left alone), a single
    tensor; another seed draws other shapes (no tensor of one number, which a returned pair
    could be mistaken for), values and thresholds."""
    if seed == 0:
        data_seed, sizes, norms = 0, (4, 3, 5, 3, 2, 7), (1.0, 1.0, 2.0, 25.0)
    else:
        rng = np.random.default_rng(seed)
        n = int_between(rng)
        data_seed, sizes = n(1, 2**62), (n(2, 6), n(2, 6), n(2, 8), n(2, 5), n(2, 6), n(2, 9))
        norms = (float(rng.uniform(0.5, 2)), 1.0, float(rng.uniform(0.5, 3)),
                 float(rng.uniform(10, 40)))
    g = torch.Generator().manual_seed(data_seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=_DT)  # noqa: E731
    big = [r(sizes[0], sizes[1]) * 10, r(sizes[2]) * 10]
    small = [r(sizes[3], sizes[3]) * 0.01, r(sizes[4]) * 0.01]
    one = [r(sizes[5]) * 3]
    return list(zip((big, small, one, big), norms))


@check("clip_by_norm")
def clip_by_norm(fn, *, seed: int = 0):
    """Check ``fn(grads, max_norm) -> (clipped, total_norm)`` against ``clip_grad_norm_``.

    ``grads`` is a list of tensors; ``clipped`` a list of the rescaled tensors (same shapes),
    ``total_norm`` the global norm *before* clipping. Another ``seed`` draws other gradients.
    """
    for grads, max_norm in _grad_cases(seed):
        params = [torch.zeros_like(t, requires_grad=True) for t in grads]
        for p, t in zip(params, grads):
            p.grad = t.clone()
        total = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
        want = [p.grad for p in params]
        out = call_student(fn, [t.clone() for t in grads], max_norm)
        pair = isinstance(out, (tuple, list)) and len(out) == 2
        norm = as_float_array(out[1]) if pair else None
        if norm is None or norm.size != 1:
            fail("return a pair (clipped_grads, total_norm), total_norm one number")
        clipped = out[0]
        if not isinstance(clipped, (list, tuple)) or len(clipped) != len(grads):
            fail(f"clipped_grads should be a list of {len(grads)} tensors")
        where = f"(total norm {total:.3g}, max_norm {max_norm})"
        got_norm = float(norm.reshape(()))
        if not math.isclose(got_norm, total, rel_tol=1e-6):
            if math.isclose(got_norm, min(total, max_norm), rel_tol=1e-5):
                fail(f"total_norm {where}: return the norm before clipping, as "
                     "clip_grad_norm_ does (it is what you log)")
            fail(f"total_norm {where}: got {got_norm:.6g}; it is the norm of all "
                 "gradients together, sqrt of the sum of every squared entry")
        scale_up = [t * (max_norm / total) for t in grads]
        per_tensor = [t * min(1.0, max_norm / float(t.norm())) for t in grads]
        for i, (c, w) in enumerate(zip(clipped, want)):
            diagnose(c, w.numpy(), {
                "the gradients are scaled up when their norm is below max_norm; leave them "
                "unchanged then": scale_up[i].numpy(),
                "each tensor is clipped on its own; clipping by the global norm scales all "
                "tensors by the same factor max_norm / total_norm": per_tensor[i].numpy(),
                "the gradients are not clipped": grads[i].numpy(),
            }, what=f"clipped gradient {i} {where}", rtol=1e-5, atol=1e-9)
    return ("norm and clipped gradients match torch.nn.utils.clip_grad_norm_ "
            "above and below the threshold")
