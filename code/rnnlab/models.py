"""Sequence models built from any cell (chapter 1; more cells in chapters 4 and 5).

* :class:`RecurrentLayer` unrolls a cell over time: ``layer(x, state=None) -> (outputs, state)``
  with ``x`` of shape ``(B, T, D)`` and ``outputs`` of shape ``(B, T, H)``. It checks ``x``
  and ``state`` once; the cell's step then runs ``T`` times without checks.
* :class:`BidirectionalLayer` (chapter 4) runs one cell forward in time and another backward,
  and concatenates their states: the output at step ``t`` depends on the whole sequence.
* :class:`SequenceModel` stacks a layer of a given cell and a linear head:
  ``SequenceModel(RNNCell(D, H), O)``, ``SequenceModel(LSTMCell(D, H, forget_bias=1.0), O)``.
  ``head="last"`` reads the last hidden state (sequence regression or classification,
  ``(B, O)``); ``head="all"`` reads every step (sequence labelling, next-step or
  next-character prediction, ``(B, T, O)``). The cell keeps its own initialisation; another
  one is a separate call of :mod:`rnnlab.init` (chapter 5):
  ``init.init_recurrent_(model.cell, "identity")`` makes a ReLU model an IRNN.
* For the chapters that loop over kinds, :data:`CELLS` names every cell of the course and
  :func:`make_cell` builds one by name: ``"rnn"`` (chapter 1), ``"lstm"`` and ``"gru"``
  (chapter 4), ``"rnn_ln"`` and ``"rnn_bn"`` (chapter 5); :func:`make_rnn` builds PyTorch's own
  batch-first ``torch.nn.RNN``, ``LSTM`` or ``GRU`` by the same names (the applications of
  chapter 6 take the kind as an argument).
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_int, check_state, check_steps, check_tensor
from .cells import RNNCell
from .gated import GRUCell, LSTMCell
from .norm_cells import BatchNormRNNCell, LayerNormRNNCell

__all__ = ["CELLS", "make_cell", "make_rnn", "RecurrentLayer", "BidirectionalLayer",
           "SequenceModel"]

#: Every cell kind a model can be built from, by name, in the order the chapters introduce them.
CELLS: dict[str, type] = {
    "rnn": RNNCell,                  # chapter 1: h = act(W_xh x + W_hh h_prev + b_h)
    "lstm": LSTMCell,                # chapter 4
    "gru": GRUCell,                  # chapter 4
    "rnn_ln": LayerNormRNNCell,      # chapter 5: layer normalisation
    "rnn_bn": BatchNormRNNCell,      # chapter 5: recurrent batch normalisation
}


def make_cell(kind: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    """Build a cell by name: ``make_cell("rnn", D, H, nonlinearity="relu")`` is
    ``RNNCell(D, H, nonlinearity="relu")``."""
    check_choice(kind, "kind", list(CELLS))
    return CELLS[kind](input_size, hidden_size, **kwargs)


def make_rnn(cell: str, input_size: int, hidden_size: int, *, num_layers: int = 1,
             nonlinearity: str = "tanh") -> nn.Module:
    """PyTorch's own layer of a kind, batch-first: ``torch.nn.RNN`` (``cell="rnn"``, with
    ``nonlinearity``), ``torch.nn.LSTM`` or ``torch.nn.GRU``;
    ``layer(x (B, T, D), state) -> (outputs (B, T, H), state)``."""
    kinds = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    check_choice(cell, "cell", list(kinds))
    check_int(input_size, "input_size", minimum=1)  # PyTorch checks hidden_size and num_layers
    if cell != "rnn" and nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to cell='rnn', got cell={cell!r}")
    extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    return kinds[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True, **extra)


class RecurrentLayer(nn.Module):
    """Unroll ``cell`` over the time axis of a batch-first input."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        if not all(hasattr(cell, a) for a in ("init_state", "hidden", "input_size", "hidden_size")):
            got = repr(cell) if isinstance(cell, str) else type(cell).__name__
            raise TypeError("cell must be an rnnlab cell object (with init_state, hidden, "
                            "input_size and hidden_size), such as RNNCell(D, H), "
                            f"LSTMCell(D, H) or make_cell('gru', D, H), got {got}")
        self.cell = cell

    def forward(self, x: torch.Tensor, state=None):
        check_steps(check_tensor(x, "x", shape=("B", "T", self.cell.input_size)), "x")
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
    """A recurrent layer of ``cell`` followed by a linear read-out to ``output_size`` values:
    ``SequenceModel(RNNCell(2, 32), 1)``.

    ``cell`` is any cell object of the course (:data:`CELLS`, or your own with the same
    interface); the model keeps the cell's initialisation. ``head`` is ``"last"`` (read the
    last state, ``(B, O)``) or ``"all"`` (every step, ``(B, T, O)``).
    """

    def __init__(self, cell: nn.Module, output_size: int, *, head: str = "last"):
        super().__init__()
        self.layer = RecurrentLayer(cell)
        self.head = check_choice(head, "head", ["last", "all"])
        self.readout = nn.Linear(cell.hidden_size, output_size)

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
