"""Forecasting a time series with a recurrent network, and the baselines it must beat (chapter 6).

* :func:`make_series`: trend + a seasonal pattern (two harmonics of one period) + Gaussian
  noise, drawn from a private generator.
* :func:`make_windows`: ``(N, L, 1)`` input windows and the ``(N, K)`` values that follow them.
* Baselines: :func:`naive_forecast` repeats the last value; :func:`seasonal_naive_forecast`
  repeats the value one period earlier (Hyndman & Koehler 2006).
* :class:`Forecaster`: a fused LSTM/GRU reads the window *relative to its last value* and
  predicts all ``K`` future steps at once (direct multi-step forecasting); subtracting the last
  value lets a model trained on the past of a trending series work on its future, at levels it
  never saw. ``levels=(mean, std)`` makes it read standardised levels instead, for comparison.
* :func:`mae_by_horizon`: mean absolute error per forecast step, ``(K,)``.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_float, check_int, check_tensor
from .models import make_rnn
from .runtime import make_generator

__all__ = ["make_series", "make_windows", "naive_forecast", "seasonal_naive_forecast",
           "Forecaster", "mae_by_horizon"]


def make_series(n: int, *, period: int = 24, trend: float = 0.02, amplitude: float = 1.0,
                noise: float = 0.3, seed: int = 0) -> torch.Tensor:
    """A series ``s (N,)``: ``trend * t + amplitude * season(t) + noise * eps_t``.

    ``season(t) = sin(2 pi t / P) + 0.5 sin(4 pi t / P + 1)`` (a daily-like shape with a second
    harmonic), ``eps_t`` standard normal, independent. The best possible one-step forecast has
    mean absolute error ``noise * sqrt(2 / pi)``.
    """
    P = check_int(period, "period", minimum=2)  # P = 0 would give NaN silently
    g = make_generator(seed)
    t = torch.arange(n, dtype=torch.float32)                                  # (N,)
    season = torch.sin(2 * math.pi * t / P) + 0.5 * torch.sin(4 * math.pi * t / P + 1.0)
    return trend * t + amplitude * season + noise * torch.randn(n, generator=g)


def make_windows(series: torch.Tensor, input_len: int, horizon: int, *, stride: int = 1):
    """Every window of ``input_len`` values and the ``horizon`` values after it.

    Returns ``X (N, L, 1)`` and ``Y (N, K)``; window ``n`` starts at ``n * stride``.
    """
    check_tensor(series, "series", ndim=1)
    L = check_int(input_len, "input_len", minimum=1)
    K = check_int(horizon, "horizon", minimum=1)
    if len(series) < L + K:
        raise ValueError(f"windows of {L} inputs and {K} targets need a series of at least "
                         f"{L + K} values, got {len(series)}")
    chunks = series.unfold(0, L + K, stride)                                 # (N, L + K)
    return chunks[:, :L].unsqueeze(-1), chunks[:, L:]                        # (N, L, 1), (N, K)


def _check_inputs(X: torch.Tensor, horizon: int) -> int:
    check_tensor(X, "X", shape=("N", "L", 1))
    return check_int(horizon, "horizon", minimum=1)


def naive_forecast(X: torch.Tensor, horizon: int) -> torch.Tensor:
    """Every future value equals the last observed one: ``(N, K)``."""
    K = _check_inputs(X, horizon)
    return X[:, -1, 0:1].expand(-1, K).clone()                              # (N, K)


def seasonal_naive_forecast(X: torch.Tensor, horizon: int, period: int) -> torch.Tensor:
    """Each future value equals the value one season earlier: ``yhat[t + h] = x[t + h - P k]``
    with the smallest ``k >= 1`` that reaches into the window (so ``h > P`` repeats the last
    observed season). Shape ``(N, K)``; needs windows of at least one period."""
    K = _check_inputs(X, horizon)
    P = check_int(period, "period", minimum=1)
    L = X.shape[1]
    if L < P:
        raise ValueError(f"seasonal naive needs windows of at least one period ({P}), got {L}")
    h = torch.arange(1, K + 1)                                               # (K,)
    idx = L - P + (h - 1) % P                                                # (K,)
    return X[:, idx, 0]                                                      # (N, K)


class Forecaster(nn.Module):
    """``X (B, L, 1)`` -> ``(B, K)`` forecasts of the next ``horizon`` values.

    By default (``levels=None``) the window is shifted so its last value is 0, read by a fused
    RNN, and the last hidden state is mapped to the ``K`` *changes* from that last value. With
    ``levels=(mean, std)`` it reads the standardised levels ``(X - mean) / std`` instead and
    predicts standardised levels, ``mean + std * readout(h)``: the usual alternative, which
    must extrapolate when the series leaves the range it was trained on.
    """

    def __init__(self, hidden_size: int, horizon: int, *, cell: str = "lstm",
                 levels: tuple[float, float] | None = None):
        super().__init__()
        self.horizon = check_int(horizon, "horizon", minimum=1)
        if levels is not None:
            mean, std = levels
            levels = (check_float(mean, "levels[0] (mean)"),
                      check_float(std, "levels[1] (std)", minimum=0.0, strict_min=True))
        self.levels = levels
        self.rnn = make_rnn(cell, 1, hidden_size)
        self.readout = nn.Linear(hidden_size, self.horizon)

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        check_tensor(X, "X", shape=("B", "L", 1))
        if self.levels is not None:
            mean, std = self.levels
            outputs, _ = self.rnn((X - mean) / std)       # (B, L, H)
            return mean + std * self.readout(outputs[:, -1])  # (B, K)
        last = X[:, -1]                                   # (B, 1)
        outputs, _ = self.rnn(X - last.unsqueeze(1))      # (B, L, H)
        return last + self.readout(outputs[:, -1])        # (B, K)


def mae_by_horizon(Y: torch.Tensor, Y_hat: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of each forecast step over the windows: ``(K,)``."""
    check_tensor(Y, "Y", ndim=2)
    check_tensor(Y_hat, "Y_hat", shape=tuple(Y.shape))
    return (Y_hat.detach().to(Y.device) - Y).abs().mean(dim=0)              # (K,)
