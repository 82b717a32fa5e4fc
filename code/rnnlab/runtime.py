"""Reproducibility and device selection (introduced in chapter 1).

Every chapter's setup cell calls :func:`seed_everything` and :func:`default_device`, so that
running a notebook twice gives the same numbers on the same machine, and the same notebook uses
a GPU when there is one, with no code change.
"""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from ._validate import check_int

__all__ = ["seed_everything", "default_device", "make_generator"]


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
