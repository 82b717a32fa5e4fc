"""Normalised vanilla recurrent cells (chapter 5).

Two cells with the interface of :class:`rnnlab.cells.RNNCell` (``cell(x_t, h_prev) -> h``,
``init_state``, ``hidden``, parameters ``W_xh``, ``W_hh``, ``b_h``); a model takes them as any
cell, ``SequenceModel(LayerNormRNNCell(D, H), O)``, and :func:`rnnlab.models.make_cell` builds
them by the names ``"rnn_ln"`` and ``"rnn_bn"``:

* :class:`LayerNormRNNCell` (``"rnn_ln"``, Ba et al. 2016): the summed input
  ``a_t = W_xh x_t + W_hh h_prev`` is normalised over its ``H`` units, *per example*:

  .. math:: h_t = \\phi\\big(\\gamma \\odot (a_t - \\mu_t) / \\sigma_t + b_h\\big)

  so ``h_t`` does not change when ``W_xh`` and ``W_hh`` are rescaled together.
* :class:`BatchNormRNNCell` (``"rnn_bn"``, Cooijmans et al. 2016): the recurrent and the input
  terms are batch-normalised separately, each with its own gain, initialised small (0.1) so
  that the pre-activation stays in the linear range of ``tanh``:

  .. math:: h_t = \\phi\\big(\\mathrm{BN}(W_{hh} h_{t-1}; \\gamma_h)
            + \\mathrm{BN}(W_{xh} x_t; \\gamma_x) + b_h\\big)

  In training mode the statistics are those of the batch at the current step, so they are
  per time step. Cooijmans et al. also keep *population* statistics per time step; this cell
  keeps one running mean and variance shared by all steps (the cell does not know the step
  index), which is enough for the chapter and is said in the chapter.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ._validate import check_choice, check_float, check_int, check_tensor
from .cells import ACTIVATIONS

__all__ = ["LayerNormRNNCell", "BatchNormRNNCell", "layer_norm", "unroll_preactivations"]


def layer_norm(a: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """``(a - mean) / sqrt(var + eps)`` over the last axis, per example (no gain, no bias)."""
    mu = a.mean(dim=-1, keepdim=True)                          # (..., 1)
    var = a.var(dim=-1, unbiased=False, keepdim=True)          # (..., 1)
    return (a - mu) / torch.sqrt(var + eps)                    # (..., H)


class _NormCell(nn.Module):
    """What both cells share: sizes, weights, zero state, the step."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str, eps: float):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", minimum=1)
        self.nonlinearity = check_choice(nonlinearity, "nonlinearity", list(ACTIVATIONS))
        self.act = ACTIVATIONS[nonlinearity]
        self.eps = check_float(eps, "eps", minimum=0.0, strict_min=True)
        self.W_xh = nn.Parameter(torch.empty(hidden_size, input_size))   # (H, D)
        self.W_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))  # (H, H)
        self.b_h = nn.Parameter(torch.zeros(hidden_size))                # (H,)

    def _reset_weights(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        nn.init.uniform_(self.W_xh, -bound, bound)
        nn.init.uniform_(self.W_hh, -bound, bound)
        nn.init.zeros_(self.b_h)

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero state ``(B, H)`` on the parameters' device and dtype by default."""
        return torch.zeros(batch_size, self.hidden_size, device=device or self.W_hh.device,
                           dtype=dtype or self.W_hh.dtype)

    @staticmethod
    def hidden(state: torch.Tensor) -> torch.Tensor:
        """The output part of the state (here the whole state)."""
        return state

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """One step: ``h = act(preactivation(x_t, h_prev))``, ``(B, D), (B, H) -> (B, H)``."""
        a = self.preactivation(x_t, h_prev)                         # (B, H), normalised
        return self.act(a)                                          # (B, H)


class LayerNormRNNCell(_NormCell):
    """Layer-normalised vanilla cell (Ba et al. 2016); ``gamma`` is the initial gain."""

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", *,
                 gamma: float = 1.0, eps: float = 1e-5):
        super().__init__(input_size, hidden_size, nonlinearity, eps)
        self.gamma_init = gamma
        self.gamma = nn.Parameter(torch.empty(hidden_size))               # (H,)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self._reset_weights()
        nn.init.constant_(self.gamma, self.gamma_init)

    def preactivation(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """The input of the nonlinearity, ``gamma * LN(W_xh x_t + W_hh h_prev) + b_h``,
        ``(B, H)``."""
        a = x_t @ self.W_xh.T + h_prev @ self.W_hh.T                    # (B, H)
        # = gamma * layer_norm(a, eps) + b_h, in PyTorch's fused kernel (faster per step)
        return F.layer_norm(a, (self.hidden_size,), self.gamma, self.b_h, self.eps)  # (B, H)


class BatchNormRNNCell(_NormCell):
    """Recurrently batch-normalised vanilla cell (Cooijmans et al. 2016).

    ``gamma`` is the initial gain of both normalisations (0.1 as the paper recommends);
    ``momentum`` the update rate of the running statistics used in eval mode.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh", *,
                 gamma: float = 0.1, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__(input_size, hidden_size, nonlinearity, eps)
        self.gamma_init = gamma
        self.momentum = check_float(momentum, "momentum", minimum=0.0, maximum=1.0)
        self.gamma_x = nn.Parameter(torch.empty(hidden_size))             # (H,)
        self.gamma_h = nn.Parameter(torch.empty(hidden_size))             # (H,)
        for name in ("x", "h"):
            self.register_buffer(f"running_mean_{name}", torch.zeros(hidden_size))
            self.register_buffer(f"running_var_{name}", torch.ones(hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self._reset_weights()
        nn.init.constant_(self.gamma_x, self.gamma_init)
        nn.init.constant_(self.gamma_h, self.gamma_init)
        for name in ("x", "h"):
            getattr(self, f"running_mean_{name}").zero_()
            getattr(self, f"running_var_{name}").fill_(1.0)

    def _bn(self, a: torch.Tensor, name: str) -> torch.Tensor:
        if self.training and a.shape[0] < 2:
            raise ValueError("batch normalisation in training mode needs a batch of at least 2 "
                             f"sequences, got {a.shape[0]}; call .eval() to use running statistics")
        return F.batch_norm(a, getattr(self, f"running_mean_{name}"),
                            getattr(self, f"running_var_{name}"), getattr(self, f"gamma_{name}"),
                            None, self.training, self.momentum, self.eps)   # (B, H)

    def preactivation(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """``BN(W_hh h_prev; gamma_h) + BN(W_xh x_t; gamma_x) + b_h`` ``(B, H)``."""
        a_h = self._bn(h_prev @ self.W_hh.T, "h")                      # (B, H)
        a_x = self._bn(x_t @ self.W_xh.T, "x")                         # (B, H)
        return a_h + a_x + self.b_h                                     # (B, H)


@torch.no_grad()
def unroll_preactivations(cell: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The input of the nonlinearity at every step, ``(B, T, H)``, for a vanilla-like cell
    (one with ``preactivation(x_t, h_prev)`` and ``act``: :class:`rnnlab.cells.RNNCell` and
    the cells of this module), unrolled from the zero state over ``x`` ``(B, T, D)``."""
    if not all(hasattr(cell, a) for a in ("preactivation", "act", "init_state", "input_size")):
        raise TypeError("cell must be a vanilla-like rnnlab cell (with preactivation and act), "
                        f"got {type(cell).__name__}")
    check_tensor(x, "x", shape=("B", "T", cell.input_size))
    h = cell.init_state(x.shape[0], device=x.device, dtype=x.dtype)   # (B, H)
    pre = []
    for x_t in x.unbind(1):                                             # (B, D): step t
        a = cell.preactivation(x_t, h)                                  # (B, H)
        h = cell.act(a)                                                 # (B, H)
        pre.append(a)
    return torch.stack(pre, dim=1)                                      # (B, T, H)
