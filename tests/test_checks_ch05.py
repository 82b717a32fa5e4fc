"""Unit tests of rnnlab.checks.ch05: reference answers pass on the visible and hidden cases,
stubs are TODO, typical mistakes get their hint, answers hard-coded for the visible cases fail
on hidden ones."""
import math

import pytest
import torch
from test_checks_core import HIDDEN, MISTAKE_SEEDS, SEEDS, replaying, visible_outputs

from rnnlab import init
from rnnlab.checks import CheckFailed, ch05
from rnnlab.checks._core import STRICT_ENV


@pytest.fixture(autouse=True)
def lenient(monkeypatch):
    """A TODO prints and returns, as in a student's notebook (conftest.py sets strict mode)."""
    monkeypatch.setenv(STRICT_ENV, "0")


def _stub(*args, **kwargs):
    raise NotImplementedError("fill me in")


# -- the references ---------------------------------------------------------------------------
def ln_ref(a, eps):
    mu = a.mean(-1, keepdim=True)
    return (a - mu) / torch.sqrt(a.var(-1, unbiased=False, keepdim=True) + eps)


def std_ref(scheme, fan_in, fan_out):
    return math.sqrt(2 / (fan_in + fan_out)) if scheme == "xavier" else math.sqrt(2 / fan_in)


def dead_ref(pre):
    return float((pre <= 0).all(dim=0).float().mean())


def scale_ref(depth, growth):
    return math.sqrt(growth ** (1 / depth) - 1)


REFERENCES = {ch05.layer_norm_rows: ln_ref, ch05.init_std: std_ref,
              ch05.dead_unit_fraction: dead_ref, ch05.residual_branch_scale: scale_ref}
_IDS = [check.__name__ for check in REFERENCES]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("check, reference", REFERENCES.items(), ids=_IDS)
def test_references_pass_on_visible_and_hidden_cases(check, reference, seed, capsys):
    assert check(reference, seed=seed).status == "passed"
    assert capsys.readouterr().out.startswith(f"PASSED {check.__name__}: ")


@pytest.mark.parametrize("check", REFERENCES, ids=_IDS)
def test_unfilled_starters_are_todo(check, capsys):
    assert check(_stub).status == "todo"
    assert f"TODO {check.__name__}" in capsys.readouterr().out


@pytest.mark.parametrize("check, reference", REFERENCES.items(), ids=_IDS)
def test_answers_hard_coded_for_the_visible_cases_fail_on_hidden_ones(check, reference):
    outputs = visible_outputs(check, reference)
    assert check(replaying(outputs)).status == "passed"
    for seed in HIDDEN:
        with pytest.raises(CheckFailed, match=f"^{check.__name__}: "):
            check(replaying(outputs), seed=seed)


# -- layer_norm_rows ------------------------------------------------------------------------
def _biased(a):
    return a.var(-1, unbiased=False, keepdim=True)


@pytest.mark.parametrize("seed", MISTAKE_SEEDS)
@pytest.mark.parametrize("fn, hint", [
    (lambda a, eps: (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + eps),
     "batch normalisation"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / torch.sqrt(a.var(-1, keepdim=True) + eps),
     "biased variance"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / (torch.sqrt(_biased(a)) + eps),
     "inside the square root"),
    (lambda a, eps: a / torch.sqrt(_biased(a) + eps), "subtract the mean"),
    (lambda a, eps: (a - a.mean(-1, keepdim=True)) / (_biased(a) + eps), "not by the variance"),
    (lambda a, eps: 2 * ln_ref(a, eps), "constant factor"),
    (lambda a, eps: ln_ref(a, eps)[:, :1], "shape"),
])
def test_layer_norm_rows_hints(fn, hint, seed):
    with pytest.raises(CheckFailed, match=hint):
        ch05.layer_norm_rows(fn, seed=seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_layer_norm_cases_include_a_single_example_and_constant_rows(seed):
    shapes = [a.shape for a, _ in ch05._norm_cases(seed)]
    assert any(s[0] == 1 for s in shapes)
    assert any(bool((a == a[0, 0]).all()) for a, _ in ch05._norm_cases(seed))


# -- init_std -------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", MISTAKE_SEEDS)
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
def test_init_std_hints(fn, hint, seed):
    with pytest.raises(CheckFailed, match=hint):
        ch05.init_std(fn, seed=seed)


def test_init_std_reference_agrees_with_rnnlab_init():
    g = torch.Generator().manual_seed(0)
    w = init.xavier_uniform(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("xavier", 200, 300)) < 0.02 * std_ref("xavier", 200, 300)
    w = init.he_normal(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("he", 200, 300)) < 0.02 * std_ref("he", 200, 300)


# -- dead_unit_fraction ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", MISTAKE_SEEDS)
@pytest.mark.parametrize("fn, hint", [
    (lambda p: float((p <= 0).float().mean()), r"\(example, unit\) pairs"),
    (lambda p: float((p <= 0).any(0).float().mean()), "at least one"),
    (lambda p: float((p < 0).all(0).float().mean()), "exactly 0"),
    (lambda p: 1 - dead_ref(p), "live units"),
    (lambda p: float((p <= 0).all(0).sum()), "not a count"),
    (lambda p: 0.5, "expected"),
    (lambda p: [0.1, 0.2], "one number"),
])
def test_dead_unit_fraction_hints(fn, hint, seed):
    with pytest.raises(CheckFailed, match=hint):
        ch05.dead_unit_fraction(fn, seed=seed)


# -- residual_branch_scale ------------------------------------------------------------------
@pytest.mark.parametrize("seed", MISTAKE_SEEDS)
@pytest.mark.parametrize("fn, hint", [
    (lambda L, g: g ** (1 / L) - 1, "returned s\\*\\*2"),
    (lambda L, g: math.sqrt(math.log(g) / L), "small-s approximation"),
    (lambda L, g: math.sqrt((g - 1) / L), "multiply, they do not add"),
    (lambda L, g: math.sqrt(g ** (0.5 / L) - 1), "not on the standard"),
    (lambda L, g: 1 / math.sqrt(L), "expected"),
    (lambda L, g: float("nan"), "NaN"),
    (lambda L, g: None, "one number"),
])
def test_residual_branch_scale_hints(fn, hint, seed):
    with pytest.raises(CheckFailed, match=hint):
        ch05.residual_branch_scale(fn, seed=seed)
