"""Unit tests of rnnlab.checks.ch05: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import math

import pytest
import torch
from checkcases import SEEDS, Protocol, assert_hints

from rnnlab import init
from rnnlab.checks import ch05

pytestmark = pytest.mark.usefixtures("lenient")


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


PROTOCOL = [
    Protocol(ch05.layer_norm_rows, ln_ref),
    Protocol(ch05.init_std, std_ref),
    Protocol(ch05.dead_unit_fraction, dead_ref),
    Protocol(ch05.residual_branch_scale, scale_ref),
]


# -- layer_norm_rows ------------------------------------------------------------------------
def _biased(a):
    return a.var(-1, unbiased=False, keepdim=True)


LAYER_NORM_WRONG = [         # (answer, hint)
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
]


def test_layer_norm_rows_hints(subtests):
    assert_hints(subtests, ch05.layer_norm_rows, LAYER_NORM_WRONG)


def test_layer_norm_cases_include_a_single_example_and_constant_rows(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            shapes = [a.shape for a, _ in ch05._norm_cases(seed)]
            assert any(s[0] == 1 for s in shapes)
            assert any(bool((a == a[0, 0]).all()) for a, _ in ch05._norm_cases(seed))


# -- init_std -------------------------------------------------------------------------------
INIT_STD_WRONG = [           # (answer, hint)
    (lambda s, i, o: math.sqrt(6 / (i + o)) if s == "xavier" else std_ref(s, i, o), "bound a"),
    (lambda s, i, o: math.sqrt(1 / i) if s == "xavier" else std_ref(s, i, o), "averages fan_in"),
    (lambda s, i, o: 2 / (i + o) if s == "xavier" else std_ref(s, i, o), "square root"),
    (lambda s, i, o: std_ref(s, i, o) if s == "xavier" else math.sqrt(2 / o), "not fan_out"),
    (lambda s, i, o: std_ref(s, i, o) if s == "xavier" else math.sqrt(1 / i), "factor 2"),
    (lambda s, i, o: math.sqrt(2 / (i + o)), "Glorot's rule"),
    (lambda s, i, o: 0.1, "expected"),
    (lambda s, i, o: "small", "one number.*got str"),
    (lambda s, i, o: str(std_ref(s, i, o)),                    # the right digits, as text
     r"one number \(a standard deviation\), got str"),
]


def test_init_std_hints(subtests):
    assert_hints(subtests, ch05.init_std, INIT_STD_WRONG)


def test_init_std_reference_agrees_with_rnnlab_init():
    g = torch.Generator().manual_seed(0)
    w = init.xavier_uniform(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("xavier", 200, 300)) < 0.02 * std_ref("xavier", 200, 300)
    w = init.he_normal(300, 200, generator=g)
    assert abs(float(w.std()) - std_ref("he", 200, 300)) < 0.02 * std_ref("he", 200, 300)


# -- dead_unit_fraction ---------------------------------------------------------------------
DEAD_UNIT_WRONG = [          # (answer, hint)
    (lambda p: float((p <= 0).float().mean()), r"\(example, unit\) pairs"),
    (lambda p: float((p <= 0).any(0).float().mean()), "at least one"),
    (lambda p: float((p < 0).all(0).float().mean()), "exactly 0"),
    (lambda p: 1 - dead_ref(p), "live units"),
    (lambda p: float((p <= 0).all(0).sum()), "not a count"),
    (lambda p: 0.5, "expected"),
    (lambda p: [0.1, 0.2], "one number"),
]


def test_dead_unit_fraction_hints(subtests):
    assert_hints(subtests, ch05.dead_unit_fraction, DEAD_UNIT_WRONG)


# -- residual_branch_scale ------------------------------------------------------------------
RESIDUAL_SCALE_WRONG = [     # (answer, hint)
    (lambda L, g: g ** (1 / L) - 1, "returned s\\*\\*2"),
    (lambda L, g: math.sqrt(math.log(g) / L), "small-s approximation"),
    (lambda L, g: math.sqrt((g - 1) / L), "multiply, they do not add"),
    (lambda L, g: math.sqrt(g ** (0.5 / L) - 1), "not on the standard"),
    (lambda L, g: 1 / math.sqrt(L), "expected"),
    (lambda L, g: float("nan"), "NaN"),
    (lambda L, g: None, "one number"),
]


def test_residual_branch_scale_hints(subtests):
    assert_hints(subtests, ch05.residual_branch_scale, RESIDUAL_SCALE_WRONG)
