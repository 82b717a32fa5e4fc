"""Checks of the chapter 5 exercises (remedies for vanishing and exploding gradients).

* :func:`layer_norm_rows`: layer normalisation by hand (exercise ex-05-2);
* :func:`init_std`: the weight standard deviation of Glorot and He initialisation (ex-05-3);
* :func:`dead_unit_fraction`: the fraction of dead ReLU units (exercise ex-05-4);
* :func:`residual_branch_scale`: the branch scale that bounds a residual stack's growth
  (exercise ex-05-5).

Each runs the learner's function on several cases, edge cases included, against a reference
and recognises the typical wrong answers, whose hints say what to change.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..norm_cells import layer_norm
from ._core import NotAttempted, call_student, diagnose, fail, passed, todo

__all__ = ["layer_norm_rows", "init_std", "dead_unit_fraction", "residual_branch_scale"]


def _randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# -- ex-05-2 ---------------------------------------------------------------------------------
def layer_norm_rows(fn) -> object:
    """Check ``fn(a, eps) -> (a - mean) / sqrt(var + eps)`` over the last axis of ``a (B, H)``."""
    name = "layer_norm_rows"
    cases = [(_randn(6, 5, seed=0) * 3 + 2, 1e-5), (_randn(1, 8, seed=1), 1e-5),
             (_randn(4, 2, seed=2), 1e-3), (torch.full((3, 4), 2.5, dtype=torch.float64), 1e-5)]
    try:
        for a, eps in cases:
            got = call_student(fn, a.clone(), eps)
            mu, var = a.mean(-1, keepdim=True), a.var(-1, unbiased=False, keepdim=True)
            what = f"layer_norm_rows(a of shape {tuple(a.shape)}, eps={eps})"
            wrong = {
                "you normalised every unit over the batch (axis 0): that is batch normalisation. "
                "Layer normalisation uses each example's own mean and variance over its units "
                "(the last axis)": (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + eps),
                "use the biased variance (divide by H, not H - 1: unbiased=False)":
                    (a - mu) / torch.sqrt(a.var(-1, keepdim=True) + eps) if a.shape[-1] > 1 else None,
                "eps goes inside the square root: (a - mean) / sqrt(var + eps)":
                    (a - mu) / (torch.sqrt(var) + eps),
                "subtract the mean before dividing": a / torch.sqrt(var + eps),
                "divide by the standard deviation, sqrt(var + eps), not by the variance":
                    (a - mu) / (var + eps),
            }
            diagnose(name, got, layer_norm(a, eps),
                      {k: v for k, v in wrong.items() if v is not None}, what=what)
    except NotAttempted:
        return todo(name, "layer_norm_rows")
    return passed(name, "every example normalised over its own units, eps inside the root, "
                        "including a single example and constant rows")


# -- ex-05-3 ---------------------------------------------------------------------------------
def init_std(fn) -> object:
    """Check ``fn(scheme, fan_in, fan_out) -> std`` of a weight under ``"xavier"`` (Glorot
    uniform, as :func:`rnnlab.init.xavier_uniform`) or ``"he"`` (He normal)."""
    name = "init_std"
    try:
        for scheme, fan_in, fan_out in [("xavier", 100, 10), ("xavier", 64, 64), ("he", 100, 10),
                                        ("he", 64, 64), ("xavier", 1, 3), ("he", 7, 1)]:
            got = call_student(fn, scheme, fan_in, fan_out)
            try:
                got = float(got)
            except (TypeError, ValueError):
                fail(name, f"return one number (a standard deviation), got {type(got).__name__}")
            if scheme == "xavier":
                want = math.sqrt(2.0 / (fan_in + fan_out))
                wrong = {
                    "that is the bound a of U(-a, a); the standard deviation of that uniform "
                    "is a / sqrt(3)": math.sqrt(6.0 / (fan_in + fan_out)),
                    "Glorot averages fan_in and fan_out: Var = 2 / (fan_in + fan_out)":
                        math.sqrt(1.0 / fan_in),
                    "you returned the variance; take its square root": 2.0 / (fan_in + fan_out),
                }
            else:
                want = math.sqrt(2.0 / fan_in)
                wrong = {
                    "He et al. use fan_in (the forward pass), not fan_out": math.sqrt(2.0 / fan_out),
                    "the factor 2 compensates the half of the units that ReLU switches off: "
                    "Var = 2 / fan_in": math.sqrt(1.0 / fan_in),
                    "you returned the variance; take its square root": 2.0 / fan_in,
                    "that is Glorot's rule; He's uses fan_in only": math.sqrt(2.0 / (fan_in + fan_out)),
                }
            if math.isclose(got, want, rel_tol=1e-6):
                continue
            where = f"init_std({scheme!r}, fan_in={fan_in}, fan_out={fan_out}) = {got:.6g}, expected {want:.6g}"
            for hint, value in wrong.items():
                if math.isclose(got, value, rel_tol=1e-6):
                    fail(name, f"{where}: {hint}")
            fail(name, where)
    except NotAttempted:
        return todo(name, "init_std")
    return passed(name, "Glorot uniform std sqrt(2/(fan_in+fan_out)) and He normal std "
                        "sqrt(2/fan_in) on six shapes")


# -- ex-05-4 ---------------------------------------------------------------------------------
def dead_unit_fraction(fn) -> object:
    """Check ``fn(pre) -> float``: the fraction of units (columns of ``pre (B, W)``) whose
    pre-activation is <= 0 on every example (ReLU passes no gradient there)."""
    name = "dead_unit_fraction"
    a = _randn(16, 10, seed=0)
    a[:, :3] = -a[:, :3].abs() - 0.1          # three dead columns
    a[:, 3] = 0.0                              # exactly zero: relu'(0) = 0, dead too
    b = _randn(8, 6, seed=1) - 3.0             # mostly dead
    c = _randn(1, 5, seed=2)                   # a single example
    try:
        for pre in (a, b, c):
            got = call_student(fn, pre.clone())
            try:
                got = float(got)
            except (TypeError, ValueError):
                fail(name, f"return one number (a fraction), got {type(got).__name__}")
            want = float((pre <= 0).all(0).double().mean())
            wrong = {
                "that is the fraction of (example, unit) pairs that are inactive; a unit is dead "
                "only when it is inactive on *every* example": float((pre <= 0).double().mean()),
                "a unit counts as dead only when it is inactive on every example, you counted the "
                "units inactive on at least one": float((pre <= 0).any(0).double().mean()),
                "a pre-activation of exactly 0 is dead too (PyTorch takes relu'(0) = 0): use <= 0":
                    float((pre < 0).all(0).double().mean()),
                "you returned the fraction of live units; return the dead ones":
                    1.0 - want,
                "return a fraction of the units (divide by the number of columns), not a count":
                    float((pre <= 0).all(0).sum()),
            }
            if math.isclose(got, want, abs_tol=1e-6):
                continue
            for hint, value in wrong.items():
                if math.isclose(got, value, abs_tol=1e-6):
                    fail(name, f"dead fraction of a {tuple(pre.shape)} batch is {got:.4g}, "
                               f"expected {want:.4g}: {hint}")
            fail(name, f"dead fraction of a {tuple(pre.shape)} batch is {got:.4g}, expected "
                       f"{want:.4g}")
    except NotAttempted:
        return todo(name, "dead_unit_fraction")
    return passed(name, "dead = inactive on every example, zero included, as a fraction of units")


# -- ex-05-5 ---------------------------------------------------------------------------------
def residual_branch_scale(fn) -> object:
    """Check ``fn(depth, growth) -> s`` with ``(1 + s**2) ** depth == growth``."""
    name = "residual_branch_scale"
    try:
        for depth, growth in [(10, 2.0), (50, 2.0), (1, 5.0), (200, 10.0), (30, 1.0)]:
            got = call_student(fn, depth, growth)
            try:
                got = float(got)
            except (TypeError, ValueError):
                fail(name, f"return one number s, got {type(got).__name__}")
            want = math.sqrt(growth ** (1.0 / depth) - 1.0)
            if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
                continue
            where = f"residual_branch_scale(depth={depth}, growth={growth}) = {got:.6g}, expected {want:.6g}"
            wrong = {
                "you returned s**2; the variance factor per layer is 1 + s**2, so take the root":
                    want ** 2,
                "that is the small-s approximation sqrt(ln(growth) / depth); solve "
                "(1 + s**2) ** depth = growth exactly": math.sqrt(math.log(growth) / depth),
                "the per-layer factors multiply, they do not add: (1 + s**2) ** depth = growth, "
                "not 1 + depth * s**2 = growth": math.sqrt((growth - 1.0) / depth),
                "growth is a factor on the variance (s enters squared), not on the standard "
                "deviation": math.sqrt(growth ** (0.5 / depth) - 1.0),
            }
            for hint, value in wrong.items():
                if math.isclose(got, value, rel_tol=1e-6, abs_tol=1e-12):
                    fail(name, f"{where}: {hint}")
            if np.isnan(got):
                fail(name, f"{where}: got NaN (did you take the root of a negative number?)")
            fail(name, where)
    except NotAttempted:
        return todo(name, "residual_branch_scale")
    return passed(name, "s = sqrt(growth**(1/depth) - 1) on five depths, growth 1 included")
