"""The vanilla recurrent cell written from scratch in PyTorch (chapter 1).

A *cell* computes one time step: ``cell(x_t, state) -> state``, with ``x_t`` of shape
``(B, D)``. ``cell.init_state(B)`` gives the zero state and ``cell.hidden(state)`` the part of
the state that is the output ``h_t`` (for the vanilla RNN the state *is* ``h_t``). The gated
cells of chapter 4 are in :mod:`rnnlab.gated`, the normalised ones of chapter 5 in
:mod:`rnnlab.norm_cells`; :func:`rnnlab.models.make_cell` builds any of them by name.
A cell's step does no argument checks: the layer that runs it over a sequence
(:class:`rnnlab.models.RecurrentLayer`) checks the whole input once.
Parameter names follow the equations of the chapters:

.. math:: h_t = \\phi(W_{xh} x_t + W_{hh} h_{t-1} + b_h)

``load_from_torch`` / ``to_torch`` copy weights from and to PyTorch's fused ``torch.nn.RNN``
so the chapters can prove the from-scratch code equal to the library.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_choice, check_int

__all__ = ["Activation", "ACTIVATIONS", "RNNCell"]


class Activation(NamedTuple):
    """An activation ``phi`` and its derivative ``phi'``, both functions of the
    pre-activation ``a``; ``ACTIVATIONS["tanh"](a)`` applies ``phi``."""
    phi: Callable
    derivative: Callable

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        return self.phi(a)


def _gelu_derivative(a: torch.Tensor) -> torch.Tensor:
    cdf = 0.5 * (1.0 + torch.erf(a / math.sqrt(2.0)))                 # Phi(a)
    pdf = torch.exp(-0.5 * a ** 2) / math.sqrt(2.0 * math.pi)         # phi(a)
    return cdf + a * pdf


#: The activations of the course, by name, with their derivatives (ReLU's at 0 is taken as 0,
#: as PyTorch does): the one table behind the cells (chapter 1), the derivative formulas of
#: chapter 3 and the deep stacks of chapter 5 (:class:`rnnlab.deep.DeepMLP`).
ACTIVATIONS = {
    "tanh": Activation(torch.tanh, lambda a: 1.0 - torch.tanh(a) ** 2),
    "relu": Activation(torch.relu, lambda a: (a > 0).to(a.dtype)),
    "sigmoid": Activation(torch.sigmoid, lambda a: torch.sigmoid(a) * (1.0 - torch.sigmoid(a))),
    "identity": Activation(lambda a: a, torch.ones_like),
    "leaky_relu": Activation(lambda a: F.leaky_relu(a, 0.01),
                             lambda a: torch.where(a > 0, 1.0, 0.01).to(a.dtype)),
    "gelu": Activation(F.gelu, _gelu_derivative),
}


class RNNCell(nn.Module):
    """Vanilla (Elman) recurrent cell: ``h_t = act(W_xh x_t + W_hh h_prev + b_h)``.

    Initialised like ``torch.nn.RNNCell``: every entry uniform in ``(-1/sqrt(H), 1/sqrt(H))``.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 bias: bool = True):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", minimum=1)
        self.nonlinearity = check_choice(nonlinearity, "nonlinearity", list(ACTIVATIONS))
        self.act = ACTIVATIONS[nonlinearity]
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))   # (H, D)
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # (H, H)
        self.b_h = nn.Parameter(torch.empty(hidden_size)) if bias else None  # (H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero state of shape ``(B, H)`` on the parameters' device and dtype by default."""
        ref = self.W_hh
        return torch.zeros(batch_size, self.hidden_size, device=device or ref.device,
                           dtype=dtype or ref.dtype)

    @staticmethod
    def hidden(state: torch.Tensor) -> torch.Tensor:
        """The output part of the state (here the whole state)."""
        return state

    def preactivation(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """``a_t = W_xh x_t + W_hh h_prev + b_h``, shape ``(B, H)``."""
        a = x_t @ self.W_xh.T + h_prev @ self.W_hh.T  # (B, H)
        return a if self.b_h is None else a + self.b_h

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """One step of eq-01-rnn: ``x_t (B, D)``, ``h_prev (B, H)`` -> ``h (B, H)``."""
        a = self.preactivation(x_t, h_prev)  # (B, H): W_xh x_t + W_hh h_prev + b_h
        return self.act(a)                   # (B, H)

    # -- weights from and to torch.nn.RNN ------------------------------------------------
    def load_from_torch(self, module: nn.RNN, layer: int = 0) -> RNNCell:
        """Copy layer ``layer`` of a ``torch.nn.RNN`` into this cell (its two biases summed)."""
        if not isinstance(module, (nn.RNN, nn.RNNCell)):
            raise TypeError(f"module must be torch.nn.RNN or RNNCell, got {type(module).__name__}")
        if module.nonlinearity != self.nonlinearity:
            raise ValueError(f"module uses nonlinearity {module.nonlinearity!r}, "
                             f"this cell {self.nonlinearity!r}")
        if isinstance(module, nn.RNNCell):
            sfx = ""
        else:
            sfx = f"_l{layer}"                          # getattr names a missing layer
        if module.bias != (self.b_h is not None):
            raise ValueError(f"bias mismatch: torch module has bias={module.bias}, "
                             f"this cell bias={self.b_h is not None}")
        W_ih, W_hh = getattr(module, "weight_ih" + sfx), getattr(module, "weight_hh" + sfx)
        if W_ih.shape != self.W_xh.shape or W_hh.shape != self.W_hh.shape:
            raise ValueError(f"shape mismatch: torch module has weight_ih {tuple(W_ih.shape)}, "
                             f"weight_hh {tuple(W_hh.shape)}; cell expects "
                             f"{tuple(self.W_xh.shape)}, "
                             f"{tuple(self.W_hh.shape)}")
        with torch.no_grad():
            self.W_xh.copy_(W_ih)
            self.W_hh.copy_(W_hh)
            if self.b_h is not None:
                self.b_h.copy_(getattr(module, "bias_ih" + sfx) + getattr(module, "bias_hh" + sfx))
        return self

    def to_torch(self) -> nn.RNN:
        """A one-layer, batch-first ``torch.nn.RNN`` with this cell's weights."""
        if self.nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"torch.nn.RNN supports tanh and relu, not {self.nonlinearity!r}")
        rnn = nn.RNN(self.input_size, self.hidden_size, nonlinearity=self.nonlinearity,
                     bias=self.b_h is not None, batch_first=True).to(self.W_hh)
        with torch.no_grad():
            rnn.weight_ih_l0.copy_(self.W_xh)
            rnn.weight_hh_l0.copy_(self.W_hh)
            if self.b_h is not None:
                rnn.bias_ih_l0.copy_(self.b_h)
                rnn.bias_hh_l0.zero_()
        return rnn
