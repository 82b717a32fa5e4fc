"""Fused recurrent layers as chapter 6's applications use them, and the order-blind baseline.

Chapter 4 proves the from-scratch cells of :mod:`rnnlab.cells` equal to ``torch.nn.LSTM`` and
``torch.nn.GRU``; chapter 6 trains four applications inside a few seconds, so it uses the fused
layers (one C++/cuDNN call per sequence instead of a Python loop over time steps).

* :func:`make_rnn` builds a batch-first ``torch.nn.RNN``/``LSTM``/``GRU`` by name;
  :func:`detach_state` cuts a state (tensor or ``(h, c)`` tuple) from its graph.
* :class:`BagOfSymbols` is the order-blind baseline that sequence classifiers (for example
  :class:`rnnlab.gated.FusedSequenceModel`) must beat: a linear classifier on symbol counts.
* :func:`accuracy` is the fraction of correct arg-max predictions.
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_int, check_tensor
from .gated import FusedSequenceModel

__all__ = ["FUSED", "make_rnn", "detach_state", "BagOfSymbols", "accuracy"]

#: The fused layers by the names the course uses for cells (the table chapter 4 defines).
FUSED = FusedSequenceModel.LAYERS


def make_rnn(cell: str, input_size: int, hidden_size: int, *, num_layers: int = 1) -> nn.Module:
    """A batch-first fused recurrent layer:
    ``layer(x (B, T, D), state) -> (outputs (B, T, H), state)``."""
    check_choice(cell, "cell", list(FUSED))
    check_int(input_size, "input_size", minimum=1)
    check_int(hidden_size, "hidden_size", minimum=1)
    check_int(num_layers, "num_layers", minimum=1)
    return FUSED[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True)


def detach_state(state):
    """The same state cut from the autograd graph (``None``, a tensor, or a tuple of them).

    Truncated BPTT carries the *values* of the state into the next chunk but not the graph, so
    gradients stop at the chunk boundary.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    raise TypeError("state must be None, a tensor or a tuple of tensors, got "
                    f"{type(state).__name__}")


class BagOfSymbols(nn.Module):
    """Order-blind baseline: count each symbol over time, then a linear map to class scores.

    ``x (B, T, D)`` one-hot -> counts ``(B, D)`` -> scores ``(B, C)``. It sees *which* symbols
    occur and how often, never *where* or in what order.
    """

    def __init__(self, input_size: int, n_classes: int):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        check_int(n_classes, "n_classes", minimum=2)
        self.readout = nn.Linear(input_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        counts = x.sum(dim=1)                     # (B, D)
        return self.readout(counts)               # (B, C)


@torch.no_grad()
def accuracy(scores: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``scores (B, C)`` whose arg-max equals the label ``y (B,)``."""
    check_tensor(scores, "scores", ndim=2)
    check_tensor(y, "y", shape=(scores.shape[0],), floating=False)
    return float((scores.argmax(dim=1) == y.to(scores.device)).float().mean())
