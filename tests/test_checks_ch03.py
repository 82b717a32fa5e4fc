"""Unit tests of rnnlab.checks.ch03: each check passes the reference, says TODO for an
unfilled starter, and gives each typical wrong answer its own hint."""
import math
from functools import reduce

import numpy as np
import pytest
import torch

from rnnlab import cells, gradients
from rnnlab.checks import CheckFailed, ch03


def _todo(*args):
    raise NotImplementedError("fill in")


# -- ex-03-1 -----------------------------------------------------------------------------------
def sig_ref(a):
    s = torch.sigmoid(a)
    return s * (1 - s)


@pytest.mark.parametrize("fn, hint", [
    (lambda a: 1 - torch.tanh(a) ** 2, "derivative of tanh"),
    (lambda a: torch.sigmoid(a), r"returns sigma\(a\) itself"),
    (lambda a: torch.sigmoid(a) * (1 - a), r"not \(1 - a\)"),
    (lambda a: torch.exp(-a) / (1 + torch.exp(-a)) ** 2, "NaN or inf"),
    (lambda a: 4 * sig_ref(a), "constant factor of 4"),
    (lambda a: sig_ref(a)[:10], "shape"),
])
def test_sigmoid_prime_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch03.sigmoid_prime(fn)


def test_sigmoid_prime_reference_and_todo(capsys):
    assert ch03.sigmoid_prime(sig_ref).status == "passed"
    assert ch03.sigmoid_prime(lambda a: sig_ref(a).numpy()).status == "passed"
    assert "0.2500" in capsys.readouterr().out
    assert ch03.sigmoid_prime(_todo).status == "todo"


# -- ex-03-2 -----------------------------------------------------------------------------------
def _steps(W_hh, W_xh, b_h, h0, x):
    h, out = h0, []
    for t in range(x.shape[0]):
        h_prev, h = h, torch.tanh(W_xh @ x[t] + W_hh @ h + b_h)
        out.append((h_prev, h))
    return out


def jac_ref(W_hh, W_xh, b_h, h0, x):
    J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
    for _, h in _steps(W_hh, W_xh, b_h, h0, x):
        J = torch.diag(1 - h ** 2) @ W_hh @ J
    return J


def _jac_variant(factor, order="right"):
    def fn(W_hh, W_xh, b_h, h0, x):
        J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
        for h_prev, h in _steps(W_hh, W_xh, b_h, h0, x):
            F = factor(W_hh, h_prev, h)
            J = F @ J if order == "right" else J @ F
        return J
    return fn


JAC_WRONG = {
    "order": (_jac_variant(lambda W, hp, h: torch.diag(1 - h ** 2) @ W, order="left"), "wrong order"),
    "no tanh'": (_jac_variant(lambda W, hp, h: W), "tanh' is missing"),
    "transposed": (_jac_variant(lambda W, hp, h: torch.diag(1 - h ** 2) @ W.T), "transposed"),
    "diag right": (_jac_variant(lambda W, hp, h: W @ torch.diag(1 - h ** 2)), "from the left"),
    "at h_prev": (_jac_variant(lambda W, hp, h: torch.diag(1 - hp ** 2) @ W), r"taken at h_\(t-1\)"),
    "tanh of h": (_jac_variant(lambda W, hp, h: torch.diag(1 - torch.tanh(h) ** 2) @ W),
                  r"not 1 - tanh\(h_t\)\*\*2"),
    "one short": (lambda W_hh, W_xh, b_h, h0, x: jac_ref(W_hh, W_xh, b_h, h0, x)
                  @ torch.linalg.inv(torch.diag(1 - torch.tanh(W_xh @ x[0] + W_hh @ h0 + b_h) ** 2) @ W_hh),
                  "one step is missing"),
    "wrong shape": (lambda *a: jac_ref(*a)[0], "shape"),
    "scaled": (lambda *a: 2 * jac_ref(*a), "constant factor of 2"),
}


@pytest.mark.parametrize("key", sorted(JAC_WRONG))
def test_jacobian_by_hand_wrong(key):
    fn, hint = JAC_WRONG[key]
    with pytest.raises(CheckFailed, match=hint):
        ch03.jacobian_by_hand(fn)


def test_jacobian_by_hand_reference_and_todo():
    assert ch03.jacobian_by_hand(jac_ref).status == "passed"
    assert ch03.jacobian_by_hand(lambda *a: jac_ref(*a).numpy()).status == "passed"
    assert ch03.jacobian_by_hand(_todo).status == "todo"


def test_jacobian_reference_of_the_check_matches_autograd():
    for case in [dict(T=6, D=2, H=4, seed=0, scale=1.5), dict(T=12, D=1, H=5, seed=2, scale=2.5)]:
        W_hh, W_xh, b_h, h0, x = ch03._rnn_case(**case)
        want, _ = ch03._variants(W_hh, W_xh, b_h, h0, x)
        cell = cells.RNNCell(W_xh.shape[1], W_hh.shape[0]).double()
        with torch.no_grad():
            cell.W_hh.copy_(W_hh)
            cell.W_xh.copy_(W_xh)
            cell.b_h.copy_(b_h)
        torch.testing.assert_close(gradients.jacobian_product(cell, x, state=h0[None])[-1], want)


# -- ex-03-3 -----------------------------------------------------------------------------------
def vanish_ref(rho, factor):
    if rho >= 1:
        return math.inf
    return math.ceil(math.log(factor) / math.log(rho))


@pytest.mark.parametrize("fn, hint", [
    (lambda r, f: math.floor(math.log(f) / math.log(r)), "one step short"),
    (lambda r, f: round(math.log(f) / math.log(r)) if r < 1 else math.inf, "one step short"),
    (lambda r, f: math.log(f) / math.log(r) if r < 1 else math.inf, "round log"),
    (lambda r, f: math.floor(math.log(f) / math.log(r)) + 1 if r < 1 else math.inf, "one step too many"),
    (lambda r, f: math.ceil(math.log(f) / math.log(r)), "raised ZeroDivisionError"),
    (lambda r, f: math.ceil(math.log(f) / math.log(r)) if r != 1 else math.inf, "never shrinks"),
    (lambda r, f: -math.ceil(math.log(f) / math.log(r)) if r < 1 else math.inf, "< 0"),
    (lambda r, f: 3 if r < 1 else math.inf, "expected 10 steps"),
])
def test_steps_to_vanish_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch03.steps_to_vanish(fn)


def test_steps_to_vanish_reference_and_todo():
    assert ch03.steps_to_vanish(vanish_ref).status == "passed"
    assert ch03.steps_to_vanish(_todo).status == "todo"
    for rho, factor in ch03._VANISH_CASES:     # the closed form agrees with counting
        assert vanish_ref(rho, factor) == ch03._vanish_ref(rho, factor)


# -- ex-03-4 -----------------------------------------------------------------------------------
def clip_ref(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / float(total))
    return [g * scale for g in grads], float(total)


@pytest.mark.parametrize("fn, hint", [
    (lambda g, m: ([t * (m / float(clip_ref(g, m)[1])) for t in g], clip_ref(g, m)[1]), "scaled up"),
    (lambda g, m: ([t * min(1.0, m / float(t.norm())) for t in g], clip_ref(g, m)[1]), "on its own"),
    (lambda g, m: (g, clip_ref(g, m)[1]), "not clipped"),
    (lambda g, m: (clip_ref(g, m)[0], min(clip_ref(g, m)[1], m)), "before clipping"),
    (lambda g, m: (clip_ref(g, m)[0], sum(float(t.norm()) for t in g)), "sqrt of the sum"),
    (lambda g, m: clip_ref(g, m)[0], "pair"),
    (lambda g, m: (clip_ref(g, m)[0][:1], clip_ref(g, m)[1]), "list of"),
])
def test_clip_by_norm_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch03.clip_by_norm(fn)


def test_clip_by_norm_reference_and_todo():
    assert ch03.clip_by_norm(clip_ref).status == "passed"
    exact = lambda g, m: ([t * min(1.0, m / float(clip_ref(g, m)[1])) for t in g],  # noqa: E731
                          torch.tensor(clip_ref(g, m)[1]))
    assert ch03.clip_by_norm(exact).status == "passed"
    assert ch03.clip_by_norm(_todo).status == "todo"


def test_checks_are_exported():
    from rnnlab import checks
    for name in ch03.__all__:
        assert getattr(checks, name) is getattr(ch03, name)
