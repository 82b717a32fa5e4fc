"""Figures a reader can move: curves precomputed over a grid of one knob, and a slider (issue 26).

A chapter's argument often turns on one knob (the spectral radius, the forget-gate bias, the
initialisation gain, the truncation window, the ring radius, the temperature). The chapter
computes its curves at every value of a grid of that knob with the package's own functions and
hands them to :func:`slider_figure`; what the reader then moves through is what the code
measured, nothing interpolated.

The result displays as a MIME bundle that every front end understands in its own way:

* ``application/vnd.vegalite.v5+json``: a Vega-Lite spec with the table of curves inline and a
  range slider bound to the knob. JupyterLab and Notebook 7 draw it with the Vega renderer they
  ship (no kernel, no network); the book draws it with the Vega bundles it serves itself
  (``rnncourse.interactive``);
* ``image/png``: the same curves at the default knob value, drawn with Matplotlib, for the PDF
  and for front ends without a Vega renderer;
* ``text/plain``: one line saying what the figure is.

The table keeps four significant digits of each value (the figure needs no more, and a page
stays light); :meth:`SliderFigure.curve` returns the rounded numbers the reader sees.
"""
from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass

import numpy as np

from ._validate import check_float, check_instance, check_int

__all__ = ["VEGALITE_MIME", "SliderFigure", "slider_figure"]

#: The MIME type of a Vega-Lite 5 spec (JupyterLab's built-in Vega renderer reads it).
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
_DIGITS = 4
#: The plot's width in pixels in a notebook client (the book fits it to its column).
WIDTH = 520


def _round(v: float) -> float:
    """``v`` to :data:`_DIGITS` significant digits (0 stays 0)."""
    return float(f"{v:.{_DIGITS - 1}e}")


def _as_curve(name: str, curve) -> tuple[np.ndarray, np.ndarray]:
    if not (isinstance(curve, tuple) and len(curve) == 2):
        raise TypeError(f"{name} must be a pair (x, y) of 1-D sequences, got "
                        f"{type(curve).__name__}")
    x, y = (np.asarray(c, dtype=float) for c in curve)
    if x.ndim != 1 or y.shape != x.shape or len(x) < 2:
        raise ValueError(f"{name} must be two 1-D sequences of one length >= 2, got shapes "
                         f"{x.shape} and {y.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ValueError(f"{name} has values that are not finite (NaN or inf); clip or drop "
                         "them before plotting")
    return x, y


@dataclass(frozen=True)
class SliderFigure:
    """Curves at each value of a knob; displays as a Vega-Lite figure with a slider.

    Build it with :func:`slider_figure`. ``rows`` is the table the figure draws:
    one dict ``{"k": knob, "s": series, "x": x, "y": y}`` per point.
    """

    rows: tuple
    knob: str
    knobs: tuple
    value: float
    series: tuple
    dashed: tuple
    x_title: str
    y_title: str
    log_x: bool
    log_y: bool
    title: str
    alt: str
    notes: tuple
    height: int
    y_range: tuple | None = None

    def curve(self, knob: float, series: str) -> tuple[np.ndarray, np.ndarray]:
        """The (x, y) the figure draws for ``series`` when the slider is at ``knob``."""
        knob = check_float(knob, "knob")
        i = int(np.argmin([abs(k - knob) for k in self.knobs]))
        if not math.isclose(self.knobs[i], knob, rel_tol=1e-9, abs_tol=1e-12):
            raise ValueError(f"knob must be one of the grid's values {list(self.knobs)}, "
                             f"got {knob}")
        if series not in self.series:
            raise ValueError(f"series must be one of {list(self.series)}, got {series!r}")
        pts = [(r["x"], r["y"]) for r in self.rows if r["k"] == self.knobs[i] and r["s"] == series]
        x, y = (np.array(c, dtype=float) for c in zip(*pts))
        return x, y

    # -- the Vega-Lite spec ------------------------------------------------------------------
    def spec(self) -> dict:
        """The Vega-Lite 5 spec: data inline, one slider, fixed axes so the curves move."""
        from .plot import COLORS

        # To 12 digits: a float error in the step (1.5 - 0.5 in 20 steps gives 0.05000000000000004)
        # stops a range input at the last whole step below the grid's end (1.45, not 1.5).
        step = float(f"{self.knobs[1] - self.knobs[0]:.12g}")
        ys = [r["y"] for r in self.rows]
        xs = [r["x"] for r in self.rows]
        colors = [COLORS[i % len(COLORS)] for i in range(len(self.series))]
        x_enc = {"field": "x", "type": "quantitative", "title": self.x_title,
                 "scale": {"type": "log" if self.log_x else "linear",
                           "domain": [min(xs), max(xs)], "nice": False}}
        y_enc = {"field": "y", "type": "quantitative", "title": self.y_title,
                 "scale": {"type": "log" if self.log_y else "linear",
                           "domain": list(self.y_range or (min(ys), max(ys)))}}
        lines = {
            "mark": {"type": "line", "clip": True, "strokeWidth": 2},
            "transform": [{"filter": f"abs(datum.k - knob) < {step / 2!r}"}],
            "encoding": {
                "x": x_enc, "y": y_enc,
                "color": {"field": "s", "type": "nominal", "title": None,
                          "scale": {"domain": list(self.series), "range": colors},
                          "legend": {"orient": "bottom"}},
                "strokeDash": {"field": "s", "type": "nominal", "legend": None,
                               "scale": {"domain": list(self.series),
                                         "range": [[5, 3] if s in self.dashed else [1, 0]
                                                   for s in self.series]}},
            },
        }
        layers = [lines]
        if self.notes:
            layers.append({
                "data": {"values": [{"k": k, "note": n} for k, n in self.notes]},
                "transform": [{"filter": f"abs(datum.k - knob) < {step / 2!r}"}],
                "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 12,
                         "lineBreak": "\n"},
                "encoding": {"text": {"field": "note"}, "x": {"value": 4}, "y": {"value": 4}},
            })
        return {
            "$schema": _SCHEMA,
            "description": self.alt,
            "title": self.title,
            # a fixed width: JupyterLab gives a "container" width no room (the plot collapses);
            # the book makes the figure fit its text column (rnncourse.interactive)
            "width": WIDTH, "height": self.height,
            "data": {"values": list(self.rows)},
            "params": [{"name": "knob", "value": self.value,
                        "bind": {"input": "range", "min": self.knobs[0], "max": self.knobs[-1],
                                 "step": step, "name": f"{self.knob} "}}],
            "layer": layers,
        }

    # -- the static view ---------------------------------------------------------------------
    def draw(self, ax=None, knob: float | None = None):
        """Draw the curves at ``knob`` (default: the figure's default value) with Matplotlib."""
        import matplotlib.pyplot as plt

        from .plot import COLORS

        knob = self.value if knob is None else knob
        ax = ax or plt.subplots()[1]
        for i, s in enumerate(self.series):
            x, y = self.curve(knob, s)
            ax.plot(x, y, color=COLORS[i % len(COLORS)], label=s,
                    ls="--" if s in self.dashed else "-")
        note = dict(self.notes).get(min(self.knobs, key=lambda k: abs(k - knob)))
        if note:                                 # the figure's line of text, as the slider shows
            ax.text(0.01, 0.99, note, transform=ax.transAxes, ha="left", va="top", fontsize=8)
        ax.set(xlabel=self.x_title, ylabel=self.y_title,
               title=f"{self.title} ({self.knob} = {knob:g})" if self.title else None)
        if self.log_x:
            ax.set_xscale("log")
        if self.log_y:
            ax.set_yscale("log")
        if self.y_range:
            ax.set_ylim(*self.y_range)
        ax.legend()
        return ax

    def _png(self) -> str:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        self.draw(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        plt.close(fig)
        return base64.b64encode(buf.getvalue()).decode("ascii")

    def _repr_mimebundle_(self, include=None, exclude=None):
        text = (f"<interactive figure: {self.title or self.y_title}; a slider moves "
                f"{self.knob} over {len(self.knobs)} values from {self.knobs[0]:g} to "
                f"{self.knobs[-1]:g}>")
        return {VEGALITE_MIME: self.spec(), "image/png": self._png(), "text/plain": text}


def slider_figure(curves: dict, *, knob: str, x: str, y: str, value: float | None = None,
                  log_x: bool = False, log_y: bool = False, dashed=(), title: str = "",
                  alt: str, notes: dict | None = None, y_range=None,
                  height: int = 260) -> SliderFigure:
    """A figure of the curves ``curves[k]`` with a slider over the knob values ``k``.

    ``curves`` maps each knob value of an evenly spaced grid (at least 2) to a dict
    ``{series name: (x, y)}``; every knob value has the same series. ``knob``, ``x``, ``y`` are
    the slider's and the axes' titles; ``value`` the slider's start (a grid value; default the
    grid's middle). Series named in ``dashed`` are drawn dashed (bounds, references).
    ``notes`` maps knob values to a line of text shown in the plot (a sampled string, a
    measured horizon). ``alt`` is the text a screen reader reads: say what moves and what to
    look for. ``y_range`` fixes the y axis to ``(low, high)`` (points outside are clipped);
    by default it spans every curve at every knob value, so the axes never move with the slider.
    """
    check_instance(curves, "curves", dict)
    for name in ("knob", "x", "y", "title", "alt"):
        check_instance(locals()[name], name, str)
    if not alt.strip():
        raise ValueError("alt must describe the figure for a reader who cannot see it, got ''")
    height = check_int(height, "height", minimum=80)
    if len(curves) < 2:
        raise ValueError(f"curves must have at least 2 knob values, got {len(curves)}")
    knobs = sorted(check_float(k, "a knob value of curves") for k in curves)
    step = knobs[1] - knobs[0]
    if step <= 0 or not np.allclose(np.diff(knobs), step, rtol=1e-6, atol=0):
        raise ValueError(f"the knob values of curves must be evenly spaced (the slider moves "
                         f"in equal steps), got {knobs}")
    by_knob = {float(k): v for k, v in curves.items()}
    series = None
    rows = []
    for k in knobs:
        check_instance(by_knob[k], f"curves[{k:g}]", dict)
        names = tuple(by_knob[k])
        if series is None:
            series = names
        if set(names) != set(series) or not names:
            raise ValueError(f"every knob value must have the same series; curves[{knobs[0]:g}] "
                             f"has {list(series)}, curves[{k:g}] has {list(names)}")
        for s in series:
            cx, cy = _as_curve(f"curves[{k:g}][{s!r}]", by_knob[k][s])
            if log_y and np.any(cy <= 0):
                raise ValueError(f"log_y needs positive values; curves[{k:g}][{s!r}] has "
                                 f"min {cy.min():g}")
            if log_x and np.any(cx <= 0):
                raise ValueError(f"log_x needs positive x; curves[{k:g}][{s!r}] has "
                                 f"min {cx.min():g}")
            rows += [{"k": _round(k), "s": s, "x": _round(xi), "y": _round(yi)}
                     for xi, yi in zip(cx, cy)]
    unknown = set(dashed) - set(series)
    if unknown:
        raise ValueError(f"dashed names series that are not in curves: {sorted(unknown)}; "
                         f"the series are {list(series)}")
    value = knobs[len(knobs) // 2] if value is None else check_float(value, "value")
    if not any(math.isclose(value, k, rel_tol=1e-9, abs_tol=1e-12) for k in knobs):
        raise ValueError(f"value must be one of the knob values {knobs}, got {value}")
    if y_range is not None:
        if not (isinstance(y_range, tuple) and len(y_range) == 2):
            raise TypeError(f"y_range must be a pair (low, high), got {y_range!r}")
        y_range = tuple(check_float(v, "y_range") for v in y_range)
        if not y_range[0] < y_range[1] or (log_y and y_range[0] <= 0):
            raise ValueError(f"y_range must be (low, high) with low < high"
                             f"{' and low > 0 (log_y)' if log_y else ''}, got {y_range}")
    note_rows = ()
    if notes is not None:
        check_instance(notes, "notes", dict)
        missing = [k for k in knobs if not any(math.isclose(float(n), k, rel_tol=1e-9)
                                               for n in notes)]
        if missing:
            raise ValueError(f"notes must have a line for every knob value; missing {missing}")
        note_rows = tuple((_round(float(k)), str(n)) for k, n in sorted(notes.items()))
    return SliderFigure(
        rows=tuple(rows), knob=knob, knobs=tuple(_round(k) for k in knobs), value=_round(value),
        series=series, dashed=tuple(dashed), x_title=x, y_title=y, log_x=bool(log_x),
        log_y=bool(log_y), title=title, alt=alt, notes=note_rows, height=height,
        y_range=y_range)
