"""Chapter 2's knob: the truncation window k, and what truncated BPTT keeps of each time lag.

The gradient of a weight is a sum over time lags (``numpy_rnn.grads_by_lag``). A sliding window
of ``k`` steps keeps the lags below ``k`` whole and drops the rest; chunks of ``k`` steps (the
``h.detach()`` loop) keep, at each lag, only the terms whose loss and use of the weight fall in
the same chunk. The sweep measures both, lag by lag, at every window of a grid.
"""
from __future__ import annotations

import numpy as np

from .._validate import check_choice, check_instance, check_int
from ..numpy_rnn import grads_by_lag

__all__ = ["parts_by_lag", "kept_by_window"]


def parts_by_lag(params: dict, cache: dict, dy: np.ndarray, k: int, *,
                 truncation: str = "sliding", name: str = "W_xh") -> np.ndarray:
    """The gradient of ``params[name]`` that BPTT truncated to ``k`` steps computes, by lag.

    Returns an array ``(T, *params[name].shape)`` whose row ``j`` is the part of lag ``j``; its
    sum over lags is ``numpy_rnn.backward(params, cache, dy, truncate=k,
    truncation=truncation)[name]``. Chunks are differentiated one at a time, from the states
    that the forward pass (which truncation leaves unchanged) reached at their start.
    """
    check_choice(truncation, "truncation", ["sliding", "chunked"])
    check_choice(name, "name", ["W_xh", "W_hh", "b_h"])
    k = check_int(k, "k", minimum=1)
    by_lag = grads_by_lag(params, cache, dy)[name]                # (T, *shape): every lag
    if truncation == "sliding":
        by_lag[k:] = 0.0                                          # lags >= k are dropped
        return by_lag
    T = by_lag.shape[0]
    parts = np.zeros_like(by_lag)                                 # (T, *shape)
    for start in range(0, T, k):                                  # chunk: steps start+1..end
        end = min(start + k, T)
        chunk = {**cache, "x": cache["x"][:, start:end], "a": cache["a"][:, start:end],
                 "h": cache["h"][:, start:end + 1]}               # h_start .. h_end
        parts[:end - start] += grads_by_lag(params, chunk, dy[:, start:end])[name]
    return parts


def kept_by_window(draws, windows, *, name: str = "W_xh") -> dict:
    """What truncated BPTT keeps of each lag, for every window ``k`` in ``windows``.

    ``draws`` is a sequence of ``(params, cache, dy)``. For each draw, the norm of every lag's
    part is divided by the largest part of the full gradient; each series is the median over
    draws. Returns ``{k: {"full BPTT": (lags, m), "sliding window": (lags, m),
    "chunks": (lags, m)}}`` with ``lags = 0..T-1``; the full gradient's series is the same
    at every ``k``.
    """
    check_instance(draws, "draws", (list, tuple), "a list of (params, cache, dy) triples")
    if not draws:
        raise ValueError("draws must hold at least one (params, cache, dy) triple, got none")

    def norms(parts):                                             # (T, *shape) -> (T,)
        return np.linalg.norm(parts.reshape(parts.shape[0], -1), axis=1)

    full = [norms(grads_by_lag(p, c, dy)[name]) for p, c, dy in draws]   # per draw: (T,)
    scale = [f.max() for f in full]
    lags = np.arange(len(full[0]))
    curves = {}
    for k in windows:
        curves[k] = {"full BPTT": (lags, np.median([f / s for f, s in zip(full, scale)], axis=0))}
        for series, variant in (("sliding window", "sliding"), ("chunks", "chunked")):
            kept = [norms(parts_by_lag(p, c, dy, k, truncation=variant, name=name)) / s
                    for (p, c, dy), s in zip(draws, scale)]
            curves[k][series] = (lags, np.median(kept, axis=0))
    return curves
