"""Unit tests of rnnlab.linear_rnn: the diagonal complex recurrence, its ring initialisation
and memory horizon, the model around it, and the minGRU."""
import math

import pytest
import torch

from rnnlab import gradients
from rnnlab.linear_rnn import (
    LinearRecurrentCell,
    LinearRecurrentLayer,
    LinearRNN,
    MinGRUCell,
    MinGRULayer,
    memory_horizon,
    ring_init,
)
from rnnlab.models import RecurrentLayer


def test_ring_init_draws_moduli_and_phases_in_range():
    nu_log, theta_log = ring_init(2000, 0.9, 0.99, 0.5, generator=torch.Generator().manual_seed(0))
    modulus, phase = torch.exp(-torch.exp(nu_log)), torch.exp(theta_log)
    assert modulus.min() >= 0.9 - 1e-6 and modulus.max() <= 0.99 + 1e-6
    assert phase.min() >= 0 and phase.max() <= 0.5 + 1e-6
    # uniform on the ring's area: |lambda|^2 is uniform between r_min^2 and r_max^2
    assert abs((modulus.double() ** 2).mean() - (0.81 + 0.9801) / 2) < 0.005
    same = ring_init(8, generator=torch.Generator().manual_seed(1))
    again = ring_init(8, generator=torch.Generator().manual_seed(1))
    assert all(torch.equal(x, y) for x, y in zip(same, again))


def test_ring_init_bad_inputs():
    with pytest.raises(ValueError, match="r_max must be below 1"):
        ring_init(4, 0.9, 1.0)
    with pytest.raises(ValueError, match="r_max must be >="):
        ring_init(4, 0.9, 0.5)
    with pytest.raises(ValueError, match="max_phase must be >"):
        ring_init(4, 0.5, 0.9, 0.0)


def test_memory_horizon():
    k = memory_horizon(torch.tensor([0.5, 0.9, 0.99]), eps=0.01)
    assert torch.allclose(k, torch.tensor([math.log(0.01) / math.log(r) for r in (0.5, 0.9, 0.99)],
                                          dtype=torch.float64))
    assert torch.allclose(torch.tensor([0.5, 0.9, 0.99], dtype=torch.float64) ** k,
                          torch.full((3,), 0.01, dtype=torch.float64))
    assert memory_horizon(1.0).item() == float("inf") and memory_horizon(0.0).item() == 0.0


MEMORY_HORIZON_BAD = [              # (case, modulus, eps, error, message)
    ("eps 1", 0.9, 1.0, ValueError, "eps must be below 1"),
    ("modulus above 1", torch.tensor([1.5]), 0.01, ValueError, r"\[0, 1\]"),
    ("modulus a string", "0.9", 0.01, TypeError,
     r"modulus must be a real number or a list, array or tensor of them, got str \('0.9'\)"),
    ("complex moduli", torch.tensor([0.5 + 0.5j]), 0.01, TypeError,
     "modulus must be a real number .* got torch.Tensor of shape"),
]


def test_memory_horizon_bad_inputs(subtests):
    for case, modulus, eps, error, message in MEMORY_HORIZON_BAD:
        with subtests.test(case), pytest.raises(error, match=message):
            memory_horizon(modulus, eps=eps)


def test_eigenvalues_stay_inside_the_unit_circle_for_any_parameters():
    cell = LinearRecurrentCell(2, 64)
    with torch.no_grad():
        cell.nu_log.copy_(torch.linspace(-20, 5, 64))
        cell.theta_log.copy_(torch.linspace(-5, 5, 64))
    modulus = cell.eigenvalues().abs()
    assert torch.all(modulus <= 1)
    assert modulus.max() > 0.999999 and modulus.min() < 1e-10


def test_step_jacobian_is_diag_lambda_bit_for_bit():
    cell = LinearRecurrentCell(3, 5, r_min=0.5, r_max=0.99, seed=2).double()
    x = torch.randn(1, 12, 3, dtype=torch.float64)
    lam = cell.eigenvalues().detach()
    block = torch.cat([torch.cat([torch.diag(lam.real), -torch.diag(lam.imag)], 1),
                       torch.cat([torch.diag(lam.imag), torch.diag(lam.real)], 1)], 0)
    J = gradients.step_jacobians(cell, x)                     # (T, 2N, 2N)
    assert torch.equal(J, block.expand_as(J))


def test_gradient_by_lag_is_the_modulus_to_the_k():
    cell = LinearRecurrentCell(2, 6, r_min=0.9, r_max=0.9, seed=0).double()
    x = torch.randn(5, 40, 2, dtype=torch.float64)
    r = cell.eigenvalues().detach().abs()                     # all equal
    ratio = gradients.grad_ratio_by_lag(cell, x)
    assert torch.allclose(ratio, r[0] ** torch.arange(40, dtype=torch.float64), rtol=1e-12)
    norms = gradients.jacobian_norms(cell, x[:1])
    assert torch.allclose(norms, r.max() ** torch.arange(41, dtype=torch.float64), rtol=1e-12)


def test_layer_equals_the_cell_unrolled(subtests):
    for method in ("scan", "loop"):
        with subtests.test(method=method):
            layer = LinearRecurrentLayer(3, 4, method=method, seed=1).double()
            x = torch.randn(2, 23, 3, dtype=torch.float64)
            state = torch.randn(2, 8, dtype=torch.float64)
            out, final = layer(x, state)
            want, want_final = RecurrentLayer(layer.cell)(x, state)
            assert out.shape == (2, 23, 8) and torch.allclose(out, want, atol=1e-12)
            assert torch.allclose(final, want_final, atol=1e-12)


def test_final_state_and_reduce_method_equal_the_scan():
    torch.manual_seed(0)
    by_scan = LinearRNN(2, 8, 4, 1, method="scan").double()
    by_reduce = LinearRNN(2, 8, 4, 1, method="reduce").double()
    by_reduce.load_state_dict(by_scan.state_dict())
    x = torch.randn(3, 37, 2, dtype=torch.float64)
    assert torch.allclose(by_reduce(x), by_scan(x), atol=1e-12)
    state = torch.randn(3, 8, dtype=torch.float64)
    u = by_scan.encoder(x)
    assert torch.allclose(by_scan.layer.final_state(u, state), by_scan.layer(u, state)[1],
                          atol=1e-12)


def test_layers_reject_a_bad_sequence_state_or_method(subtests):
    for layer_kind, make, wrong_state_size in [
        ("linear", LinearRecurrentLayer, 4),       # its state is (B, 2N = 8)
        ("mingru", MinGRULayer, 8),                # its state is (B, H = 4)
    ]:
        with subtests.test(layer=layer_kind):
            layer = make(3, 4)
            with pytest.raises(ValueError, match="size 3 on axis 2"):
                layer(torch.randn(2, 5, 2))
            with pytest.raises(ValueError, match="at least one time step"):
                layer(torch.randn(2, 0, 3))
            with pytest.raises(ValueError, match="state"):
                layer(torch.randn(2, 5, 3), torch.zeros(2, wrong_state_size))
            with pytest.raises(ValueError, match="method must be one of"):
                make(3, 4, method="fft")


def test_model_and_final_state_bad_inputs():
    layer = LinearRecurrentLayer(3, 4)
    with pytest.raises(ValueError, match="head must be one of"):
        LinearRNN(2, 8, 4, 1, head="first")
    with pytest.raises(ValueError, match="needs head='last'"):
        LinearRNN(2, 8, 4, 1, head="all", method="reduce")
    with pytest.raises(ValueError, match="method must be one of"):
        LinearRNN(2, 8, 4, 1, method="fft")
    with pytest.raises(ValueError, match="size 3 on axis 2"):
        layer.final_state(torch.randn(2, 5, 2))
    with pytest.raises(ValueError, match="state"):
        layer.final_state(torch.randn(2, 5, 3), torch.zeros(2, 4))
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        LinearRNN(2, 8, 4, 1)([[1.0, 2.0]])


def test_model_shapes_and_it_learns_a_short_sum():
    from rnnlab import tasks, train
    assert LinearRNN(2, 16, 8, 1)(torch.randn(3, 7, 2)).shape == (3, 1)
    assert LinearRNN(2, 16, 8, 5, head="all")(torch.randn(3, 7, 2)).shape == (3, 7, 5)
    torch.manual_seed(2)
    model = LinearRNN(2, 16, 8, 1, r_min=0.9, r_max=0.99, max_phase=0.1)
    hist = train.fit(model, tasks.batches(tasks.adding_problem, 32, 10, seed=2),
                     torch.nn.functional.mse_loss, steps=100, lr=0.03, clip_norm=1.0,
                     progress=False)
    assert sum(hist["loss"][-10:]) / 10 < 0.5 * tasks.adding_baseline_mse()


def test_mingru_step_layer_and_jacobian():
    cell = MinGRUCell(3, 5).double()
    x = torch.randn(2, 17, 3, dtype=torch.float64)
    z, n = cell.gates(x)
    h_prev = torch.randn(2, 5, dtype=torch.float64)
    h = cell(x[:, 0], h_prev)
    assert torch.allclose(h, (1 - z[:, 0]) * n[:, 0] + z[:, 0] * h_prev)
    layer = MinGRULayer(3, 5).double()
    layer.cell.load_state_dict(cell.state_dict())
    for method in ("scan", "loop"):
        layer.method = method
        out, final = layer(x, h_prev)
        want, _ = RecurrentLayer(cell)(x, h_prev)
        assert torch.allclose(out, want, atol=1e-12) and torch.equal(final, out[:, -1])
    J = gradients.step_jacobians(cell, x[:1])
    assert torch.equal(J, torch.diag_embed(z[0]))              # diag(z_t): the input decides


def test_mingru_state_is_affine_in_the_initial_state():
    layer = MinGRULayer(2, 4).double()
    x = torch.randn(1, 30, 2, dtype=torch.float64)
    h0 = torch.randn(1, 4, dtype=torch.float64)
    f = lambda s: layer(x, s)[1]                               # noqa: E731
    zero = torch.zeros_like(h0)
    assert torch.allclose(f(2 * h0) - f(zero), 2 * (f(h0) - f(zero)), atol=1e-12)


def test_mingru_cell_bad_size():
    with pytest.raises(ValueError, match="hidden_size must be >= 1"):
        MinGRUCell(2, 0)


def test_model_cores_share_encoder_and_readout(subtests):
    from rnnlab import init
    from rnnlab.runtime import make_generator
    x = torch.randn(3, 9, 2)
    for core in ("lru", "mingru", "lstm"):
        with subtests.test(core=core):
            model = LinearRNN(2, 16, 4, 1, core=core, seed=1,
                              max_lag=None if core == "lru" else 50)
            assert model(x).shape == (3, 1)
            assert model.readout[0].in_features == 8            # 2N numbers in every state
            assert model.encoder[0].out_features == 16
            all_steps = LinearRNN(2, 16, 4, 5, core=core, head="all")(x)
            assert all_steps.shape == (3, 9, 5)
    lstm = LinearRNN(2, 16, 4, 1, core="lstm", max_lag=50, seed=3).layer
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0
    b_i, b_f = init.chrono_bias(8, 50, generator=make_generator(3))
    assert torch.equal(b[8:16], b_f) and torch.equal(b[:8], b_i)
    mingru = LinearRNN(2, 16, 4, 1, core="mingru", max_lag=50, seed=3).layer.cell
    assert torch.equal(mingru.b[:8], b_f)                       # z keeps: the forget bias


def test_model_cores_bad_options(subtests):
    cases = {"unknown core": (dict(core="gru"), "core must be one of"),
             "reduce needs the LRU": (dict(core="lstm", method="reduce"), "core='lru'"),
             "a ring for a gated core": (dict(core="mingru", r_min=0.5), "ring"),
             "max_lag for the LRU": (dict(max_lag=10), "no gate")}
    for name, (options, message) in cases.items():
        with subtests.test(case=name):
            with pytest.raises(ValueError, match=message):
                LinearRNN(2, 8, 4, 1, **options)
