"""The learning-rate sweep behind chapter 7's payoff (issue 24: a fair comparison).

``python -m rnncourse.sweeps [--out chapters/payoff_sweep.json]`` trains every model of the
payoff on each of its tasks at every rate of :data:`RATES`, on the sweep's own seeds
(:data:`SWEEP_SEEDS`, not the chapter's 0-4) and scores it on a validation set of its own
(:data:`VALIDATION_SEED`, not the chapter's test set), with exactly the chapter's models and
budget (:data:`SETUP`). It records every validation MSE and, for each task and model, the
rate with the lowest mean over the seeds: the rate chapter 7 uses. ``tests/test_sweeps.py``
checks that the record's choices are its argmins, that the chapter uses them, and (slow) that
a rerun of the cheapest cell reproduces the record.

The payoff's models (:func:`make_model`) differ only in the recurrence: the same ReLU encoder
(32 units) and GELU read-out, with 32 real numbers of state: the LRU (16 complex units on
the ring chosen for the adding problem), the LSTM with the chrono initialisation for the
task's length (Tallec & Ollivier 2018), the minGRU with the same forget bias on its keep gate.
A second budget, :data:`LONG_STEPS`, asks how far the LSTM gets with more steps.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import torch

from rnnlab import linear_rnn, tasks, train

from .repo import find_root

__all__ = ["RATES", "SWEEP_SEEDS", "VALIDATION_SEED", "SETUP", "CELLS", "LONG_STEPS",
           "make_model", "run_cell", "sweep", "choose", "main"]

RATES = (0.003, 0.01, 0.03, 0.1)
SWEEP_SEEDS = (100, 101)
VALIDATION_SEED = 999
#: The chapter's budget and models (chapter 7 states the same numbers).
SETUP = {"hidden": 32, "state": 16, "batch_size": 32, "steps": 125, "clip_norm": 1.0,
         "n_validation": 512, "ring": {"r_min": 0.99, "r_max": 0.999, "max_phase": 0.03}}
TASKS = {"adding": (tasks.adding_problem, 100), "last marked": (tasks.last_marked_value, 100)}
#: (task, core) pairs the chapter compares.
CELLS = (("adding", "lru"), ("adding", "lstm"),
         ("last marked", "lru"), ("last marked", "mingru"), ("last marked", "lstm"))
LONG_STEPS, LONG_RATES = 500, (0.001, 0.003, 0.01)


def make_model(core: str, length: int, seed: int) -> torch.nn.Module:
    """The payoff's model with recurrence ``core`` for sequences of ``length`` steps."""
    torch.manual_seed(seed)
    options = ({**SETUP["ring"]} if core == "lru" else {"max_lag": length})
    return linear_rnn.LinearRNN(2, SETUP["hidden"], SETUP["state"], 1, core=core, seed=seed,
                                **options)


def run_cell(task: str, core: str, lr: float, seed: int, steps: int | None = None) -> float:
    """Validation MSE of one run: ``core`` trained on ``task`` at rate ``lr`` from ``seed``."""
    fn, T = TASKS[task]
    test = fn(SETUP["n_validation"], T, seed=VALIDATION_SEED)
    run = train.fit_adding(make_model(core, T, seed), T, seed=seed,
                           steps=steps or SETUP["steps"], batch_size=SETUP["batch_size"],
                           lr=lr, test=test, clip_norm=SETUP["clip_norm"], progress=False,
                           task=fn)
    return run["mse"]


def choose(by_rate: dict) -> str:
    """The rate (a key of ``by_rate``, ``{rate: [MSE per seed]}``) of lowest mean MSE."""
    return min(by_rate, key=lambda rate: statistics.fmean(by_rate[rate]))


def sweep(log=print) -> dict:
    """Every cell at every rate and seed; the long budget for the LSTM on the adding problem."""
    torch.set_num_threads(1)
    record = {"setup": SETUP, "tasks": {k: {"task": fn.__name__, "length": T}
                                       for k, (fn, T) in TASKS.items()},
              "rates": list(RATES), "seeds": list(SWEEP_SEEDS),
              "validation_seed": VALIDATION_SEED, "mse": {}, "chosen": {},
              "long": {"steps": LONG_STEPS, "task": "adding", "core": "lstm", "mse": {}}}
    for task, core in CELLS:
        by_rate = {}
        for lr in RATES:
            start = time.perf_counter()
            by_rate[str(lr)] = [run_cell(task, core, lr, seed) for seed in SWEEP_SEEDS]
            log(f"{task:12s} {core:7s} lr={lr:<6} MSE {by_rate[str(lr)]} "
                f"({time.perf_counter() - start:.1f} s)")
        record["mse"].setdefault(task, {})[core] = by_rate
        record["chosen"].setdefault(task, {})[core] = float(choose(by_rate))
    for lr in LONG_RATES:
        record["long"]["mse"][str(lr)] = [run_cell("adding", "lstm", lr, seed, LONG_STEPS)
                                          for seed in SWEEP_SEEDS]
        log(f"adding       lstm    lr={lr:<6} {LONG_STEPS} steps MSE "
            f"{record['long']['mse'][str(lr)]}")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write the record (default chapters/payoff_sweep.json)")
    args = parser.parse_args(argv)
    out = args.out or find_root() / "chapters" / "payoff_sweep.json"
    record = sweep()
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
