"""Unit tests of rnnlab.fused: fused layers by name, state detaching, bag-of-symbols, accuracy."""
import pytest
import torch

from rnnlab import fused, tasks


@pytest.mark.parametrize("cell, kind", [("rnn", torch.nn.RNN), ("lstm", torch.nn.LSTM),
                                        ("gru", torch.nn.GRU)])
def test_make_rnn(cell, kind):
    layer = fused.make_rnn(cell, 3, 5)
    assert isinstance(layer, kind) and layer.batch_first
    out, _ = layer(torch.zeros(2, 7, 3))
    assert out.shape == (2, 7, 5)


def test_make_rnn_bad_inputs():
    with pytest.raises(ValueError, match="cell must be one of"):
        fused.make_rnn("transformer", 3, 5)
    with pytest.raises(ValueError, match="hidden_size"):
        fused.make_rnn("gru", 3, 0)


def test_detach_state():
    h = torch.ones(1, 2, 3, requires_grad=True) * 2
    assert not fused.detach_state(h).requires_grad
    hc = fused.detach_state((h, h))
    assert isinstance(hc, tuple) and not any(s.requires_grad for s in hc)
    assert fused.detach_state(None) is None
    with pytest.raises(TypeError, match="state must be"):
        fused.detach_state([h])


def test_bag_of_symbols_ignores_order():
    bag = fused.BagOfSymbols(6, 4)
    x, _ = tasks.temporal_order(8, 20, seed=0)
    shuffled = x[:, torch.randperm(20)]
    assert torch.allclose(bag(x), bag(shuffled), atol=1e-6)
    assert bag(x).shape == (8, 4)
    with pytest.raises(ValueError, match="size 6 on axis 2"):
        bag(torch.zeros(2, 5, 3))
    with pytest.raises(ValueError, match="n_classes"):
        fused.BagOfSymbols(6, 1)


def test_accuracy():
    scores = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert fused.accuracy(scores, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="size 3 on axis 0"):
        fused.accuracy(scores, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        fused.accuracy(scores, [0, 1, 1])
