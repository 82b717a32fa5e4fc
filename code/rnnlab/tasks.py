"""Synthetic sequence tasks with known baselines (chapters 3, 4 and 6).

Every task is a function ``task(batch_size, length, *, generator) -> (x, y)`` that returns
batch-first float32 tensors on the CPU, drawn from a private ``torch.Generator`` (so the data of
a seed never depends on what ran before), with a function giving its chance baseline.

* Adding problem (Hochreiter & Schmidhuber 1997; Le et al. 2015): ``x`` is ``(B, T, 2)``, a row
  of values in U[0, 1] and a row of markers with exactly two ones; ``y`` is ``(B, 1)``, the sum
  of the two marked values. Predicting the mean, 1, gives MSE ``Var(u1 + u2) = 1/6``.
* Last marked value (chapter 7): the adding problem's inputs with one to three markers, all in
  the first half; ``y`` is the value at the *last* marker. Which marked value to keep depends
  on what comes later, so a model that adds up what it sees cannot do it; a gate that
  overwrites its memory at every marker can. A miniature of the selective copying task of Gu
  & Dao (2023). Predicting the mean, 1/2, gives MSE ``Var(U) = 1/12``.
* Copy memory (Arjovsky et al. 2016): ``x`` is ``(B, T + 20)`` integer symbols: 10 symbols
  from {1..8}, ``T - 1`` blanks (0), a cue (9), then 10 blanks; ``y`` is ``(B, T + 20)``: blanks,
  then the 10 symbols at the end. The memoryless baseline (blanks, then a uniform guess over
  the 8 symbols) has cross-entropy ``10 ln 8 / (T + 20)``.
* Temporal order (Hochreiter & Schmidhuber 1997): which of X/Y appear, in which order, at two
  random positions in a long sequence of distractors: 4 classes, chance accuracy 1/4. Its
  order-blind baseline is :class:`BagOfSymbols`, a linear classifier on symbol counts (chapter
  6); :func:`accuracy` scores any classifier.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_int, check_tensor
from .runtime import make_generator

__all__ = ["adding_problem", "adding_baseline_mse", "last_marked_value",
           "last_marked_baseline_mse", "copy_memory", "copy_memory_baseline",
           "temporal_order", "TEMPORAL_ORDER_CLASSES", "BagOfSymbols", "accuracy", "batches"]


def _generator(generator, seed):
    if generator is None:
        return make_generator(0 if seed is None else seed)
    return generator                                   # torch names one of another type


def adding_problem(batch_size: int, length: int, *, generator=None, seed: int | None = None):
    """A batch of the adding problem: ``x (B, T, 2)``, ``y (B, 1)``.

    The first marker falls in the first half of the sequence and the second in the second
    half, so the network must carry a value across about ``T/2`` steps at least.
    """
    B = check_int(batch_size, "batch_size", minimum=1)
    T = check_int(length, "length", minimum=2)
    g = _generator(generator, seed)
    values = torch.rand(B, T, generator=g)                                   # (B, T)
    first = torch.randint(0, T // 2, (B,), generator=g)                      # (B,)
    second = torch.randint(T // 2, T, (B,), generator=g)                     # (B,)
    markers = torch.zeros(B, T)
    rows = torch.arange(B)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = torch.stack([values, markers], dim=-1)                               # (B, T, 2)
    y = (values[rows, first] + values[rows, second]).unsqueeze(-1)           # (B, 1)
    return x, y


def adding_baseline_mse() -> float:
    """MSE of always predicting 1 (the mean of the target): Var(U1 + U2) = 2/12 = 1/6."""
    return 1.0 / 6.0


def last_marked_value(batch_size: int, length: int, *, generator=None, seed: int | None = None,
                      max_markers: int = 3):
    """A batch of the last-marked-value task: ``x (B, T, 2)``, ``y (B, 1)``.

    Values in U[0, 1] at every step; a number of markers drawn uniformly from
    ``1..max_markers``, at distinct positions in the first half; ``y`` is the value at the
    last marker, so the answer sits at least ``T/2`` steps before the end.
    """
    B = check_int(batch_size, "batch_size", minimum=1)
    T = check_int(length, "length", minimum=2)
    K = check_int(max_markers, "max_markers", minimum=1, maximum=T // 2)
    g = _generator(generator, seed)
    values = torch.rand(B, T, generator=g)                                   # (B, T)
    count = torch.randint(1, K + 1, (B,), generator=g)                       # (B,): 1..K
    where = torch.rand(B, T // 2, generator=g).argsort(dim=1)[:, :K]         # (B, K) distinct
    used = torch.arange(K) < count[:, None]                                  # (B, K)
    rows = torch.arange(B)
    markers = torch.zeros(B, T)
    markers[rows[:, None].expand(B, K)[used], where[used]] = 1.0
    last = torch.where(used, where, -1).max(dim=1).values                    # (B,)
    x = torch.stack([values, markers], dim=-1)                               # (B, T, 2)
    return x, values[rows, last].unsqueeze(-1)                               # (B, 1)


def last_marked_baseline_mse() -> float:
    """MSE of always predicting 1/2 (the mean of the target): Var(U) = 1/12."""
    return 1.0 / 12.0


COPY_SYMBOLS, COPY_LEN, COPY_BLANK, COPY_CUE = 8, 10, 0, 9


def copy_memory(batch_size: int, delay: int, *, generator=None, seed: int | None = None):
    """A batch of the copy-memory task with ``delay`` = T: ``x, y`` integer ``(B, T + 20)``.

    Inputs and targets are class indices in 0..9 (0 blank, 1..8 symbols, 9 cue); one-hot
    encode ``x`` with ``torch.nn.functional.one_hot(x, 10)``.
    """
    B = check_int(batch_size, "batch_size", minimum=1)
    T = check_int(delay, "delay", minimum=1)
    g = _generator(generator, seed)
    symbols = torch.randint(1, COPY_SYMBOLS + 1, (B, COPY_LEN), generator=g)  # (B, 10)
    total = T + 2 * COPY_LEN
    x = torch.full((B, total), COPY_BLANK, dtype=torch.long)
    x[:, :COPY_LEN] = symbols
    x[:, COPY_LEN + T - 1] = COPY_CUE
    y = torch.full((B, total), COPY_BLANK, dtype=torch.long)
    y[:, -COPY_LEN:] = symbols
    return x, y


def copy_memory_baseline(delay: int) -> float:
    """Cross-entropy per step of the memoryless strategy: ``10 ln 8 / (T + 20)``."""
    T = check_int(delay, "delay", minimum=1)
    return COPY_LEN * math.log(COPY_SYMBOLS) / (T + 2 * COPY_LEN)


TEMPORAL_ORDER_CLASSES = ("XX", "XY", "YX", "YY")


def temporal_order(batch_size: int, length: int, *, generator=None, seed: int | None = None,
                   n_distractors: int = 4):
    """Temporal-order problem: ``x (B, T, n_distractors + 2)`` one-hot, ``y (B,)`` in 0..3.

    Two relevant symbols (X or Y) sit at random positions, one in the first 10-20 % of the
    sequence and one in 50-60 %; every other step holds a random distractor. The class is the
    ordered pair (XX, XY, YX, YY), so the model must remember which symbol came first.
    """
    B = check_int(batch_size, "batch_size", minimum=1)
    T = check_int(length, "length", minimum=10)
    n = check_int(n_distractors, "n_distractors", minimum=1)
    g = _generator(generator, seed)
    symbols = torch.randint(0, n, (B, T), generator=g)                      # (B, T)
    t1 = torch.randint(T // 10, max(T // 5, T // 10 + 1), (B,), generator=g)
    t2 = torch.randint(T // 2, max(6 * T // 10, T // 2 + 1), (B,), generator=g)
    y = torch.randint(0, 4, (B,), generator=g)                                # (B,)
    rows = torch.arange(B)
    symbols[rows, t1] = n + y // 2      # X = n, Y = n + 1
    symbols[rows, t2] = n + y % 2
    x = torch.nn.functional.one_hot(symbols, n + 2).float()                  # (B, T, n + 2)
    return x, y


class BagOfSymbols(nn.Module):
    """Order-blind baseline: count each symbol over time, then a linear map to class scores.

    ``x (B, T, D)`` one-hot -> counts ``(B, D)`` -> scores ``(B, C)``. It sees *which* symbols
    occur and how often, never *where* or in what order.
    """

    def __init__(self, input_size: int, n_classes: int):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.readout = nn.Linear(input_size, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        counts = x.sum(dim=1)                     # (B, D)
        return self.readout(counts)               # (B, C)


@torch.no_grad()
def accuracy(scores: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of rows of ``scores (B, C)`` whose arg-max equals the label ``y (B,)``."""
    check_tensor(scores, "scores", ndim=2)
    check_tensor(y, "y", shape=(scores.shape[0],), floating=False)
    return float((scores.argmax(dim=1) == y.to(scores.device)).float().mean())


def batches(task, batch_size: int, length: int, *, seed: int = 0):
    """A ``batch_fn(step)`` for :func:`rnnlab.train.fit` that draws fresh batches of ``task``
    from one generator seeded with ``seed``; ``task`` checks ``batch_size`` and ``length``."""
    g = make_generator(seed)
    return lambda step: task(batch_size, length, generator=g)
