"""Sequence models built from any cell (chapter 1; options added in chapter 5).

* :class:`RecurrentLayer` unrolls a cell over time: ``layer(x, state=None) -> (outputs, state)``
  with ``x`` of shape ``(B, T, D)`` and ``outputs`` of shape ``(B, T, H)``.
* :class:`SequenceModel` stacks a layer and a linear head. ``head="last"`` reads the last
  hidden state (sequence regression or classification, ``(B, O)``); ``head="all"`` reads
  every step (sequence labelling, next-step or next-character prediction, ``(B, T, O)``).

Chapter 5 adds keyword options to :class:`SequenceModel`: ``init=`` re-initialises the cell's
``W_hh`` with a scheme of :data:`rnnlab.init.INITIALIZERS` (times ``init_scale``), so
``SequenceModel(2, 32, 1, nonlinearity="relu", init="identity")`` is an IRNN; the normalised
cells of :mod:`rnnlab.norm_cells` are the kinds ``"rnn_ln"`` and ``"rnn_bn"``.
:class:`FusedRNNModel` copies a vanilla ``SequenceModel`` onto PyTorch's fused ``nn.RNN`` for
experiments that train many variants.
"""
from __future__ import annotations

import torch
from torch import nn

from . import norm_cells as _norm_cells  # noqa: F401  (registers "rnn_ln" and "rnn_bn")
from ._validate import check_choice, check_float, check_int, check_tensor
from .cells import make_cell
from .init import INITIALIZERS, init_recurrent_
from .runtime import make_generator

__all__ = ["RecurrentLayer", "SequenceModel", "FusedRNNModel"]


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
    """A recurrent layer of any registered cell kind followed by a linear read-out.

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
        self.layer = RecurrentLayer(make_cell(cell, input_size, hidden_size, **cell_kwargs))
        self.readout = nn.Linear(hidden_size, output_size)
        if init is not None:
            if not isinstance(getattr(self.cell, "W_hh", None), torch.Tensor):
                raise ValueError(f"init={init!r} sets W_hh, which cell {cell!r} does not have; "
                                 "use a vanilla or normalised cell (rnn, rnn_ln, rnn_bn)")
            gen = None if init_seed is None else make_generator(init_seed)
            init_recurrent_(self.cell, init, scale=init_scale, generator=gen)
        elif init_scale != 1.0:
            raise ValueError(f"init_scale={init_scale} needs an init scheme, got init=None")

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


class FusedRNNModel(nn.Module):
    """A vanilla :class:`SequenceModel` (cell ``"rnn"``, tanh or relu) copied onto PyTorch's
    fused, batch-first ``nn.RNN`` (chapter 5): the same function and the same parameters,
    several times faster to train.

    ``nn.RNN`` keeps two biases per layer; ``bias_hh`` is zeroed and frozen, so the trainable
    parameters are exactly the cell's ``W_xh``, ``W_hh``, ``b_h`` and the read-out.
    :meth:`to_scratch` copies the (trained) weights back into a ``SequenceModel``.
    """

    def __init__(self, model: SequenceModel):
        super().__init__()
        if not isinstance(model, SequenceModel) or type(model.cell).__name__ != "RNNCell":
            raise TypeError("model must be a SequenceModel with a vanilla cell (cell='rnn'), "
                            f"got {type(getattr(model, 'cell', model)).__name__}")
        self.head = model.head
        self.layer = model.cell.to_torch()                 # checks the nonlinearity
        if self.layer.bias:
            self.layer.bias_hh_l0.requires_grad_(False)
        self.readout = nn.Linear(model.readout.in_features, model.readout.out_features,
                                 bias=model.readout.bias is not None).to(model.readout.weight)
        self.readout.load_state_dict(model.readout.state_dict())
        self._sizes = (model.cell.input_size, model.cell.hidden_size, model.readout.out_features)
        self._nonlinearity = model.cell.nonlinearity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self._sizes[0]))
        outputs, _ = self.layer(x)                          # (B, T, H)
        return self.readout(outputs[:, -1] if self.head == "last" else outputs)

    def to_scratch(self) -> SequenceModel:
        """A :class:`SequenceModel` on :class:`rnnlab.cells.RNNCell` with these weights."""
        model = SequenceModel(*self._sizes, head=self.head, nonlinearity=self._nonlinearity,
                              bias=self.layer.bias).to(self.readout.weight)
        model.cell.load_from_torch(self.layer)
        model.readout.load_state_dict(self.readout.state_dict())
        return model
