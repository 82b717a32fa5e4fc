"""Reproducibility and device selection (introduced in chapter 1).

Every chapter's setup cell calls :func:`seed_everything` and :func:`default_device`, so that
running a notebook twice gives the same numbers on the same machine, and the same notebook uses
a GPU when there is one, with no code change. :func:`best_times` (chapters 4 and 7) times
functions on this machine in a way that survives a busy machine: CPU time, one thread, best of
several rounds taken in turns; :func:`profiled_ops` (chapters 4 and 7) lists the operators
PyTorch runs, to see which kernel a layer dispatches to.
"""
from __future__ import annotations

import os
import random
import time
from collections.abc import Callable

import numpy as np
import torch

from ._validate import check_int

__all__ = ["seed_everything", "default_device", "make_generator", "best_times",
           "profiled_ops"]


def seed_everything(seed: int = 0, *, deterministic: bool = True) -> int:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) and return ``seed``.

    With ``deterministic=True`` PyTorch is asked for deterministic algorithms where they exist
    (``warn_only``: an operation without one warns instead of failing).
    """
    seed = check_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    return seed


def default_device() -> torch.device:
    """The device the chapters train on: CUDA when available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def make_generator(seed: int, device: torch.device | str | None = None) -> torch.Generator:
    """A private random generator, so data made by a task does not depend on what ran before."""
    seed = check_int(seed, "seed", minimum=0)
    gen = torch.Generator(device=device or "cpu")
    gen.manual_seed(seed)
    return gen


def best_times(fns: dict[str, Callable[[], object]], *, rounds: int = 3,
               inner: int = 1) -> dict[str, float]:
    """Best CPU time of one call of each function, in milliseconds (chapters 4 and 7).

    ``fns`` maps names to functions of no argument. Each runs once to warm up; then, ``rounds``
    times, the functions take turns, each running ``inner`` times in a row, and the best of the
    rounds' averages counts. The time is this process's CPU time (``time.process_time``) with
    PyTorch on one thread (restored afterwards): the work done, whatever else the machine runs,
    where wall time grows with the load. Taking turns exposes every function to the same
    changes of the machine. Compare the times as ratios within one call, never as absolutes.
    """
    rounds = check_int(rounds, "rounds", minimum=1)
    inner = check_int(inner, "inner", minimum=1)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for fn in fns.values():
            fn()                                                    # warm up
        best = dict.fromkeys(fns, float("inf"))
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.process_time()
                for _ in range(inner):
                    fn()
                best[name] = min(best[name], (time.process_time() - start) / inner)
    finally:
        torch.set_num_threads(threads)
    return {name: 1e3 * seconds for name, seconds in best.items()}


def profiled_ops(fn: Callable[[], object]) -> list[str]:
    """The names of the operators PyTorch runs while calling ``fn()``, in order, from its
    autograd profiler (``"aten::mm"``, ``"aten::mkldnn_rnn_layer"``, ...).

    Quietly: the profiler's back end (Kineto) prints ``USDT: ... profiler_start`` on stderr at
    every start and stop unless its log level is above 5, and it reads that level once, before
    its first use, so the level is set here (where it is unset) before profiling.
    """
    os.environ.setdefault("KINETO_LOG_LEVEL", "6")
    with torch.autograd.profiler.profile() as prof:
        fn()
    return [event.name for event in prof.function_events]
