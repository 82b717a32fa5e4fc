"""Chapter 7's knob: where the LRU's ring of eigenvalues sits, and the gradient by lag it sets.

The ring of decade ``d`` holds the moduli ``1 - 10^-d <= |lambda| <= 1 - 10^-(d+1)``: one decade
of ``1 - |lambda|``, so ``d = 1`` is the ring ``[0.9, 0.99]`` and ``d = 2`` the ring
``[0.99, 0.999]`` of the chapter's figure and its payoff. Even steps of ``d`` are (nearly) even
steps of the LRU's parameter ``nu`` (``|lambda| = exp(-e^nu)``, so ``1 - |lambda| ~ e^nu``),
and each multiplies the memory horizon by about ``10^step``. Nothing is trained: the gradient
at lag ``k`` is read from the eigenvalues (``rms_n |lambda_n|^k``, the chapter's
``eq-07-lru-rms``), which the chapter shows equal to the measured gradient.
"""
from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float, check_int
from ..linear_rnn import LinearRecurrentCell, memory_horizon

__all__ = ["ring_bounds", "ratio_by_ring"]


def ring_bounds(d: float) -> tuple[float, float]:
    """``(r_min, r_max) = (1 - 10^-d, 1 - 10^-(d+1))``, the ring of decade ``d``."""
    d = check_float(d, "d", minimum=0.0)
    return 1 - 10 ** -d, 1 - 10 ** -(d + 1)


def ratio_by_ring(decades, *, state_size: int = 16, seed: int = 1, max_lag: int = 100_000,
                  points: int = 60, floor: float = 1e-8) -> tuple[dict, dict]:
    """The gradient by lag of a ring at each decade ``d``, and a line on its memory horizon.

    For each ``d``: the eigenvalues of ``LinearRecurrentCell(2, state_size, r_min=, r_max=,
    seed=seed)`` on the ring of :func:`ring_bounds`, and three curves over ``points`` integer
    lags spaced evenly on a log axis from 1 to ``max_lag``: ``"ring: rms of |λ_n|^k"`` (the
    gradient ratio by lag of the loss ``sum h_T``), ``"r_min^k"`` and ``"r_max^k"`` (the
    fastest- and the slowest-forgetting units), and the level ``"1%"`` at which the horizon is
    read. Points below ``floor`` are left out (a log axis cannot draw 0). Returns
    ``({d: {series: (lags, ratio)}}, {d: note})``; each note gives the ring and the horizons
    at 1% of its bounds ``r_min`` and ``r_max``, in steps.
    """
    state_size = check_int(state_size, "state_size", minimum=1)
    max_lag = check_int(max_lag, "max_lag", minimum=2)
    points = check_int(points, "points", minimum=2)
    floor = check_float(floor, "floor", minimum=0.0, strict_min=True)
    lags = torch.from_numpy(np.unique(np.round(np.geomspace(1, max_lag, points))))    # (P,)
    curves, notes = {}, {}
    for d in decades:
        r_min, r_max = ring_bounds(d)
        cell = LinearRecurrentCell(2, state_size, r_min=r_min, r_max=r_max, seed=seed).double()
        modulus = cell.eigenvalues().detach().abs()                                  # (N,)
        series = {"ring: rms of |λ_n|^k": torch.sqrt((modulus ** (2 * lags[:, None])).mean(1)),
                  "r_min^k": r_min ** lags, "r_max^k": r_max ** lags}                # (P,) each
        curves[d] = {name: (lags[y >= floor].numpy(), y[y >= floor].numpy())
                     for name, y in series.items()}
        curves[d]["1%"] = (np.array([1.0, max_lag]), np.array([0.01, 0.01]))     # the horizon
        k_fast, k_slow = memory_horizon(torch.tensor([r_min, r_max]), eps=0.01).tolist()
        notes[d] = (f"ring {r_min:.6g} ≤ |λ| ≤ {r_max:.6g}: 1% of the gradient left after "
                    f"{k_fast:,.0f} (|λ| = r_min) to {k_slow:,.0f} steps (|λ| = r_max)")
    return curves, notes
