"""Sequence models built from any cell (chapter 1; options added in chapter 5).

* :class:`RecurrentLayer` unrolls a cell over time: ``layer(x, state=None) -> (outputs, state)``
  with ``x`` of shape ``(B, T, D)`` and ``outputs`` of shape ``(B, T, H)``.
* :class:`SequenceModel` stacks a layer and a linear head. ``head="last"`` reads the last
  hidden state (sequence regression or classification, ``(B, O)``); ``head="all"`` reads
  every step (sequence labelling, next-step or next-character prediction, ``(B, T, O)``).
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_int, check_tensor
from .cells import make_cell

__all__ = ["RecurrentLayer", "SequenceModel"]


class RecurrentLayer(nn.Module):
    """Unroll ``cell`` over the time axis of a batch-first input."""

    def __init__(self, cell: nn.Module):
        super().__init__()
        if not all(hasattr(cell, a) for a in ("init_state", "hidden", "input_size")):
            raise TypeError("cell must be an rnnlab cell (with init_state, hidden and "
                            f"input_size), got {type(cell).__name__}")
        self.cell = cell

    def forward(self, x: torch.Tensor, state=None):
        check_tensor(x, "x", shape=("B", "T", self.cell.input_size))
        if x.shape[1] == 0:
            raise ValueError(f"x must have at least one time step, got {tuple(x.shape)}")
        if state is None:
            state = self.cell.init_state(x.shape[0], device=x.device, dtype=x.dtype)
        outputs = []
        for t in range(x.shape[1]):
            state = self.cell(x[:, t], state)           # (B, H) or a tuple of them
            outputs.append(self.cell.hidden(state))     # (B, H)
        return torch.stack(outputs, dim=1), state       # (B, T, H)


class SequenceModel(nn.Module):
    """A recurrent layer of any registered cell kind followed by a linear read-out."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "rnn", head: str = "last", **cell_kwargs):
        super().__init__()
        check_int(output_size, "output_size", minimum=1)
        self.head = check_choice(head, "head", ["last", "all"])
        self.layer = RecurrentLayer(make_cell(cell, input_size, hidden_size, **cell_kwargs))
        self.readout = nn.Linear(hidden_size, output_size)

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
