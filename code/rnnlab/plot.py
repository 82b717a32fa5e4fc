"""The figures the chapters share, in one consistent style (chapter 1 onward).

Functions draw onto a Matplotlib ``Axes`` (made for you when ``ax`` is None) and return it;
they never call ``plt.show()``, so a notebook composes them freely.
"""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ._validate import check_int

__all__ = ["use_style", "smooth", "plot_history", "draw_unrolled_rnn", "COLORS"]

#: Colour-blind-safe palette (Okabe & Ito) used for every line in the book.
COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]


def use_style() -> None:
    """Set the book's Matplotlib style (call once in a chapter's setup cell)."""
    mpl.rcParams.update({
        "figure.figsize": (6.4, 3.6), "figure.dpi": 100, "savefig.dpi": 150,
        "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
        "grid.alpha": 0.3, "axes.prop_cycle": mpl.cycler(color=COLORS),
        "font.size": 10, "legend.frameon": False, "figure.autolayout": True,
    })


def smooth(values, window: int = 20) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far)."""
    window = check_int(window, "window", minimum=1)
    v = np.asarray(values, dtype=float)         # NumPy names what is not a number
    if v.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {v.shape}")
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_history(histories: dict, *, key: str = "loss", ax=None, baseline: float | None = None,
                 baseline_label: str = "baseline", window: int = 20, logy: bool = False):
    """Plot ``history[key]`` (smoothed) for each named history from :func:`rnnlab.train.fit`."""
    ax = ax or plt.subplots()[1]
    for label, hist in histories.items():
        ax.plot(hist["step"], smooth(hist[key], window), label=label)
    if baseline is not None:
        ax.axhline(baseline, color="0.4", ls="--", lw=1, label=baseline_label)
    ax.set_xlabel("optimisation step")
    ax.set_ylabel(key.replace("_", " "))
    if logy:
        ax.set_yscale("log")
    ax.legend()
    return ax


def _box(ax, xy, text, color):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - 0.3, y - 0.22), 0.6, 0.44, boxstyle="round,pad=0.02",
                                fc=color, ec="0.2", lw=1))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax, a, b, **kw):
    ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>", mutation_scale=10, lw=1.2,
                                 color=kw.pop("color", "0.2"), **kw))


def draw_unrolled_rnn(steps: int = 4, *, ax=None):
    """Draw an RNN folded (left) and unrolled over ``steps`` time steps (right).

    Every copy of the cell shares the same ``W_xh``, ``W_hh`` and ``W_hy``: the picture makes
    parameter sharing visible.
    """
    steps = check_int(steps, "steps", minimum=1, maximum=8)
    ax = ax or plt.subplots(figsize=(1.6 * (steps + 2), 3.0))[1]
    ax.set_axis_off()
    ax.set_aspect("equal")
    # folded network with its self-loop
    _box(ax, (0, 1), "$x_t$", "#cfe3f3")
    _box(ax, (0, 2), "$h_t$", "#f6d8c6")
    _box(ax, (0, 3), "$y_t$", "#cde9dd")
    _arrow(ax, (0, 1.22), (0, 1.78))
    _arrow(ax, (0, 2.22), (0, 2.78))
    _arrow(ax, (0.3, 2.1), (0.3, 1.9), connectionstyle="arc3,rad=-2.2", color="#D55E00")
    ax.text(0.75, 2, "$W_{hh}$", ha="left", va="center", color="#D55E00")
    ax.text(1.35, 2, "=", fontsize=16, ha="center", va="center")
    for k in range(steps):
        x = 2.2 + 1.3 * k
        t = f"t-{steps - 1 - k}" if k < steps - 1 else "t"
        t = t.replace("t-0", "t")
        _box(ax, (x, 1), f"$x_{{{t}}}$", "#cfe3f3")
        _box(ax, (x, 2), f"$h_{{{t}}}$", "#f6d8c6")
        _box(ax, (x, 3), f"$y_{{{t}}}$", "#cde9dd")
        _arrow(ax, (x, 1.22), (x, 1.78))
        _arrow(ax, (x, 2.22), (x, 2.78))
        if k < steps - 1:
            _arrow(ax, (x + 0.3, 2), (x + 1.0, 2), color="#D55E00")
            ax.text(x + 0.65, 2.12, "$W_{hh}$", ha="center", va="bottom", fontsize=8,
                    color="#D55E00")
    ax.text(2.2 - 0.65, 2.0, "$h_0$", ha="center", va="center")
    _arrow(ax, (2.2 - 0.5, 2), (2.2 - 0.3, 2), color="#D55E00")
    ax.set_xlim(-0.6, 2.2 + 1.3 * (steps - 1) + 0.5)
    ax.set_ylim(0.6, 3.4)
    return ax
