"""Checks of the chapter 5 exercises (remedies for vanishing and exploding gradients).

* :func:`layer_norm_rows`: layer normalisation by hand (exercise ex-05-2);
* :func:`init_std`: the weight standard deviation of Glorot and He initialisation (ex-05-3);
* :func:`dead_unit_fraction`: the fraction of dead ReLU units (exercise ex-05-4);
* :func:`residual_branch_scale`: the branch scale that bounds a residual stack's growth
  (exercise ex-05-5).

Each runs the learner's function on several cases, edge cases included, against a reference
and recognises the typical wrong answers, whose hints say what to change. With ``seed=0`` (the
default) a check runs the cases the chapter shows; another seed draws other cases of the same
kind (hidden tests for an autograder).
"""
from __future__ import annotations

import math

import numpy as np
import torch

from ..norm_cells import layer_norm
from ._core import as_number, call_student, check, diagnose, fail, int_between

__all__ = ["layer_norm_rows", "init_std", "dead_unit_fraction", "residual_branch_scale"]


def _randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _number(got, what: str) -> float:
    """``got`` as a float, or fail asking for ``what``."""
    value = as_number(got)
    if value is None:
        fail(f"return {what}, got {type(got).__name__}")
    return value


def _which(got: float, wrong: dict, **tolerance) -> str | None:
    """The hint of the first typical wrong value in ``wrong`` that ``got`` equals, or None."""
    return next((hint for hint, value in wrong.items()
                 if math.isclose(got, value, **tolerance)), None)


# -- ex-05-2 ---------------------------------------------------------------------------------
def _norm_cases(seed: int) -> list:
    """(a, eps): a random batch, a single example, two units per example, constant rows."""
    if seed == 0:
        return [(_randn(6, 5, seed=0) * 3 + 2, 1e-5), (_randn(1, 8, seed=1), 1e-5),
                (_randn(4, 2, seed=2), 1e-3), (torch.full((3, 4), 2.5, dtype=torch.float64), 1e-5)]
    rng = np.random.default_rng(seed)
    n = int_between(rng)
    scale, shift, level = (float(v) for v in rng.uniform([1, -3, -5], [4, 3, 5]))
    return [(_randn(n(2, 8), n(3, 8), seed=n(3, 2**31)) * scale + shift, 1e-5),
            (_randn(1, n(2, 10), seed=n(3, 2**31)), 1e-5),
            (_randn(n(2, 6), 2, seed=n(3, 2**31)), 1e-3),
            (torch.full((n(1, 5), n(2, 6)), level, dtype=torch.float64), 1e-5)]


@check("layer_norm_rows")
def layer_norm_rows(fn, *, seed: int = 0) -> object:
    """Check ``fn(a, eps) -> (a - mean) / sqrt(var + eps)`` over the last axis of ``a (B, H)``;
    another ``seed`` draws other batches."""
    for a, eps in _norm_cases(seed):
        got = call_student(fn, a.clone(), eps)
        mu, var = a.mean(-1, keepdim=True), a.var(-1, unbiased=False, keepdim=True)
        what = f"layer_norm_rows(a of shape {tuple(a.shape)}, eps={eps})"
        unbiased = a.var(-1, keepdim=True) if a.shape[-1] > 1 else None
        wrong = {
            "you normalised every unit over the batch (axis 0): that is batch normalisation. "
            "Layer normalisation uses each example's own mean and variance over its units "
            "(the last axis)": (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + eps),
            "use the biased variance (divide by H, not H - 1: unbiased=False)":
                None if unbiased is None else (a - mu) / torch.sqrt(unbiased + eps),
            "eps goes inside the square root: (a - mean) / sqrt(var + eps)":
                (a - mu) / (torch.sqrt(var) + eps),
            "subtract the mean before dividing": a / torch.sqrt(var + eps),
            "divide by the standard deviation, sqrt(var + eps), not by the variance":
                (a - mu) / (var + eps),
        }
        diagnose(got, layer_norm(a, eps), {k: v for k, v in wrong.items() if v is not None},
                 what=what)
    return ("every example normalised over its own units, eps inside the root, "
            "including a single example and constant rows")


# -- ex-05-3 ---------------------------------------------------------------------------------
_STD_CASES = [("xavier", 100, 10), ("xavier", 64, 64), ("he", 100, 10), ("he", 64, 64),
              ("xavier", 1, 3), ("he", 7, 1)]


def _std_cases(seed: int) -> list:
    """(scheme, fan_in, fan_out): the visible six for seed 0; for another seed other fans,
    keeping each case's scheme, its fans of 1 and its equal fans."""
    if seed == 0:
        return _STD_CASES
    n = int_between(np.random.default_rng(seed))
    cases = []
    for scheme, fan_in, fan_out in _STD_CASES:
        new_in = 1 if fan_in == 1 else n(2, 512)
        new_out = new_in if fan_out == fan_in else 1 if fan_out == 1 else n(2, 512)
        cases.append((scheme, new_in, new_out))
    return cases


def _std_variants(scheme, fan_in, fan_out):
    """The reference std and the values of typical mistakes, ``{hint: value}``."""
    if scheme == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out)), {
            "that is the bound a of U(-a, a); the standard deviation of that uniform "
            "is a / sqrt(3)": math.sqrt(6.0 / (fan_in + fan_out)),
            "Glorot averages fan_in and fan_out: Var = 2 / (fan_in + fan_out)":
                math.sqrt(1.0 / fan_in),
            "you returned the variance; take its square root": 2.0 / (fan_in + fan_out),
        }
    return math.sqrt(2.0 / fan_in), {
        "He et al. use fan_in (the forward pass), not fan_out": math.sqrt(2.0 / fan_out),
        "the factor 2 compensates the half of the units that ReLU switches off: "
        "Var = 2 / fan_in": math.sqrt(1.0 / fan_in),
        "you returned the variance; take its square root": 2.0 / fan_in,
        "that is Glorot's rule; He's uses fan_in only": math.sqrt(2.0 / (fan_in + fan_out)),
    }


@check("init_std")
def init_std(fn, *, seed: int = 0) -> object:
    """Check ``fn(scheme, fan_in, fan_out) -> std`` of a weight under ``"xavier"`` (Glorot
    uniform, as :func:`rnnlab.init.xavier_uniform`) or ``"he"`` (He normal); another ``seed``
    draws other fans."""
    for scheme, fan_in, fan_out in _std_cases(seed):
        got = _number(call_student(fn, scheme, fan_in, fan_out),
                      "one number (a standard deviation)")
        want, wrong = _std_variants(scheme, fan_in, fan_out)
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        where = (f"init_std({scheme!r}, fan_in={fan_in}, fan_out={fan_out}) = {got:.6g}, "
                 f"expected {want:.6g}")
        hint = _which(got, wrong, rel_tol=1e-6)
        fail(f"{where}: {hint}" if hint else where)
    return ("Glorot uniform std sqrt(2/(fan_in+fan_out)) and He normal std "
            "sqrt(2/fan_in) on six shapes")


# -- ex-05-4 ---------------------------------------------------------------------------------
def _dead_cases(seed: int) -> list:
    """Pre-activations: a batch with dead columns and an all-zero column, a mostly dead
    batch, a single example; another seed draws other sizes, values and dead columns."""
    if seed == 0:
        B, W, n_dead, seeds, shift = 16, 10, 3, (0, 1, 2), 3.0
        sizes = ((8, 6), (1, 5))
    else:
        rng = np.random.default_rng(seed)
        n = int_between(rng)
        B, W, shift = n(8, 20), n(6, 12), float(rng.uniform(2.5, 3.5))
        n_dead, seeds = n(1, W - 3), [n(3, 2**31) for _ in range(3)]
        sizes = ((n(4, 10), n(4, 8)), (1, n(3, 8)))
    a = _randn(B, W, seed=seeds[0])
    a[:, :n_dead] = -a[:, :n_dead].abs() - 0.1          # dead columns
    a[:, n_dead] = 0.0                                   # exactly zero: relu'(0) = 0, dead too
    if seed != 0:
        a = a[:, torch.randperm(W, generator=torch.Generator().manual_seed(seeds[0]))]
    b = _randn(*sizes[0], seed=seeds[1]) - shift         # mostly dead
    c = _randn(*sizes[1], seed=seeds[2])                 # a single example
    return [a, b, c]


@check("dead_unit_fraction")
def dead_unit_fraction(fn, *, seed: int = 0) -> object:
    """Check ``fn(pre) -> float``: the fraction of units (columns of ``pre (B, W)``) whose
    pre-activation is <= 0 on every example (ReLU passes no gradient there); another ``seed``
    draws other batches."""
    for pre in _dead_cases(seed):
        got = _number(call_student(fn, pre.clone()), "one number (a fraction)")
        want = float((pre <= 0).all(0).double().mean())
        if math.isclose(got, want, abs_tol=1e-6):
            continue
        wrong = {
            "that is the fraction of (example, unit) pairs that are inactive; a unit is dead "
            "only when it is inactive on *every* example": float((pre <= 0).double().mean()),
            "a unit counts as dead only when it is inactive on every example, you counted the "
            "units inactive on at least one": float((pre <= 0).any(0).double().mean()),
            "a pre-activation of exactly 0 is dead too (PyTorch takes relu'(0) = 0): use <= 0":
                float((pre < 0).all(0).double().mean()),
            "you returned the fraction of live units; return the dead ones": 1.0 - want,
            "return a fraction of the units (divide by the number of columns), not a count":
                float((pre <= 0).all(0).sum()),
        }
        where = f"dead fraction of a {tuple(pre.shape)} batch is {got:.4g}, expected {want:.4g}"
        hint = _which(got, wrong, abs_tol=1e-6)
        fail(f"{where}: {hint}" if hint else where)
    return "dead = inactive on every example, zero included, as a fraction of units"


# -- ex-05-5 ---------------------------------------------------------------------------------
_SCALE_CASES = [(10, 2.0), (50, 2.0), (1, 5.0), (200, 10.0), (30, 1.0)]


def _scale_cases(seed: int) -> list:
    """(depth, growth): the visible five for seed 0, else drawn ones with depth 1 and
    growth 1 kept."""
    if seed == 0:
        return _SCALE_CASES
    rng = np.random.default_rng(seed)
    n = int_between(rng)
    return [(1 if depth == 1 else n(2, 300), 1.0 if growth == 1 else float(rng.uniform(1.2, 20)))
            for depth, growth in _SCALE_CASES]


@check("residual_branch_scale")
def residual_branch_scale(fn, *, seed: int = 0) -> object:
    """Check ``fn(depth, growth) -> s`` with ``(1 + s**2) ** depth == growth``; another
    ``seed`` draws other depths and growths."""
    for depth, growth in _scale_cases(seed):
        got = _number(call_student(fn, depth, growth), "one number s")
        want = math.sqrt(growth ** (1.0 / depth) - 1.0)
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-12):
            continue
        where = (f"residual_branch_scale(depth={depth}, growth={growth}) = {got:.6g}, "
                 f"expected {want:.6g}")
        hint = _which(got, {
            "you returned s**2; the variance factor per layer is 1 + s**2, so take the root":
                want ** 2,
            "that is the small-s approximation sqrt(ln(growth) / depth); solve "
            "(1 + s**2) ** depth = growth exactly": math.sqrt(math.log(growth) / depth),
            "the per-layer factors multiply, they do not add: (1 + s**2) ** depth = growth, "
            "not 1 + depth * s**2 = growth": math.sqrt((growth - 1.0) / depth),
            "growth is a factor on the variance (s enters squared), not on the standard "
            "deviation": math.sqrt(growth ** (0.5 / depth) - 1.0),
        }, rel_tol=1e-6, abs_tol=1e-12)
        if hint:
            fail(f"{where}: {hint}")
        if np.isnan(got):
            fail(f"{where}: got NaN (did you take the root of a negative number?)")
        fail(where)
    return "s = sqrt(growth**(1/depth) - 1) on five depths, growth 1 included"
