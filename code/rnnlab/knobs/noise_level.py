"""Chapter 1's knob: the noise level sigma of the inputs, and the test error at each time step.

Chapter 1 trains RNNs on a noisy sine wave at one noise level and compares them with the best
predictor that sees only ``x_t``. The sweep keeps the trained networks and changes only the test
inputs, ``x_t = clean_t + sigma * eps_t`` with the same ``eps`` at every ``sigma``, and measures
the mean squared error at every step ``t``: the networks' median and worst seed, the memoryless
predictor that the chapter refits at each ``sigma``, and the noise-free floor of ``eq-01-floor``
that no memoryless predictor can beat.
"""
from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float, check_instance, check_tensor

__all__ = ["error_by_noise"]


def error_by_noise(nets: dict, memoryless, x_clean: torch.Tensor, eps: torch.Tensor,
                   y: torch.Tensor, sigmas, *, floor: float) -> dict:
    """The test MSE at each step ``t = 1..T`` for inputs ``x_clean + sigma * eps``, each sigma.

    ``nets`` maps a seed to a trained model ``(B, T, D) -> (B, T, O)`` on the device of
    ``x_clean``; ``memoryless(x, sigma)`` returns the memoryless predictions ``(B, T, O)`` for
    the inputs ``x`` (on the CPU) of noise level ``sigma``; ``y`` holds the targets ``(B, T, O)``.
    Returns ``{sigma: {name: (steps, mse)}}`` with the series ``"RNN, median of N seeds"`` and
    ``"RNN, worst seed"`` (the median and the largest error over ``nets`` at each step),
    ``"memoryless"`` and the constant ``"noise-free floor"``.
    """
    check_instance(nets, "nets", dict)
    if not nets:
        raise ValueError("nets must hold at least one trained model, got an empty dict")
    B, T, D = check_tensor(x_clean, "x_clean", ndim=3).shape
    check_tensor(eps, "eps", shape=(B, T, D))       # a (B, T, 1) eps would broadcast silently
    O = check_tensor(y, "y", shape=(B, T, "O")).shape[2]
    sigmas = [check_float(s, "sigma", minimum=0.0) for s in sigmas]
    floor = check_float(floor, "floor", minimum=0.0)
    S, steps = len(sigmas), np.arange(1, T + 1)
    x_all = torch.cat([x_clean + s * eps for s in sigmas])            # (S B, T, D)
    with torch.no_grad():
        sq = torch.stack([(net(x_all) - y.repeat(S, 1, 1)) ** 2
                          for net in nets.values()])                   # (N, S B, T, O)
    rnn = sq.reshape(len(nets), S, B, T, O).mean(dim=(2, 4)).cpu().numpy()   # (N, S, T)
    y_np = y.cpu().numpy()
    curves = {}
    for j, s in enumerate(sigmas):
        pred = np.asarray(memoryless(x_all[j * B:(j + 1) * B].cpu(), s), dtype=float)
        base = ((pred - y_np) ** 2).mean(axis=(0, 2))                   # (T,)
        curves[s] = {f"RNN, median of {len(nets)} seeds": (steps, np.median(rnn[:, j], axis=0)),
                     "RNN, worst seed": (steps, rnn[:, j].max(axis=0)),
                     "memoryless": (steps, base),
                     "noise-free floor": (steps, np.full(T, floor))}
    return curves
