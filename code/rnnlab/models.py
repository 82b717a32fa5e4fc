"""Sequence models built from any cell (chapter 1; options added in chapter 5).

* :data:`CELLS` names every cell kind of the course, and :func:`make_cell` builds one:
  ``"rnn"`` (chapter 1), ``"lstm"`` and ``"gru"`` (chapter 4), ``"rnn_ln"`` and ``"rnn_bn"``
  (chapter 5).
* :class:`RecurrentLayer` unrolls a cell over time: ``layer(x, state=None) -> (outputs, state)``
  with ``x`` of shape ``(B, T, D)`` and ``outputs`` of shape ``(B, T, H)``. It checks ``x``
  and ``state`` once; the cell's step then runs ``T`` times without checks.
* :class:`BidirectionalLayer` (chapter 4) runs one cell forward in time and another backward,
  and concatenates their states: the output at step ``t`` depends on the whole sequence.
* :class:`SequenceModel` stacks a layer and a linear head. ``head="last"`` reads the last
  hidden state (sequence regression or classification, ``(B, O)``); ``head="all"`` reads
  every step (sequence labelling, next-step or next-character prediction, ``(B, T, O)``).

Chapter 5 adds keyword options to :class:`SequenceModel`: ``init=`` re-initialises the cell's
``W_hh`` with a scheme of :data:`rnnlab.init.INITIALIZERS` (times ``init_scale``), so
``SequenceModel(2, 32, 1, nonlinearity="relu", init="identity")`` is an IRNN.
:class:`rnnlab.fused.FusedSequenceModel` is the same model on PyTorch's fused layers.
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int, check_state, check_tensor
from .cells import RNNCell
from .gated import GRUCell, LSTMCell
from .init import INITIALIZERS, init_recurrent_
from .norm_cells import BatchNormRNNCell, LayerNormRNNCell
from .runtime import make_generator

__all__ = ["CELLS", "make_cell", "RecurrentLayer", "BidirectionalLayer", "SequenceModel"]

#: Every cell kind a model can be built from, by name, in the order the chapters introduce them.
CELLS: dict[str, type] = {
    "rnn": RNNCell,                  # chapter 1: h = act(W_xh x + W_hh h_prev + b_h)
    "lstm": LSTMCell,                # chapter 4
    "gru": GRUCell,                  # chapter 4
    "rnn_ln": LayerNormRNNCell,      # chapter 5: layer normalisation
    "rnn_bn": BatchNormRNNCell,      # chapter 5: recurrent batch normalisation
}


def make_cell(kind: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    """Build a cell by name: ``make_cell("rnn", D, H, nonlinearity="relu")``."""
    if not isinstance(kind, str):
        raise TypeError(f"kind must be a string, one of {sorted(CELLS)}, got {type(kind).__name__}")
    check_choice(kind, "kind", list(CELLS))
    return CELLS[kind](input_size, hidden_size, **kwargs)


class RecurrentLayer(nn.Module):
    """Unroll ``cell`` over the time axis of a batch-first input."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        if not all(hasattr(cell, a) for a in ("init_state", "hidden", "input_size", "hidden_size")):
            raise TypeError("cell must be an rnnlab cell (with init_state, hidden, input_size and "
                            f"hidden_size), got {type(cell).__name__}")
        self.cell = cell

    def forward(self, x: torch.Tensor, state=None):
        check_tensor(x, "x", shape=("B", "T", self.cell.input_size))
        if x.shape[1] == 0:
            raise ValueError(f"x must have at least one time step, got {tuple(x.shape)}")
        if state is None:
            state = self.cell.init_state(x.shape[0], device=x.device, dtype=x.dtype)
        check_state(state, "state", x.shape[0], self.cell.hidden_size)
        outputs = []
        for x_t in x.unbind(1):                         # (B, D): step t, a view of x
            state = self.cell(x_t, state)               # (B, H) or a tuple of them
            outputs.append(self.cell.hidden(state))     # (B, H)
        return torch.stack(outputs, dim=1), state       # (B, T, H)


class BidirectionalLayer(nn.Module):
    """``forward_cell`` reads ``x`` from the first step to the last, ``backward_cell`` from the
    last to the first; the output at step ``t`` is their two states side by side,
    ``(B, T, 2H)``, as in ``torch.nn.LSTM(..., bidirectional=True)``. The state returned is the
    pair of final states ``(forward, backward)``."""

    def __init__(self, forward_cell: nn.Module, backward_cell: nn.Module):
        super().__init__()
        self.forward_layer = RecurrentLayer(forward_cell)
        self.backward_layer = RecurrentLayer(backward_cell)
        sizes = {(c.input_size, c.hidden_size) for c in (forward_cell, backward_cell)}
        if len(sizes) != 1:
            raise ValueError("the two cells must have the same input_size and hidden_size, got "
                             f"{sorted(sizes)}")

    def forward(self, x: torch.Tensor):
        ahead, state_ahead = self.forward_layer(x)             # (B, T, H), reads x_1 .. x_T
        behind, state_behind = self.backward_layer(x.flip(1))  # (B, T, H), reads x_T .. x_1
        outputs = torch.cat([ahead, behind.flip(1)], dim=2)    # (B, T, 2H), step t aligned
        return outputs, (state_ahead, state_behind)


class SequenceModel(nn.Module):
    """A recurrent layer of any cell kind of :data:`CELLS` followed by a linear read-out.

    ``init`` (chapter 5): ``None`` keeps the cell's own initialisation; a name of
    :data:`rnnlab.init.INITIALIZERS` overwrites ``W_hh`` with ``init_scale`` times that
    scheme, drawn from a generator seeded with ``init_seed`` (the global RNG when ``None``).
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "rnn", head: str = "last", init: str | None = None,
                 init_scale: float = 1.0, init_seed: int | None = None, **cell_kwargs):
        super().__init__()
        check_int(output_size, "output_size", minimum=1)
        self.head = check_choice(head, "head", ["last", "all"])
        init_scale = check_float(init_scale, "init_scale", minimum=0.0)
        if init is not None:
            check_choice(init, "init", list(INITIALIZERS))
            if cell not in ("rnn", "rnn_ln", "rnn_bn"):
                raise ValueError(f"init={init!r} sets W_hh, which cell {cell!r} does not have; "
                                 "use a vanilla or normalised cell (rnn, rnn_ln, rnn_bn)")
        elif init_scale != 1.0:
            raise ValueError(f"init_scale={init_scale} needs an init scheme, got init=None")
        self.layer = RecurrentLayer(make_cell(cell, input_size, hidden_size, **cell_kwargs))
        self.readout = nn.Linear(hidden_size, output_size)
        if init is not None:
            gen = None if init_seed is None else make_generator(init_seed)
            init_recurrent_(self.cell, init, scale=init_scale, generator=gen)

    @property
    def cell(self) -> nn.Module:
        return self.layer.cell

    def forward(self, x: torch.Tensor, state=None, *, return_state: bool = False):
        outputs, state = self.layer(x, state)            # (B, T, H)
        if self.head == "last":
            y = self.readout(outputs[:, -1])             # (B, O)
        else:
            y = self.readout(outputs)                    # (B, T, O)
        return (y, state) if return_state else y
