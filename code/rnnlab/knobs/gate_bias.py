"""Chapter 4's knob: the bias of the gate that keeps the old state, and the gradient by lag.

The LSTM's forget gate ``f_t`` multiplies the old cell, the GRU's update gate ``z_t`` the old
state; with small weights each sits near ``sigma(b)`` for its bias ``b``, and along the path
it guards the gradient is multiplied by it at every step: ``sigma(b)^k`` over ``k`` steps (the
constant error carousel, eq-04-cec). :func:`ratio_by_gate_bias` measures, for one draw of the
weights in which only that bias changes, the gradient that reaches ``k`` steps back.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .._validate import check_choice, check_float, check_int, check_tensor
from ..gated import GRUCell, LSTMCell
from ..gradients import grad_ratio_by_lag

__all__ = ["LSTM", "GRU", "CAROUSEL", "cell_with_gate_bias", "ratio_by_gate_bias"]

#: The series of :func:`ratio_by_gate_bias`: the two cells and the carousel's factor.
LSTM, GRU, CAROUSEL = "LSTM (forget bias b)", "GRU (update-gate bias b)", "σ(b)^k"
_KEEP_GATE = {"lstm": (LSTMCell, "f"), "gru": (GRUCell, "z")}


def cell_with_gate_bias(kind: str, input_size: int, hidden_size: int, bias: float, *,
                        seed: int, dtype=torch.float64) -> LSTMCell | GRUCell:
    """An ``"lstm"`` or ``"gru"`` cell with PyTorch's initialisation drawn from ``seed`` and the
    bias of its forget (LSTM) or update (GRU) gate set to ``bias``: the same weights for every
    ``bias``. The global random state is left as it was."""
    make, gate = _KEEP_GATE[check_choice(kind, "kind", list(_KEEP_GATE))]
    bias = check_float(bias, "bias")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        cell = make(input_size, hidden_size).to(dtype)
    with torch.no_grad():
        cell.weights(gate)[2].fill_(bias)                # b_f or b_z, (H,)
    return cell


def ratio_by_gate_bias(x: torch.Tensor, biases, *, hidden_size: int, seed: int,
                       every: int = 1) -> dict:
    """``||dL/dh_{T-k}|| / ||dL/dh_T||`` (``L = sum h_T``) of an LSTM and a GRU at each bias.

    ``x`` is ``(B, T, D)``; the cells (:func:`cell_with_gate_bias`, in ``x``'s dtype and on its
    device) have ``hidden_size`` units and the weights of ``seed``. Returns
    ``{b: {LSTM: (lags, r), GRU: (lags, r), CAROUSEL: (lags, sigma(b)^lags)}}`` with
    ``lags = 0, every, 2 every, ... < T``.
    """
    x = check_tensor(x, "x", ndim=3)
    every = check_int(every, "every", minimum=1)
    lags = np.arange(0, x.shape[1], every)
    curves = {}
    for b in biases:
        b = check_float(b, "a bias of biases")
        curves[b] = {}
        for name, kind in ((LSTM, "lstm"), (GRU, "gru")):
            cell = cell_with_gate_bias(kind, x.shape[2], hidden_size, b, seed=seed,
                                       dtype=x.dtype).to(x.device)
            r = grad_ratio_by_lag(cell, x).cpu().numpy()          # (T,), index = lag
            curves[b][name] = (lags, r[lags])
        sigma = 1.0 / (1.0 + math.exp(-b))
        curves[b][CAROUSEL] = (lags, sigma ** lags)
    return curves
