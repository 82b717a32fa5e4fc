"""Unit tests of rnnlab.checks.ch05: reference answers pass, stubs are TODO, typical mistakes get
their hint."""
import math

import pytest
import torch

from rnnlab import checks
from rnnlab.checks import CheckFailed
from rnnlab.checks import ch05


def _stub(*args, **kwargs):
    raise NotImplementedError("fill me in")


def test_exported():
    for name in ch05.__all__:
        assert getattr(checks, name) is getattr(ch05, name)


# -- layer_norm_rows ------------------------------------------------------------------------
def ln_ref(a, eps):
    mu = a.mean(-1, keepdim=True)
    return (a - mu) / torch.sqrt(a.var(-1, unbiased=False, keepdim=True) + eps)


@pytest.mark.parametrize("fn, hint", [
    (lambda a, eps: (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + eps), "batch normalisation"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / torch.sqrt(a.var(-1, keepdim=True) + eps),
     "biased variance"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / (a.std(-1, unbiased=False, keepdim=True) + eps),
     "inside the square root"),
    (lambda a, eps: a / torch.sqrt(a.var(-1, unbiased=False, keepdim=True) + eps), "subtract the mean"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / (a.var(-1, unbiased=False, keepdim=True) + eps),
     "not by the variance"),
    (lambda a, eps: 2 * ln_ref(a, eps), "constant factor"),
    (lambda a, eps: ln_ref(a, eps)[:, :1], "shape"),
])
def test_layer_norm_rows_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.layer_norm_rows(fn)


def test_layer_norm_rows_pass_and_todo(capsys):
    assert checks.layer_norm_rows(ln_ref).status == "passed"
    assert "PASSED" in capsys.readouterr().out
    assert checks.layer_norm_rows(_stub).status == "todo"
    assert "TODO" in capsys.readouterr().out


# -- init_std -------------------------------------------------------------------------------
def std_ref(scheme, fan_in, fan_out):
    return math.sqrt(2 / (fan_in + fan_out)) if scheme == "xavier" else math.sqrt(2 / fan_in)


@pytest.mark.parametrize("fn, hint", [
    (lambda s, i, o: math.sqrt(6 / (i + o)) if s == "xavier" else std_ref(s, i, o), "bound a"),
    (lambda s, i, o: math.sqrt(1 / i) if s == "xavier" else std_ref(s, i, o), "averages fan_in"),
    (lambda s, i, o: 2 / (i + o) if s == "xavier" else std_ref(s, i, o), "square root"),
    (lambda s, i, o: std_ref(s, i, o) if s == "xavier" else math.sqrt(2 / o), "not fan_out"),
    (lambda s, i, o: std_ref(s, i, o) if s == "xavier" else math.sqrt(1 / i), "factor 2"),
    (lambda s, i, o: math.sqrt(2 / (i + o)), "Glorot's rule"),
    (lambda s, i, o: 0.1, "expected"),
    (lambda s, i, o: "small", "one number"),
])
def test_init_std_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.init_std(fn)


def test_init_std_pass_and_todo():
    assert checks.init_std(std_ref).status == "passed"
    assert checks.init_std(_stub).status == "todo"


def test_init_std_reference_agrees_with_rnnlab_init():
    from rnnlab import init
    g = torch.Generator().manual_seed(0)
    w = init.xavier_uniform(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("xavier", 200, 300)) < 0.02 * std_ref("xavier", 200, 300)
    w = init.he_normal(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("he", 200, 300)) < 0.02 * std_ref("he", 200, 300)


# -- dead_unit_fraction ---------------------------------------------------------------------
def dead_ref(pre):
    return float((pre <= 0).all(dim=0).float().mean())


@pytest.mark.parametrize("fn, hint", [
    (lambda p: float((p <= 0).float().mean()), r"\(example, unit\) pairs"),
    (lambda p: float((p <= 0).any(0).float().mean()), "at least one"),
    (lambda p: float((p < 0).all(0).float().mean()), "exactly 0"),
    (lambda p: 1 - dead_ref(p), "live units"),
    (lambda p: float((p <= 0).all(0).sum()), "not a count"),
    (lambda p: 0.5, "expected"),
    (lambda p: [0.1, 0.2], "one number"),
])
def test_dead_unit_fraction_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.dead_unit_fraction(fn)


def test_dead_unit_fraction_pass_and_todo():
    assert checks.dead_unit_fraction(dead_ref).status == "passed"
    assert checks.dead_unit_fraction(_stub).status == "todo"


# -- residual_branch_scale ------------------------------------------------------------------
def scale_ref(depth, growth):
    return math.sqrt(growth ** (1 / depth) - 1)


@pytest.mark.parametrize("fn, hint", [
    (lambda L, g: growth_sq(L, g), "returned s\\*\\*2"),
    (lambda L, g: math.sqrt(math.log(g) / L), "small-s approximation"),
    (lambda L, g: math.sqrt((g - 1) / L), "multiply, they do not add"),
    (lambda L, g: math.sqrt(g ** (0.5 / L) - 1), "not on the standard"),
    (lambda L, g: 1 / math.sqrt(L), "expected"),
    (lambda L, g: float("nan"), "NaN"),
    (lambda L, g: None, "one number"),
])
def test_residual_branch_scale_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.residual_branch_scale(fn)


def growth_sq(L, g):
    return g ** (1 / L) - 1


def test_residual_branch_scale_pass_and_todo():
    assert checks.residual_branch_scale(scale_ref).status == "passed"
    assert checks.residual_branch_scale(_stub).status == "todo"
