"""Chapter 2's knob: the truncation window k, and what truncated BPTT keeps of each time lag.

The gradient of a weight is a double sum over the loss term ``l_t`` and the step ``s <= t``
where the weight is used (chapter 2's ``eq-02-lags``); ``t - s`` is the time lag. A sliding
window of ``k`` steps keeps the pairs with lag below ``k``; chunks of ``k`` steps (the
``h.detach()`` loop) keep the pairs whose ``t`` and ``s`` fall in the same chunk. The sweep
computes every pair once, with ``numpy_rnn.grads_by_lag`` on one loss term at a time, and then
sums what each window keeps, lag by lag.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_choice, check_instance, check_int
from ..numpy_rnn import grads_by_lag

__all__ = ["parts_by_pair", "kept_pairs", "parts_by_lag", "kept_by_window"]


def parts_by_pair(params: dict, cache: dict, dy: np.ndarray, *, name: str = "W_xh") -> np.ndarray:
    """The terms of the double sum: ``P[t - 1, j]`` is what ``l_t`` sends to ``params[name]``'s
    use at step ``t - j``; shape ``(T, T, *params[name].shape)``, zero for ``j >= t``."""
    check_choice(name, "name", ["W_xh", "W_hh", "b_h"])
    T = cache["x"].shape[1]              # grads_by_lag checks cache and dy
    P = np.zeros((T, T) + params[name].shape)
    for t in range(1, T + 1):            # l_t reaches steps 1..t: the prefix of t steps
        prefix = {**cache, "x": cache["x"][:, :t], "a": cache["a"][:, :t],
                  "h": cache["h"][:, :t + 1]}
        dy_t = np.zeros_like(dy[:, :t])  # (B, t, O): l_t alone
        dy_t[:, t - 1] = dy[:, t - 1]
        P[t - 1, :t] = grads_by_lag(params, prefix, dy_t)[name]
    return P


def kept_pairs(T: int, k: int, truncation: str) -> np.ndarray:
    """Which pairs ``(t, j)`` BPTT truncated to ``k`` steps keeps: a boolean ``(T, T)`` mask,
    row ``t - 1``, column the lag ``j`` (``j < t`` only)."""
    T = check_int(T, "T", minimum=1)
    k = check_int(k, "k", minimum=1)
    check_choice(truncation, "truncation", ["sliding", "chunked"])
    t = np.arange(1, T + 1)[:, None]     # (T, 1): the loss term's step
    j = np.arange(T)[None, :]            # (1, T): the lag
    if truncation == "sliding":
        return (j < t) & (j < k)
    return (j < t) & ((t - 1) // k == (t - 1 - j) // k)   # use and loss in one chunk


def parts_by_lag(params: dict, cache: dict, dy: np.ndarray, k: int, *,
                 truncation: str = "sliding", name: str = "W_xh") -> np.ndarray:
    """The gradient of ``params[name]`` that BPTT truncated to ``k`` steps computes, by lag:
    ``(T, *shape)``, summing over lags to ``numpy_rnn.backward(..., truncate=k,
    truncation=truncation)[name]``."""
    P = parts_by_pair(params, cache, dy, name=name)          # (T, T, *shape)
    return _sum_kept(kept_pairs(P.shape[0], k, truncation), P)


def _sum_kept(mask, P):
    """The sum over ``t`` of the kept pairs ``P[t - 1, j]``, by lag: ``(T, *shape)``."""
    return np.einsum("tj,tj...->j...", mask, P)


def kept_by_window(draws, windows, *, name: str = "W_xh") -> dict:
    """What truncated BPTT keeps of each lag, for every window ``k`` in ``windows``.

    ``draws`` is a sequence of ``(params, cache, dy)``. For each draw, the norm of every lag's
    part is divided by the largest part of the full gradient; each series is the median over
    draws. Returns ``{k: {"sliding window": (lags, m), "chunks": (lags, m),
    "full BPTT": (lags, m)}}`` with ``lags = 0..T-1``; the full gradient's series is the same
    at every ``k``.
    """
    check_instance(draws, "draws", (list, tuple), "a list of (params, cache, dy) triples")
    if not draws:
        raise ValueError("draws must hold at least one (params, cache, dy) triple, got none")
    pairs = [parts_by_pair(p, c, dy, name=name) for p, c, dy in draws]   # each (T, T, *shape)
    T = pairs[0].shape[0]

    def norms(mask):                     # the norm of each lag's part, per draw: (draws, T)
        parts = [_sum_kept(mask, P).reshape(T, -1) for P in pairs]
        return np.linalg.norm(parts, axis=2)

    full = norms(kept_pairs(T, T, "sliding"))                # (draws, T)
    scale = full.max(axis=1, keepdims=True)                  # (draws, 1)
    lags = np.arange(T)
    curves = {}
    for k in windows:
        curves[k] = {}
        for series, variant in (("sliding window", "sliding"), ("chunks", "chunked")):
            part = norms(kept_pairs(T, k, variant)) / scale  # (draws, T)
            curves[k][series] = (lags, np.median(part, axis=0))
        curves[k]["full BPTT"] = (lags, np.median(full / scale, axis=0))   # last: drawn on top
    return curves
