"""Experiments repeated over seeds, and their spread (chapters 1 to 7).

One training run is one draw: its initial weights and its batches come from one seed. A
comparison between methods in this course rests on several seeds, reported with their spread,
and its claim is asserted on a statistic that one lucky or unlucky seed cannot flip (the worst
seed of the winner against the best seed of the loser, or a count of paired wins):

    finals = seeds.run(lambda seed: train_and_test(seed), SEEDS)     # {seed: value}
    s = seeds.spread(finals)             # Spread(n=5, mean=..., std=..., min=..., max=...)
    seeds.table({"LSTM": a, "GRU": b})   # a Markdown table: mean ± std [min, max]
    seeds.wins(a, b)                     # seeds on which a < b (paired by seed)

Seeds are independent, so :func:`run` can train two of them at a time (``workers=2``), one per
CPU core: the chapters' networks are small, PyTorch runs them on one thread each, and the second
core of a laptop would otherwise sit idle. Each seed's result is the same as when it runs alone,
provided that the experiment draws from PyTorch's *global* generator (initial weights, dropout)
only inside ``with seeds.seeded(seed):``, which seeds that generator and keeps the other
threads away from it while the block runs; data comes from private generators
(:func:`rnnlab.runtime.make_generator`), which threads do not share.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from . import runtime
from ._validate import check_int

__all__ = ["SEEDS", "run", "seeded", "in_worker", "values", "Spread", "spread", "wins", "table"]

#: The seeds every multi-seed comparison of the course uses, unless a chapter says otherwise.
SEEDS = (0, 1, 2, 3, 4)


_GLOBAL_RNG = threading.RLock()         # held while a seeded block draws from torch's generator
_WORKER = threading.local()              # marks the threads of run(..., workers=n)


@contextmanager
def seeded(seed: int):
    """Seed the global generators with ``seed`` and hold them for the block.

    Build a model (or draw anything else from PyTorch's, NumPy's or Python's global generator)
    inside the block; under ``run(..., workers=n)`` no other seed's thread can reseed or draw
    from them meanwhile, so what the block draws depends on ``seed`` alone. The seeding is
    :func:`rnnlab.runtime.seed_everything`'s, so the block draws what it would draw after
    ``seed_everything(seed)``.
    """
    with _GLOBAL_RNG:
        runtime.seed_everything(seed)        # checks seed
        yield


def in_worker() -> bool:
    """True inside an experiment that :func:`run` runs on a worker thread (``workers > 1``);
    :func:`rnnlab.train.fit` then draws no progress bar, as several bars would interleave."""
    return getattr(_WORKER, "active", False)


def _as_worker(experiment):
    def call(seed):
        _WORKER.active = True
        try:
            return experiment(seed)
        finally:
            _WORKER.active = False
    return call


def run(experiment: Callable[[int], object], seeds: Iterable[int] = SEEDS, *,
        workers: int = 1) -> dict:
    """``{seed: experiment(seed)}`` for every seed, in the order of ``seeds``.

    ``workers=2`` runs two seeds at a time on two threads (PyTorch releases Python's lock while
    it computes, so two cores work at once): each result is the one the seed gives alone if
    ``experiment`` draws from PyTorch's global generator only inside :func:`seeded` (see the
    module's notes). An exception in any seed is raised here once the running seeds end.
    """
    seeds = list(seeds)                          # each one is checked where it seeds a draw
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    if not callable(experiment):
        raise TypeError(f"experiment must be a function of the seed, got "
                        f"{type(experiment).__name__}")
    workers = check_int(workers, "workers", minimum=1)
    if workers == 1 or len(seeds) == 1:
        return {seed: experiment(seed) for seed in seeds}
    with ThreadPoolExecutor(max_workers=min(workers, len(seeds)),
                            thread_name_prefix="seed") as pool:
        results = list(pool.map(_as_worker(experiment), seeds))
    return dict(zip(seeds, results))


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
