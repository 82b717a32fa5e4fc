"""Unit tests of rnnlab.norm_cells: layer-normalised and recurrently batch-normalised cells."""
import pytest
import torch

from rnnlab import cells, gradients, models
from rnnlab.models import CELLS
from rnnlab.norm_cells import BatchNormRNNCell, LayerNormRNNCell, layer_norm, unroll_preactivations

D, H, B, T = 3, 8, 16, 7


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _cell(cls, seed=0, **kw):
    torch.manual_seed(seed)
    return cls(D, H, **kw).double()


def test_layer_norm_function():
    a = _x(B, H) * 3 + 1
    n = layer_norm(a)
    assert torch.allclose(n.mean(-1), torch.zeros(B, dtype=a.dtype), atol=1e-12)
    assert torch.allclose(n.var(-1, unbiased=False), torch.ones(B, dtype=a.dtype), atol=1e-4)
    assert torch.allclose(n, torch.nn.functional.layer_norm(a, (H,)), atol=1e-12)


NORM_CELLS = [("rnn_ln", LayerNormRNNCell), ("rnn_bn", BatchNormRNNCell)]   # (kind, class)


def test_models_build_the_normalised_cells_by_name(subtests):
    for kind, cls in NORM_CELLS:
        with subtests.test(kind=kind):
            assert CELLS[kind] is cls
            model = models.SequenceModel(models.make_cell(kind, D, H), 2, head="all").double()
            y, h = model(_x(B, T, D), return_state=True)
            assert y.shape == (B, T, 2) and h.shape == (B, H)
            assert isinstance(model.cell, cls)


def test_layer_norm_cell_by_hand():
    cell = _cell(LayerNormRNNCell, nonlinearity="tanh")
    with torch.no_grad():
        cell.gamma.uniform_(0.5, 1.5)
        cell.b_h.uniform_(-0.3, 0.3)
    x, h = _x(B, D), _x(B, H, seed=1)
    a = x @ cell.W_xh.T + h @ cell.W_hh.T
    mu, var = a.mean(1, keepdim=True), a.var(1, unbiased=False, keepdim=True)
    want = torch.tanh(cell.gamma * (a - mu) / torch.sqrt(var + 1e-5) + cell.b_h)
    assert torch.allclose(cell(x, h), want, atol=1e-12)
    want = cell.gamma * layer_norm(a) + cell.b_h
    assert torch.allclose(cell.preactivation(x, h), want, atol=1e-12)


def test_layer_norm_cell_is_invariant_to_weight_rescaling():
    cell = _cell(LayerNormRNNCell, eps=1e-12)   # exact up to eps
    x = _x(B, T, D)
    h1 = models.RecurrentLayer(cell)(x)[0]
    with torch.no_grad():
        cell.W_xh.mul_(10.0)
        cell.W_hh.mul_(10.0)
    h2 = models.RecurrentLayer(cell)(x)[0]
    assert torch.allclose(h1, h2, atol=1e-9)


def test_batch_norm_cell_by_hand_in_training_mode():
    cell = _cell(BatchNormRNNCell, gamma=0.1)
    x, h = _x(B, D), _x(B, H, seed=1)

    def bn(a, g):
        return g * (a - a.mean(0)) / torch.sqrt(a.var(0, unbiased=False) + 1e-5)
    a = bn(h @ cell.W_hh.T, cell.gamma_h) + bn(x @ cell.W_xh.T, cell.gamma_x) + cell.b_h
    want = torch.tanh(a)
    assert torch.allclose(cell(x, h), want, atol=1e-12)
    assert torch.allclose(cell.gamma_x, torch.full_like(cell.gamma_x, 0.1))
    assert torch.allclose(cell.gamma_h, torch.full_like(cell.gamma_h, 0.1))


def test_batch_norm_cell_running_statistics():
    cell = _cell(BatchNormRNNCell, momentum=0.5)
    x, h = _x(B, D), _x(B, H, seed=1)
    cell(x, h)
    a_x = (x @ cell.W_xh.T).detach()
    assert torch.allclose(cell.running_mean_x, 0.5 * a_x.mean(0), atol=1e-12)
    cell.eval()
    frozen = cell.running_mean_x.clone()
    single = cell(x[:1], h[:1])                      # eval mode works on a single sequence
    assert single.shape == (1, H) and torch.equal(cell.running_mean_x, frozen)
    cell.train()
    with pytest.raises(ValueError, match="at least 2"):
        cell(x[:1], h[:1])
    cell.reset_parameters()
    assert torch.all(cell.running_var_h == 1) and torch.all(cell.running_mean_x == 0)


def test_small_gamma_keeps_tanh_in_its_linear_range():
    x = _x(64, 20, D)
    means = {}
    for gamma in (0.1, 1.0):
        cell = _cell(BatchNormRNNCell, gamma=gamma)
        a = unroll_preactivations(cell, x)           # (B, T, H)
        means[gamma] = float((1 - torch.tanh(a) ** 2).mean())
    assert means[0.1] > 0.95 > 0.75 > means[1.0]


def test_unroll_preactivations_matches_the_cell():
    for cell in (_cell(cells.RNNCell), _cell(LayerNormRNNCell, nonlinearity="relu")):
        x = _x(B, T, D)
        a = unroll_preactivations(cell, x)
        outputs, _ = models.RecurrentLayer(cell)(x)
        assert a.shape == (B, T, H)
        assert torch.allclose(cell.act(a), outputs, atol=1e-12)
    with pytest.raises(TypeError, match="vanilla-like"):
        unroll_preactivations(torch.nn.Linear(D, H), _x(B, T, D))
    with pytest.raises(ValueError, match=f"size {D} on axis 2"):
        unroll_preactivations(_cell(cells.RNNCell), _x(B, T, D + 1))


def test_gradient_diagnostics_work(subtests):
    for _, cls in NORM_CELLS:
        with subtests.test(cls=cls.__name__):
            cell = _cell(cls)
            norms = gradients.hidden_grad_norms(cell, _x(B, T, D))
            assert norms.shape == (T,) and torch.all(torch.isfinite(norms))


def test_bad_arguments(subtests):
    for _, cls in NORM_CELLS:
        with subtests.test(cls=cls.__name__):
            with pytest.raises(ValueError, match="nonlinearity must be one of"):
                cls(D, H, nonlinearity="softsign")
            with pytest.raises(ValueError, match="eps must be > 0"):
                cls(D, H, eps=0.0)
            with pytest.raises(TypeError, match="hidden_size must be an int"):
                cls(D, 2.0)
            with pytest.raises(ValueError, match="state must have size"):
                models.RecurrentLayer(cls(D, H))(torch.zeros(B, T, D), torch.zeros(B + 1, H))
    with pytest.raises(ValueError, match="momentum must be <= 1"):   # the batch-norm cell's own
        BatchNormRNNCell(D, H, momentum=2.0)
