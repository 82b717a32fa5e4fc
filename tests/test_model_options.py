"""Unit tests of the chapter-5 options of rnnlab.models.SequenceModel (init, init_scale,
init_seed)."""
import pytest
import torch

from rnnlab import init as rinit
from rnnlab.models import SequenceModel

D, H, O = 2, 8, 1


def test_default_is_unchanged():
    torch.manual_seed(5)
    a = SequenceModel(D, H, O)
    torch.manual_seed(5)
    b = SequenceModel(D, H, O, init=None)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_identity_init_is_an_irnn():
    m = SequenceModel(D, H, O, nonlinearity="relu", init="identity")
    assert torch.equal(m.cell.W_hh.detach(), torch.eye(H))
    assert m.cell.nonlinearity == "relu"


def test_orthogonal_init_with_scale(subtests):
    for scale in (0.5, 1.3):          # W = scale * Q: shrinks, grows (scale 1 is the same code)
        with subtests.test(scale=scale):
            m = SequenceModel(D, H, O, init="orthogonal", init_scale=scale, init_seed=0).double()
            W = m.cell.W_hh.detach()
            assert torch.allclose(W.T @ W, scale ** 2 * torch.eye(H, dtype=W.dtype), atol=1e-6)
            assert abs(rinit.spectral_radius(W) - scale) < 1e-5


def test_init_seed_is_reproducible():
    a = SequenceModel(D, H, O, init="he", init_seed=3)
    torch.manual_seed(99)
    b = SequenceModel(D, H, O, init="he", init_seed=3)
    c = SequenceModel(D, H, O, init="he", init_seed=4)
    assert torch.equal(a.cell.W_hh, b.cell.W_hh) and not torch.equal(a.cell.W_hh, c.cell.W_hh)
    g = torch.Generator().manual_seed(3)
    assert torch.equal(a.cell.W_hh.detach(), rinit.he_normal(H, H, generator=g))


def test_init_applies_to_normalised_cells(subtests):
    for cell in ("rnn_ln", "rnn_bn"):
        with subtests.test(cell=cell):
            m = SequenceModel(D, H, O, cell=cell, init="identity")
            assert torch.equal(m.cell.W_hh.detach(), torch.eye(H))


def test_bad_options():
    with pytest.raises(ValueError, match="init must be one of"):
        SequenceModel(D, H, O, init="glorot")
    with pytest.raises(ValueError, match="does not have"):
        SequenceModel(D, H, O, cell="lstm", init="orthogonal")
    with pytest.raises(ValueError, match="needs an init scheme"):
        SequenceModel(D, H, O, init_scale=2.0)
    with pytest.raises(ValueError, match="init_scale must be >= 0"):
        SequenceModel(D, H, O, init="he", init_scale=-1.0)
    with pytest.raises(TypeError, match="init_scale must be a number"):
        SequenceModel(D, H, O, init="he", init_scale="2")
    with pytest.raises(ValueError, match="kind must be one of"):
        SequenceModel(D, H, O, cell="rnn_gn")
