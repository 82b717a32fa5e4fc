"""Experiments repeated over seeds, and their spread (chapters 1 to 7).

One training run is one draw: its initial weights and its batches come from one seed. A
comparison between methods in this course rests on several seeds, reported with their spread,
and its claim is asserted on a statistic that one lucky or unlucky seed cannot flip (the worst
seed of the winner against the best seed of the loser, or a count of paired wins):

    finals = seeds.run(lambda seed: train_and_test(seed), SEEDS)     # {seed: value}
    s = seeds.spread(finals)             # Spread(n=5, mean=..., std=..., min=..., max=...)
    seeds.table({"LSTM": a, "GRU": b})   # a Markdown table: mean ± std [min, max]
    seeds.wins(a, b)                     # seeds on which a < b (paired by seed)
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

__all__ = ["SEEDS", "run", "values", "Spread", "spread", "wins", "table"]

#: The seeds every multi-seed comparison of the course uses, unless a chapter says otherwise.
SEEDS = (0, 1, 2, 3, 4)


def run(experiment: Callable[[int], object], seeds: Iterable[int] = SEEDS) -> dict:
    """``{seed: experiment(seed)}`` for every seed, in order."""
    seeds = list(seeds)                          # each one is checked where it seeds a draw
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    return {seed: experiment(seed) for seed in seeds}


def values(results) -> np.ndarray:
    """The numbers of ``results`` (a ``{seed: number}`` dict, or a sequence) as a float array."""
    if isinstance(results, dict):
        results = list(results.values())
    out = np.asarray(results, dtype=float)       # NumPy names what is not a number
    if out.ndim != 1 or out.size == 0:
        raise ValueError(f"results must be a non-empty 1-D collection, got shape {out.shape}")
    return out


@dataclass(frozen=True)
class Spread:
    """Mean, standard deviation (with ``n - 1``), minimum and maximum over ``n`` seeds."""
    n: int
    mean: float
    std: float
    min: float
    max: float

    def format(self, fmt: str = ".3g") -> str:
        return (f"{self.mean:{fmt}} ± {self.std:{fmt}} "
                f"[{self.min:{fmt}}, {self.max:{fmt}}]")

    def __str__(self) -> str:
        return self.format()


def spread(results) -> Spread:
    """The :class:`Spread` of one number per seed."""
    v = values(results)
    return Spread(n=len(v), mean=float(v.mean()), std=float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                  min=float(v.min()), max=float(v.max()))


def wins(a, b) -> int:
    """On how many seeds ``a`` is below ``b`` (results paired by position or by seed)."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            raise ValueError(f"a and b must have the same seeds, got {sorted(a)} and {sorted(b)}")
        b = {k: b[k] for k in a}
    va, vb = values(a), values(b)
    if va.shape != vb.shape:
        raise ValueError(f"a and b must hold one value per seed each, got {len(va)} and {len(vb)}")
    return int(np.sum(va < vb))


def table(rows: dict, *, fmt: str = ".3g", header: str = "value") -> str:
    """A Markdown table with one row per method: ``mean ± std [min, max]`` over its seeds."""
    lines = [f"| | {header}: mean ± std [min, max] | seeds |", "|---|---|---|"]
    for name, results in rows.items():
        s = spread(results)
        lines.append(f"| {name} | {s.format(fmt)} | {s.n} |")
    return "\n".join(lines)
