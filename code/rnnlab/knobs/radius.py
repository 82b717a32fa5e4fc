"""Chapter 3's knob: the spectral radius rho of ``W_hh = rho Q`` and the gradient ratio by lag."""
from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float, check_instance, check_tensor
from ..cells import RNNCell
from ..gradients import grad_ratio_by_lag

__all__ = ["scaled_cell", "ratio_by_radius"]


def scaled_cell(Q: torch.Tensor, W_xh: torch.Tensor, rho: float, *,
                nonlinearity: str = "tanh") -> RNNCell:
    """A cell without bias: ``W_hh = rho * Q``, the given ``W_xh``, in ``Q``'s dtype and on its
    device; tanh unless ``nonlinearity`` names another activation of ``RNNCell``. Chapter 3
    builds every fixed-weight cell with it (``rho = 1`` keeps ``Q`` as it is)."""
    Q = check_tensor(Q, "Q", ndim=2)
    W_xh = check_tensor(W_xh, "W_xh", ndim=2)
    rho = check_float(rho, "rho", minimum=0.0)
    H, D = W_xh.shape
    if Q.shape != (H, H):
        raise ValueError(f"Q must be (H, H) = ({H}, {H}) to match W_xh of shape (H, D) = "
                         f"({H}, {D}), got shape {tuple(Q.shape)}")
    cell = RNNCell(D, H, nonlinearity=nonlinearity, bias=False)
    cell = cell.to(dtype=Q.dtype, device=Q.device)
    with torch.no_grad():
        cell.W_hh.copy_(rho * Q)
        cell.W_xh.copy_(W_xh)
    return cell


def ratio_by_radius(Q: torch.Tensor, W_xh: torch.Tensor, x: torch.Tensor, rhos,
                    scales: dict) -> dict:
    """``r_k = ||dL/dh_{T-k}|| / ||dL/dh_T||`` (``L = sum h_T``) at each ``rho`` and input scale.

    ``x`` is ``(B, T, D)``; ``scales`` maps a series name to the factor the inputs are multiplied
    by. Returns ``{rho: {name: (lags, r)}}`` with ``lags = 0..T-1``, plus the series
    ``"ρ^k"``: the bound that ``r_k`` cannot exceed (``Q`` orthogonal, ``tanh' <= 1``).
    """
    check_instance(scales, "scales", dict)
    x = check_tensor(x, "x", ndim=3)
    lags = np.arange(x.shape[1])
    curves = {}
    for rho in rhos:
        rho = check_float(rho, "rho", minimum=0.0)
        cell = scaled_cell(Q, W_xh, rho)
        curves[rho] = {name: (lags, grad_ratio_by_lag(cell, scale * x).cpu().numpy())
                       for name, scale in scales.items()}
        curves[rho]["ρ^k"] = (lags, rho ** lags)
    return curves
