"""Chapter 6's knob: the sampling temperature tau and the distribution a language model samples.

A temperature divides the scores of a trained model before the softmax,
``p_tau = softmax(z / tau)`` (chapter 6, eq-06-temperature). Nothing is retrained: every curve
here is computed from one model's log-probabilities (:func:`rnnlab.lm.next_log_probs`) and
every sample is drawn by :func:`rnnlab.lm.sample`.

* :func:`tempered_log_probs`: ``log p_tau`` from the log-probabilities at ``tau = 1``.
* :func:`sorted_probs_by_temperature`: at each ``tau``, the probability of the r-th likeliest
  next character, averaged over the positions of a text, with the model's own distribution
  (``tau = 1``) and the uniform guess as references; the slider figure's curves.
* :func:`mean_entropy`: the entropy of ``p_tau`` in nats, averaged over the positions.
* :func:`samples_by_temperature`: one sampled continuation per ``tau``, all drawn from the same
  seed, so neighbouring temperatures turn the same random numbers into text.
"""
from __future__ import annotations

import numpy as np
import torch

from .._validate import check_float, check_int, check_tensor
from ..lm import sample
from ..runtime import make_generator

__all__ = ["SERIES", "tempered_log_probs", "sorted_probs_by_temperature", "mean_entropy",
           "samples_by_temperature"]

#: The series of :func:`sorted_probs_by_temperature`: the curve that moves with tau, the model's
#: own distribution, the uniform guess.
SERIES = ("at this τ", "τ = 1: the model's own", "uniform guess, 1/V")


def tempered_log_probs(log_probs: torch.Tensor, temperature: float) -> torch.Tensor:
    """``log softmax(z / tau)`` from ``log_probs = log softmax(z)`` of shape ``(N, V)``.

    ``log softmax(z)`` differs from ``z`` by one constant per row, which the softmax ignores, so
    dividing the log-probabilities by ``tau`` is dividing the scores by ``tau``.
    """
    log_probs = check_tensor(log_probs, "log_probs", ndim=2)
    return _temper(log_probs, check_float(temperature, "temperature", minimum=0.0,
                                          strict_min=True))


def _temper(log_probs: torch.Tensor, tau: float) -> torch.Tensor:
    return torch.log_softmax(log_probs.double().cpu() / tau, dim=1)               # (N, V)


def _ranks(ranks, V: int) -> np.ndarray:
    if ranks is None:
        return np.arange(1, V + 1)
    r = np.asarray(ranks)
    if r.ndim != 1 or len(r) < 2 or not np.issubdtype(r.dtype, np.integer):
        raise TypeError(f"ranks must be a 1-D sequence of at least 2 ints, got {ranks!r:.60}")
    if r.min() < 1 or r.max() > V or np.any(np.diff(r) <= 0):
        raise ValueError(f"ranks must increase within 1..V = 1..{V} (1 = the likeliest), got "
                         f"{r.tolist()!s:.60}")
    return r


def sorted_probs_by_temperature(log_probs: torch.Tensor, temperatures, *,
                                ranks=None) -> dict:
    """``{tau: {series: (ranks, p)}}``: the probability of the r-th likeliest character at
    ``tau``, averaged over the ``N`` rows (positions) of ``log_probs (N, V)``.

    The series are :data:`SERIES`: at ``tau``; at ``tau = 1`` (the same at every ``tau``, a
    reference); the uniform ``1 / V`` (two points, a line). ``ranks`` (1 = the likeliest,
    default ``1..V``) picks the ranks drawn. Averages below the smallest positive double
    (ranks a low ``tau`` leaves nearly no probability) are reported as that number.
    """
    log_probs = check_tensor(log_probs, "log_probs", ndim=2)
    V = log_probs.shape[1]
    r = _ranks(ranks, V)
    ordered = log_probs.double().cpu().sort(dim=1, descending=True).values         # (N, V)
    tiny = torch.finfo(torch.float64).tiny

    def by_rank(tau):   # dividing by tau > 0 keeps the order: sort once, temper after
        p = _temper(ordered, tau).exp().mean(dim=0).clamp_min(tiny)                # (V,)
        return r, p[r - 1].numpy()

    own, uniform = by_rank(1.0), (np.array([1, V]), np.full(2, 1.0 / V))
    return {tau: dict(zip(SERIES, (by_rank(tau), own, uniform)))
            for tau in (check_float(t, "temperature", minimum=0.0, strict_min=True)
                        for t in temperatures)}


def mean_entropy(log_probs: torch.Tensor, temperature: float) -> float:
    """Entropy of ``p_tau`` in nats, ``-sum_c p_tau(c) ln p_tau(c)``, averaged over the rows."""
    log_p = tempered_log_probs(log_probs, temperature)                             # (N, V)
    return float(-(log_p.exp() * log_p).sum(dim=1).mean())


def samples_by_temperature(model, vocab, temperatures, *, n_chars: int, prime: str = "\n",
                           seed: int = 0) -> dict:
    """``{tau: text}``: ``n_chars`` characters sampled after ``prime`` at each ``tau``, every
    one with a generator seeded with ``seed`` (:func:`rnnlab.runtime.make_generator`)."""
    n_chars = check_int(n_chars, "n_chars", minimum=1)
    return {tau: sample(model, vocab, n_chars, prime=prime, temperature=tau,
                        generator=make_generator(seed)) for tau in temperatures}
