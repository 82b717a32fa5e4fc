"""Unit tests of rnnlab.checks.ch03: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import math

import pytest
import torch
from checkcases import SEEDS, Protocol, assert_hints

from rnnlab import cells, gradients
from rnnlab.checks import CheckFailed, ch03

pytestmark = pytest.mark.usefixtures("lenient")


# -- the references ---------------------------------------------------------------------------
def sig_ref(a):
    s = torch.sigmoid(a)
    return s * (1 - s)


def _steps(W_hh, W_xh, b_h, h0, x):
    h, out = h0, []
    for t in range(x.shape[0]):
        h_prev, h = h, torch.tanh(W_xh @ x[t] + W_hh @ h + b_h)
        out.append((h_prev, h))
    return out


def _jac_variant(factor, order="right"):
    """dh_T/dh_0 as a product of per-step ``factor(W_hh, h_prev, h)``, multiplied on the
    ``order`` side; the right factor and side give the reference."""
    def fn(W_hh, W_xh, b_h, h0, x):
        J = torch.eye(W_hh.shape[0], dtype=W_hh.dtype)
        for h_prev, h in _steps(W_hh, W_xh, b_h, h0, x):
            F = factor(W_hh, h_prev, h)
            J = F @ J if order == "right" else J @ F
        return J
    return fn


jac_ref = _jac_variant(lambda W, hp, h: torch.diag(1 - h ** 2) @ W)


def vanish_ref(rho, factor):
    if rho >= 1:
        return math.inf
    return math.ceil(math.log(factor) / math.log(rho))


def vanish_loop(rho, factor):
    """The other natural answer: step until rho**k <= factor (in floats; 4 at 0.1, 1e-3)."""
    if rho >= 1:
        return math.inf
    k = 0
    while rho ** k > factor:
        k += 1
    return k


def clip_ref(grads, max_norm):
    total = torch.sqrt(sum((g ** 2).sum() for g in grads))
    scale = min(1.0, max_norm / float(total))
    return [g * scale for g in grads], float(total)


PROTOCOL = [
    Protocol(ch03.sigmoid_prime, sig_ref,
             also_correct={"in numpy": lambda a: sig_ref(a).numpy()}),
    Protocol(ch03.jacobian_by_hand, jac_ref,
             also_correct={"in numpy": lambda *a: jac_ref(*a).numpy()}),
    Protocol(ch03.steps_to_vanish, vanish_ref, also_correct={"a loop": vanish_loop}),
    Protocol(ch03.clip_by_norm, clip_ref,
             also_correct={"with a tensor norm": lambda g, m: (clip_ref(g, m)[0],
                                                               torch.tensor(clip_ref(g, m)[1]))}),
]


# -- ex-03-1 -----------------------------------------------------------------------------------
SIGMOID_PRIME_WRONG = [      # (answer, hint)
    (lambda a: 1 - torch.tanh(a) ** 2, "derivative of tanh"),
    (lambda a: torch.sigmoid(a), r"returns sigma\(a\) itself, not its derivative"),
    (lambda a: torch.sigmoid(a) * (1 - a), r"sigma\(a\) \* \(1 - a\), which is negative"),
    (lambda a: torch.exp(-a) / (1 + torch.exp(-a)) ** 2, r"NaN or inf .*exp\(-a\) overflows"),
    (lambda a: 4 * sig_ref(a), "constant factor of 4"),
    (lambda a: sig_ref(a)[:10], "shape"),
]


def test_sigmoid_prime_wrong(subtests):
    assert_hints(subtests, ch03.sigmoid_prime, SIGMOID_PRIME_WRONG)


def test_sigmoid_prime_hints_leave_the_formula_to_the_learner(subtests):
    # A hint says what is wrong; the formula sigma (1 - sigma) is what part 1 derives.
    for answer, hint in SIGMOID_PRIME_WRONG:
        with subtests.test(hint=hint):
            with pytest.raises(CheckFailed) as exc:
                ch03.sigmoid_prime(answer)
            assert "1 - sigma" not in str(exc.value), str(exc.value)


def test_sigmoid_prime_reports_the_maximum_at_zero(subtests, capsys):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            capsys.readouterr()
            ch03.sigmoid_prime(sig_ref, seed=seed)
            assert "101 points in [-800, 800]; its largest value is 0.2500 at a = 0" in \
                capsys.readouterr().out


# -- ex-03-2 -----------------------------------------------------------------------------------
def _one_short(W_hh, W_xh, b_h, h0, x):
    first = torch.diag(1 - torch.tanh(W_xh @ x[0] + W_hh @ h0 + b_h) ** 2) @ W_hh
    return jac_ref(W_hh, W_xh, b_h, h0, x) @ torch.linalg.inv(first)


JACOBIAN_WRONG = [           # (answer, hint)
    (_jac_variant(lambda W, hp, h: torch.diag(1 - h ** 2) @ W, order="left"), "wrong order"),
    (_jac_variant(lambda W, hp, h: W), "tanh' is missing"),
    (_jac_variant(lambda W, hp, h: torch.diag(1 - h ** 2) @ W.T), "W_hh is transposed"),
    (lambda *a: jac_ref(*a).T, "transpose of dh_T/dh_0.*backprop"),    # (dh_T/dh_0)^T
    (_jac_variant(lambda W, hp, h: W.T @ torch.diag(1 - h ** 2), order="left"),  # the same
     "transpose of dh_T/dh_0.*backprop"),
    (_jac_variant(lambda W, hp, h: W.T @ torch.diag(1 - h ** 2)), r"W_hh.T @ diag\(tanh'\), "
     "backprop's factor"),
    (_jac_variant(lambda W, hp, h: W @ torch.diag(1 - h ** 2)), "from the left"),
    (_jac_variant(lambda W, hp, h: torch.diag(1 - hp ** 2) @ W), r"taken at h_\(t-1\)"),
    (_jac_variant(lambda W, hp, h: torch.diag(1 - torch.tanh(h) ** 2) @ W),
     r"not 1 - tanh\(h_t\)\*\*2"),
    (_one_short, "one step is missing"),
    (lambda *a: jac_ref(*a)[0], "shape"),
    (lambda *a: 2 * jac_ref(*a), "constant factor of 2"),
]


def test_jacobian_by_hand_wrong(subtests):
    assert_hints(subtests, ch03.jacobian_by_hand, JACOBIAN_WRONG)


def test_jacobian_reference_of_the_check_matches_autograd(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            for case in ch03._jacobian_cases(seed):
                W_hh, W_xh, b_h, h0, x = ch03._rnn_case(**case)
                want, _ = ch03._variants(W_hh, W_xh, b_h, h0, x)
                cell = cells.RNNCell(W_xh.shape[1], W_hh.shape[0]).double()
                with torch.no_grad():
                    cell.W_hh.copy_(W_hh)
                    cell.W_xh.copy_(W_xh)
                    cell.b_h.copy_(b_h)
                got = gradients.jacobian_product(cell, x, state=h0[None])[-1]
                torch.testing.assert_close(got, want)


# -- ex-03-3 -----------------------------------------------------------------------------------
# Two mistakes get the same hint (one step short): floor fails on every fractional ratio, round
# only where the fraction is below 1/2, which the cases must contain.
STEPS_TO_VANISH_WRONG = [    # (mistake, answer, hint)
    ("floor", lambda r, f: math.floor(math.log(f) / math.log(r)), "one step short"),
    ("round", lambda r, f: round(math.log(f) / math.log(r)) if r < 1 else math.inf,
     "one step short"),
    ("not rounded", lambda r, f: math.log(f) / math.log(r) if r < 1 else math.inf, "round log"),
    ("floor + 1", lambda r, f: math.floor(math.log(f) / math.log(r)) + 1 if r < 1 else math.inf,
     "one step too many"),
    ("no inf at all", lambda r, f: math.ceil(math.log(f) / math.log(r)),
     "raised ZeroDivisionError"),
    ("inf only at rho = 1",
     lambda r, f: math.ceil(math.log(f) / math.log(r)) if r != 1 else math.inf, "never shrinks"),
    ("negated", lambda r, f: -math.ceil(math.log(f) / math.log(r)) if r < 1 else math.inf, "< 0"),
    ("far off", lambda r, f: 10 ** 6 if r < 1 else math.inf, r"expected \d+ steps, got 1000000"),
]


def test_steps_to_vanish_wrong(subtests):
    assert_hints(subtests, ch03.steps_to_vanish, STEPS_TO_VANISH_WRONG)


def test_steps_to_vanish_cases_agree_with_the_closed_form_and_keep_their_kinds(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            cases = ch03._vanish_cases(seed)
            assert all({vanish_ref(rho, f), vanish_loop(rho, f)} <= ch03._vanish_accepted(rho, f)
                       for rho, f in cases)
            assert sum(rho < 1 and ch03._is_tie(rho, f) for rho, f in cases) == 1  # 0.1, 1e-3
            assert any(rho == 1 for rho, _ in cases) and any(rho > 1 for rho, _ in cases)
            assert any(rho == f for rho, f in cases)      # exactly one step: rho**1 == factor
            assert any(f > rho ** 0.5 for rho, f in cases if rho < 1)  # one step, ratio < 1/2


# -- ex-03-4 -----------------------------------------------------------------------------------
CLIP_BY_NORM_WRONG = [       # (answer, hint)
    (lambda g, m: ([t * (m / clip_ref(g, m)[1]) for t in g], clip_ref(g, m)[1]), "scaled up"),
    (lambda g, m: ([t * min(1.0, m / float(t.norm())) for t in g], clip_ref(g, m)[1]),
     "on its own"),
    (lambda g, m: (g, clip_ref(g, m)[1]), "not clipped"),
    (lambda g, m: (clip_ref(g, m)[0], min(clip_ref(g, m)[1], m)), "before clipping"),
    (lambda g, m: (clip_ref(g, m)[0], sum(float(t.norm()) for t in g)), "sqrt of the sum"),
    (lambda g, m: clip_ref(g, m)[0], "pair"),
    (lambda g, m: (clip_ref(g, m)[0][:1], clip_ref(g, m)[1]), "list of"),
]


def test_clip_by_norm_wrong(subtests):
    assert_hints(subtests, ch03.clip_by_norm, CLIP_BY_NORM_WRONG)


def test_clip_cases_lie_above_and_below_the_threshold(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            norms = [(float(torch.sqrt(sum((t ** 2).sum() for t in g))), m)
                     for g, m in ch03._grad_cases(seed)]
            assert any(n > m for n, m in norms) and any(n < m for n, m in norms)
