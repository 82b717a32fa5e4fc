"""Unit tests of rnnlab.deep: the deep feed-forward stack, its options and its measurements."""
import itertools
import math

import numpy as np
import pytest
import torch

from rnnlab import deep

D, W, L, B = 5, 16, 6, 32


def _x(n=B, d=D, seed=0, dtype=torch.float64):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _mlp(**kw):
    return deep.DeepMLP(kw.pop("in_features", D), kw.pop("width", W), kw.pop("depth", L),
                        **kw).double()


# -- construction and options ---------------------------------------------------------------
def test_shapes_and_trace():
    m = _mlp(out_features=3)
    out = m.trace(_x())
    assert out["y"].shape == (B, 3) and torch.equal(m(_x()), out["y"])
    assert len(out["pre"]) == len(out["post"]) == L
    assert all(a.shape == (B, W) for a in out["pre"] + out["post"])
    assert len(m.weights) == L and m.weights[0].shape == (W, D)


BAD_OPTIONS = [                     # (kwargs, message): each a ValueError
    (dict(activation="swish"), "activation must be one of"),
    (dict(init="kaiming"), "init must be one of"),
    (dict(norm="group"), "norm must be one of"),
    (dict(depth=0), "depth must be >= 1"),
    (dict(init_scale=-1.0), "init_scale must be >= 0"),
    (dict(norm="batch", bias=-1.0), "needs norm='none'"),
    (dict(init="identity"), "square"),
]


def test_bad_options_are_rejected(subtests):
    for kwargs, match in BAD_OPTIONS:
        with subtests.test(**kwargs):
            with pytest.raises(ValueError, match=match):
                _mlp(**kwargs)


def test_bad_types_are_rejected():
    with pytest.raises(TypeError, match="width must be an int"):
        deep.DeepMLP(D, 2.5, L)
    with pytest.raises(TypeError, match="seed must be an int"):
        _mlp(seed=None)


def test_seed_makes_weights_reproducible():
    a, b, c = _mlp(seed=3), _mlp(seed=3), _mlp(seed=4)
    torch.manual_seed(123)  # global RNG must not matter
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a.weights[1], c.weights[1])


def test_default_init_is_pytorch_bound():
    m = deep.DeepMLP(D, 400, 2)
    for lin in m.linears:
        bound = 1 / math.sqrt(lin.weight.shape[1])
        assert lin.weight.abs().max() <= bound and lin.weight.abs().max() > 0.95 * bound
        assert lin.bias.abs().max() <= bound and lin.bias.abs().max() > 0.9 * bound


def test_he_init_std_scale_and_zero_bias():
    m = deep.DeepMLP(400, 400, 2, init="he", init_scale=0.5)
    w = m.weights[1]
    assert abs(float(w.detach().std()) - 0.5 * math.sqrt(2 / 400)) < 0.02 * math.sqrt(2 / 400)
    assert torch.count_nonzero(m.linears[0].bias) == 0


def test_orthogonal_and_identity_inits():
    m = deep.DeepMLP(W, W, 3, init="orthogonal", init_scale=2.0).double()
    for w in m.weights:
        assert torch.allclose(w.T @ w, 4 * torch.eye(W, dtype=w.dtype), atol=1e-5)
    m = deep.DeepMLP(W, W, 3, init="identity")
    assert all(torch.equal(w, torch.eye(W)) for w in m.weights)


def test_bias_option_fills_hidden_biases():
    m = _mlp(bias=-2.0)
    assert all(torch.all(lin.bias == -2.0) for lin in m.linears)
    assert not torch.all(m.readout.bias == -2.0)


def test_norm_layers_replace_the_bias(subtests):
    for norm in ("batch", "layer"):
        with subtests.test(norm=norm):
            m = _mlp(norm=norm)
            assert all(lin.bias is None for lin in m.linears)
            pre = m.trace(_x())["pre"]
            if norm == "layer":   # every example normalised over its units
                assert torch.allclose(pre[2].mean(1), torch.zeros(B, dtype=torch.float64),
                                      atol=1e-6)
            else:                 # every unit normalised over the batch
                assert torch.allclose(pre[2].mean(0), torch.zeros(W, dtype=torch.float64),
                                      atol=1e-6)


def test_residual_layer_by_hand():
    m = _mlp(activation="tanh", residual=True, residual_scale=0.3)
    x = _x()
    post = m.trace(x)["post"]
    lin = m.linears[3]
    assert torch.allclose(post[3], post[2] + 0.3 * torch.tanh(lin(post[2])), atol=1e-12)
    assert torch.allclose(post[0], torch.tanh(m.linears[0](x)), atol=1e-12)  # no skip first


ACTIVATIONS_BY_HAND = [             # (name, the function written out)
    ("leaky_relu", lambda a: torch.where(a > 0, a, 0.01 * a)),
    ("gelu", lambda a: a * 0.5 * (1 + torch.erf(a / math.sqrt(2)))),
    ("sigmoid", torch.sigmoid), ("identity", lambda a: a),
]


def test_activations(subtests):
    a = torch.linspace(-3, 3, 13, dtype=torch.float64)
    for act, fn in ACTIVATIONS_BY_HAND:
        with subtests.test(act=act):
            assert torch.allclose(deep.ACTIVATIONS[act](a), fn(a), atol=1e-12)


# -- measurements ---------------------------------------------------------------------------
def _brute_norms(m, x, wrt):
    m.zero_grad()
    out = m.trace(x)
    for h in out["post"]:
        h.retain_grad()
    (out["y"].sum() / x.shape[0]).backward()
    tensors = [h.grad for h in out["post"]] if wrt == "output" else [w.grad for w in m.weights]
    return torch.stack([t.norm() for t in tensors])


def test_layer_grad_norms_match_backward(subtests):
    for kw, wrt in itertools.product([dict(activation="tanh"),
                                      dict(activation="relu", residual=True)],
                                     ["output", "weight"]):
        with subtests.test(**kw, wrt=wrt):
            m, x = _mlp(**kw), _x()
            got = deep.layer_grad_norms(m, x, wrt=wrt)
            want = _brute_norms(m, x, wrt)
            assert got.shape == (L,) and torch.allclose(got, want, rtol=1e-10)
            assert math.isclose(deep.grad_ratio(m, x, wrt=wrt), float(want[0] / want[-1]),
                                rel_tol=1e-10)


def test_layer_grad_norms_leave_grads_alone_and_take_a_loss():
    m, x = _mlp(), _x()
    deep.layer_grad_norms(m, x)
    assert all(p.grad is None for p in m.parameters())
    twice = deep.layer_grad_norms(m, x, loss_fn=lambda y: 2 * y.sum() / y.shape[0])
    assert torch.allclose(twice, 2 * deep.layer_grad_norms(m, x))


def test_sigmoid_stack_vanishes_and_skips_restore_it():
    x = _x(d=W)
    plain = deep.grad_ratio(_mlp(in_features=W, activation="sigmoid", depth=20), x)
    skip = deep.grad_ratio(_mlp(in_features=W, activation="sigmoid", depth=20, residual=True), x)
    assert plain < 1e-8 and skip > 0.1


def test_grad_ratio_undefined_when_last_gradient_is_zero():
    m = _mlp()
    with pytest.raises(ValueError, match="ratio is undefined"):
        deep.grad_ratio(m, _x(), loss_fn=lambda y: 0 * y.sum())


def test_activation_stds_and_mean_derivatives():
    m, x = _mlp(activation="relu"), _x()
    out = m.trace(x)
    assert torch.allclose(deep.activation_stds(m, x), torch.stack([h.std() for h in out["post"]]))
    active = torch.stack([(a > 0).double().mean() for a in out["pre"]])
    assert torch.allclose(deep.mean_derivatives(m, x), active)
    ident = _mlp(activation="identity")
    assert torch.allclose(deep.mean_derivatives(ident, x), torch.ones(L, dtype=torch.float64))
    t = _mlp(activation="tanh")
    by_hand = torch.stack([(1 - torch.tanh(a) ** 2).pow(2).mean() for a in t.trace(x)["pre"]])
    assert torch.allclose(deep.mean_derivatives(t, x, squared=True), by_hand)


def test_dead_fraction():
    x = _x()
    dead = deep.dead_fraction(_mlp(activation="relu", bias=-100.0), x)
    assert torch.all(dead == 1.0)
    dead = _mlp(activation="relu", bias=-100.0)
    assert torch.all(deep.layer_grad_norms(dead, x, wrt="weight") == 0)
    assert torch.all(deep.dead_fraction(_mlp(activation="leaky_relu", bias=-100.0), x) == 0.0)
    m = _mlp(activation="relu")
    by_hand = torch.stack([(a <= 0).all(0).double().mean() for a in m.trace(x)["pre"]])
    assert torch.allclose(deep.dead_fraction(m, x), by_hand)
    big = _mlp(activation="tanh", init_scale=50.0)
    saturated = deep.dead_fraction(big, 100 * x, threshold=1e-2)
    assert saturated[0] > 0.9
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        deep.dead_fraction(m, x, threshold=-1.0)


def test_preactivation_percentiles():
    m, x = _mlp(), _x()
    got = deep.preactivation_percentiles(m, x, q=(10, 50, 90))
    pre = m.trace(x)["pre"]
    want = np.stack([np.percentile(a.detach().numpy().ravel(), [10, 50, 90]) for a in pre])
    assert got.shape == (L, 3) and np.allclose(got.numpy(), want, atol=1e-5)
    with pytest.raises(ValueError, match="percentiles in"):
        deep.preactivation_percentiles(m, x, q=(50, 120))


def test_normalisation_invariances():
    x = _x(d=W)
    for norm, example_invariant in (("layer", True), ("batch", False)):
        m = _mlp(in_features=W, norm=norm, activation="tanh")
        y = m(x)
        with torch.no_grad():
            m.linears[0].weight.mul_(7.0)
        assert torch.allclose(m(x), y, atol=1e-4), norm          # weight rescaling
        x2 = x.clone()
        x2[0] *= 5.0
        assert torch.allclose(m(x2), y, atol=1e-4) == example_invariant, norm


def test_saturated_fraction():
    m, x = _mlp(activation="sigmoid", init_scale=8.0), _x()
    by_hand = torch.stack([(torch.sigmoid(a) * (1 - torch.sigmoid(a)) <= 0.01).double().mean()
                           for a in m.trace(x)["pre"]])
    assert torch.allclose(deep.saturated_fraction(m, x), by_hand)
    assert torch.all(deep.saturated_fraction(m, x) >= deep.dead_fraction(m, x, threshold=0.01))
    assert torch.all(deep.saturated_fraction(_mlp(activation="identity"), x) == 0)
    with pytest.raises(ValueError, match="threshold must be >= 0"):
        deep.saturated_fraction(m, x, threshold=-0.1)


def _autograd_jacobian(m, x1):
    return torch.autograd.functional.jacobian(
        lambda v: m.trace(v.unsqueeze(0))["post"][-1].squeeze(0), x1)


JACOBIAN_STACKS = [dict(activation="tanh"), dict(activation="relu", init="he"),
                   dict(activation="sigmoid", residual=True, residual_scale=0.5),
                   dict(activation="tanh", norm="layer")]


def test_input_output_jacobian_matches_autograd(subtests):
    for kw in JACOBIAN_STACKS:
        with subtests.test(**kw):
            m, x = _mlp(**kw), _x(n=4)
            jac = deep.input_output_jacobian(m, x)
            assert jac.shape == (4, W, D)
            for b in range(4):
                assert torch.allclose(jac[b], _autograd_jacobian(m, x[b]), atol=1e-12)
            assert all(p.grad is None for p in m.parameters())


def test_input_output_jacobian_of_orthogonal_linear_stack_is_orthogonal():
    m, x = _mlp(in_features=W, activation="identity", init="orthogonal"), _x(n=3, d=W)
    sv = torch.linalg.svdvals(deep.input_output_jacobian(m, x))
    assert torch.allclose(sv, torch.ones_like(sv), atol=1e-10)


def test_input_output_jacobian_refuses_batch_norm():
    with pytest.raises(ValueError, match="norm='batch'"):
        deep.input_output_jacobian(_mlp(norm="batch"), _x())


MEASUREMENTS = [deep.layer_grad_norms, deep.activation_stds, deep.mean_derivatives,
                deep.dead_fraction, deep.saturated_fraction, deep.preactivation_percentiles,
                deep.input_output_jacobian]


def test_measurements_check_arguments(subtests):
    for fn in MEASUREMENTS:
        with subtests.test(fn=fn.__name__):
            m = _mlp()
            with pytest.raises(ValueError, match=f"size {D} on axis 1"):
                fn(m, _x(d=D + 1))
            with pytest.raises(TypeError, match="must be a torch.Tensor"):
                fn(m, np.zeros((B, D)))


def test_grad_options_are_checked():
    m = _mlp()
    with pytest.raises(ValueError, match="wrt must be one of"):
        deep.layer_grad_norms(m, _x(), wrt="bias")
    with pytest.raises(ValueError, match="scalar"):
        deep.layer_grad_norms(m, _x(), loss_fn=lambda y: y)
