"""PyTorch's fused recurrent layers, the twins of the from-scratch models (chapters 4 to 6).

Chapter 1 proves :class:`rnnlab.cells.RNNCell` equal to ``torch.nn.RNN`` and chapter 4 proves
:class:`rnnlab.gated.LSTMCell` and :class:`~rnnlab.gated.GRUCell` equal to ``torch.nn.LSTM`` and
``torch.nn.GRU``. The fused layers compute the same functions in one C++ call per sequence
instead of a Python loop over time steps, so the chapters train on them when they train many
models. This module is their one home:

* :class:`FusedSequenceModel`: :class:`rnnlab.models.SequenceModel`'s twin on a fused layer;
  :meth:`~FusedSequenceModel.from_scratch` copies a scratch model onto it (the same function
  and the same trainable parameters), :meth:`~FusedSequenceModel.to_scratch` copies back.
* :func:`make_rnn` builds a batch-first ``torch.nn.RNN``/``LSTM``/``GRU`` by name;
  :func:`detach_state` cuts a state (tensor or ``(h, c)`` tuple) from its graph (truncated BPTT).
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int, check_tensor
from .cells import RNNCell
from .gated import GRUCell, LSTMCell, cells_to_torch
from .models import SequenceModel

__all__ = ["FUSED", "FusedSequenceModel", "make_rnn", "detach_state"]

#: The fused layers by the names the course uses for cells.
FUSED = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def make_rnn(cell: str, input_size: int, hidden_size: int, *, num_layers: int = 1,
             nonlinearity: str = "tanh") -> nn.Module:
    """A batch-first fused recurrent layer:
    ``layer(x (B, T, D), state) -> (outputs (B, T, H), state)``."""
    if not isinstance(cell, str):
        raise TypeError(f"cell must be a string, one of {sorted(FUSED)}, got {type(cell).__name__}")
    check_choice(cell, "cell", list(FUSED))
    check_int(input_size, "input_size", minimum=1)
    check_int(hidden_size, "hidden_size", minimum=1)
    check_int(num_layers, "num_layers", minimum=1)
    check_choice(nonlinearity, "nonlinearity", ["tanh", "relu"])
    if cell != "rnn" and nonlinearity != "tanh":
        raise ValueError(f"nonlinearity applies to cell='rnn', got cell={cell!r}")
    extra = {"nonlinearity": nonlinearity} if cell == "rnn" else {}
    return FUSED[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True, **extra)


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


class FusedSequenceModel(nn.Module):
    """A fused recurrent layer and a linear read-out: :class:`SequenceModel` on ``nn.RNN``,
    ``nn.LSTM`` or ``nn.GRU``.

    ``cell`` is ``"rnn"`` (with ``nonlinearity`` ``"tanh"`` or ``"relu"``), ``"lstm"`` or
    ``"gru"``; ``head`` ``"last"`` or ``"all"``; ``forget_bias`` (LSTM only) sets ``b_f``.
    Built directly, the layer has PyTorch's initialisation and its two biases per gate.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "lstm", head: str = "last", nonlinearity: str = "tanh",
                 forget_bias: float | None = None):
        super().__init__()
        check_int(output_size, "output_size", minimum=1)
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

    @classmethod
    def from_scratch(cls, model: SequenceModel) -> FusedSequenceModel:
        """The twin of ``model`` (a :class:`SequenceModel` on an RNN, LSTM or GRU cell): the same
        function and the same trainable parameters. PyTorch's second bias, which the scratch
        cells fold into one, is held at zero (frozen; for the GRU its ``r, z`` rows receive no
        gradient), so training the twin follows the scratch model step for step."""
        kinds = {RNNCell: "rnn", LSTMCell: "lstm", GRUCell: "gru"}
        cell = getattr(model, "cell", None)
        if not isinstance(model, SequenceModel) or type(cell) not in kinds:
            raise TypeError("model must be a SequenceModel with an rnn, lstm or gru cell, got "
                            f"{type(cell if cell is not None else model).__name__}")
        kind, H = kinds[type(cell)], cell.hidden_size
        twin = cls.__new__(cls)                 # assembled from copies: no random initialisation
        nn.Module.__init__(twin)
        twin.kind, twin.head = kind, model.head
        twin.layer = cell.to_torch() if kind == "rnn" else cells_to_torch([cell])
        twin.readout = copy.deepcopy(model.readout)
        if kind == "gru":                                  # rows r, z zero; row n holds b_hn
            mask = torch.cat([torch.zeros(2 * H), torch.ones(H)]).to(twin.layer.bias_hh_l0)
            twin.layer.bias_hh_l0.register_hook(lambda grad: grad * mask)
        elif twin.layer.bias:
            twin.layer.bias_hh_l0.requires_grad_(False)
        return twin.to(model.readout.weight)

    def to_scratch(self) -> SequenceModel:
        """A :class:`SequenceModel` on the course's own cell with exactly these weights."""
        layer = self.layer
        options = ({"nonlinearity": layer.nonlinearity, "bias": layer.bias}
                   if self.kind == "rnn" else {})
        model = SequenceModel(layer.input_size, layer.hidden_size, self.readout.out_features,
                              cell=self.kind, head=self.head, **options).to(self.readout.weight)
        model.cell.load_from_torch(layer)
        model.readout.load_state_dict(self.readout.state_dict())
        return model
