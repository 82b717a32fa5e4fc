"""PyTorch's fused recurrent layers as a sequence model (chapters 3 to 7).

``torch.nn.RNN``, ``LSTM`` and ``GRU`` run the loop over time steps in one C++ call per
sequence instead of a Python loop, so the chapters that train many models train them on
these layers. They compute the functions of the course's cells: chapter 1 proves
:class:`rnnlab.cells.RNNCell` equal to ``torch.nn.RNN``, chapter 4 proves
:class:`rnnlab.gated.LSTMCell` and :class:`~rnnlab.gated.GRUCell` equal to ``torch.nn.LSTM``
and ``torch.nn.GRU``. Two differences remain: PyTorch keeps two biases per gate where the
equations have one (only their sum matters, except for the GRU's ``b_hn``), and it
initialises its weights itself.

* :class:`FusedSequenceModel`: a fused layer and a linear read-out, the counterpart of
  :class:`rnnlab.models.SequenceModel`; :meth:`~FusedSequenceModel.to_scratch` copies a trained
  one onto the course's own cell, to look inside it with the tools of the chapters.
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_float, check_tensor
from .models import SequenceModel, make_cell, make_rnn

__all__ = ["FusedSequenceModel"]


class FusedSequenceModel(nn.Module):
    """A fused recurrent layer and a linear read-out: ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``.

    ``cell`` is ``"rnn"`` (with ``nonlinearity`` ``"tanh"`` or ``"relu"``), ``"lstm"`` or
    ``"gru"``; ``head`` ``"last"`` or ``"all"``; ``forget_bias`` (LSTM only) sets ``b_f``.
    The layer has PyTorch's initialisation and its two biases per gate.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "lstm", head: str = "last", nonlinearity: str = "tanh",
                 forget_bias: float | None = None):
        super().__init__()
        self.kind = cell
        self.head = check_choice(head, "head", ["last", "all"])
        self.layer = make_rnn(cell, input_size, hidden_size, nonlinearity=nonlinearity)
        self.readout = nn.Linear(hidden_size, output_size)
        if forget_bias is not None:
            if cell != "lstm":
                raise ValueError(f"forget_bias applies to cell='lstm', got cell={cell!r}")
            with torch.no_grad():
                H, fb = hidden_size, check_float(forget_bias, "forget_bias")
                self.layer.bias_ih_l0[H:2 * H] = fb
                self.layer.bias_hh_l0[H:2 * H] = 0.0

    @property
    def input_size(self) -> int:
        return self.layer.input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self.layer.input_size))
        outputs, _ = self.layer(x)                               # (B, T, H)
        return self.readout(outputs[:, -1] if self.head == "last" else outputs)

    def to_scratch(self) -> SequenceModel:
        """A :class:`SequenceModel` on the course's own cell with exactly these weights."""
        layer = self.layer
        options = ({"nonlinearity": layer.nonlinearity, "bias": layer.bias}
                   if self.kind == "rnn" else {})
        cell = make_cell(self.kind, layer.input_size, layer.hidden_size, **options)
        model = SequenceModel(cell, self.readout.out_features, head=self.head)
        model = model.to(self.readout.weight)
        model.cell.load_from_torch(layer)
        model.readout.load_state_dict(self.readout.state_dict())
        return model
