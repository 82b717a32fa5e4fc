"""The linear recurrence ``h_t = a_t * h_{t-1} + b_t`` computed two ways (chapter 7).

Elementwise products, real or complex tensors, batch-first: ``a`` and ``b`` are ``(B, T, N)``
(``a`` may also be ``(N,)`` or ``(T, N)``: the same factors for every sequence), the result
``h`` is ``(B, T, N)`` with ``h_{-1} = h0`` (zero by default).

* :func:`recurrence_loop` runs the recurrence one step after another: ``T`` sequential steps.
* :func:`recurrence_scan` uses that the step is an *associative* operation on pairs
  ``(a, b)`` (the affine map ``h -> a h + b``; composing two such maps gives another),
  so it can be evaluated as a parallel prefix scan (Blelloch 1990; Martin & Cundy 2018):
  pairs of neighbouring steps are combined into one step of a sequence half as long, that
  sequence is scanned the same way, and the steps in between are filled in. The recursion
  is ``ceil(log2 T)`` levels deep and every level is a few whole-tensor operations, so the
  number of *sequential* operations grows like ``log T`` instead of ``T``; the total work
  stays ``O(T)``.
* :func:`recurrence_reduce` returns only the last state ``h_(T-1)``: the first half of the
  scan alone (pairs combined level after level, nothing filled in), a parallel *reduction*
  with about half the scan's work, for models that read only the end of the sequence.
* :func:`combine` is the associative operator itself, ``(a1, b1) then (a2, b2)``: the one
  place where two steps become one, in the scan and in the reduction.

The three recurrence functions accept the same arguments, checked once when they are called.
"""
from __future__ import annotations

import torch

from ._validate import check_steps, check_tensor, describe

__all__ = ["combine", "recurrence_loop", "recurrence_scan", "recurrence_reduce"]


def combine(first: tuple, second: tuple) -> tuple:
    """The affine step ``first`` followed by ``second``: ``h -> a2 (a1 h + b1) + b2``, as the
    pair ``(a1 a2, a2 b1 + b2)``. It is associative, not commutative. The ``b`` part keeps
    ``b``'s dtype (the scan may hold ``a`` in double precision)."""
    _check_pairs(first, second)
    (a1, b1), (a2, b2) = first, second
    return a1 * a2, a2.to(b2.dtype) * b1 + b2


def _check_pairs(first, second):
    """Each argument of :func:`combine` is a pair ``(a, b)`` of tensors, and a complex ``a``
    needs a complex ``b`` (cast to ``b``'s dtype, it would lose its imaginary part). Two cheap
    tests, once a level of the scan; PyTorch checks the shapes."""
    for name, pair in (("first", first), ("second", second)):
        if not (isinstance(pair, tuple) and len(pair) == 2
                and all(isinstance(t, torch.Tensor) for t in pair)):
            raise TypeError(f"{name} must be a pair (a, b) of torch tensors, got {describe(pair)}")
    if second[0].is_complex() and not second[1].is_complex():
        raise TypeError(f"b must be complex when a is complex, got {describe(second[1])}")


_SINGLE = (torch.float32, torch.complex64, torch.float16, torch.bfloat16)


def _steps(a, b, h0, *, double_powers=False):
    """Check the arguments; return ``a`` as ``(1, 1, N)`` (the same at every step), ``(1, T, N)``
    or ``(B, T, N)``, and ``b`` ``(B, T, N)`` with ``h0`` folded into ``b_0`` (``a_0 h0 + b_0``).
    ``double_powers``: a time-invariant ``a`` in double precision (see the scan)."""
    check_steps(check_tensor(b, "b", shape=("B", "T", "N"), allow_complex=True), "b")
    Bn, T, N = b.shape
    check_tensor(a, "a", allow_complex=True)
    if tuple(a.shape) not in ((N,), (T, N), (Bn, T, N)):
        raise ValueError(f"a must have shape (N,) = ({N},), (T, N) = ({T}, {N}) or (B, T, N) = "
                         f"({Bn}, {T}, {N}) to match b, got {describe(a)}")
    if a.is_complex() and not b.is_complex():
        raise TypeError(f"b must be complex when a is complex, got {describe(b)}")
    a = a.reshape(1, -1, N) if a.ndim < 3 else a             # (1, 1, N) or (1, T, N): shared
    if h0 is not None:
        check_tensor(h0, "h0", shape=(Bn, N), allow_complex=True)
        b = torch.cat([b[:, :1] + a[:, :1] * h0.unsqueeze(1), b[:, 1:]], dim=1)  # h0 into b_0
    if double_powers and a.shape[1] == 1 and b.dtype in _SINGLE:
        a = a.to(torch.complex128 if a.is_complex() else torch.float64)   # (1, 1, N)
    return a, b


def recurrence_loop(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None):
    """``h_t = a_t * h_{t-1} + b_t`` for ``t = 0..T-1``, one step at a time: ``(B, T, N)``."""
    a, b = _steps(a, b, h0)
    a_steps = a.expand(-1, b.shape[1], -1).unbind(1)         # T tensors (1 or B, N)
    b_steps = b.unbind(1)                                    # T tensors (B, N)
    h = b_steps[0]                                           # (B, N): h_0 = b_0 (h0 folded in)
    hs = [h]
    for a_t, b_t in zip(a_steps[1:], b_steps[1:]):
        h = a_t * h + b_t                                    # (B, N)
        hs.append(h)
    return torch.stack(hs, dim=1)                            # (B, T, N)


def _pairs(x: torch.Tensor, pad: float) -> tuple:
    """Steps ``0, 2, 4, ...`` and ``1, 3, 5, ...`` of ``x (B, T, N)``; an odd ``T`` is padded
    with one step of value ``pad`` (the identity step ``a = 1, b = 0``)."""
    if x.shape[1] % 2:
        x = torch.cat([x, torch.full_like(x[:, :1], pad)], dim=1)   # (B, T + 1, N)
    return x.unflatten(1, (-1, 2)).unbind(2)                 # (B, ceil(T/2), N) each


def _scan(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """The prefix scan of checked tensors, with ``h_{-1} = 0``: ``(B, T, N)``."""
    T = b.shape[1]
    if T == 1:
        return b
    a_even, a_odd = (a, a) if a.shape[1] == 1 else _pairs(a, 1.0)   # a (1, 1, N): a_t = a
    b_even, b_odd = _pairs(b, 0.0)                           # (B, ceil(T/2), N) each
    a_pair, b_pair = combine((a_even, b_even), (a_odd, b_odd))   # steps 2i, 2i + 1 as one
    h_odd = _scan(a_pair, b_pair)                            # (B, ceil(T/2), N): h_1, h_3, ...
    h_before = torch.cat([torch.zeros_like(h_odd[:, :1]), h_odd[:, :-1]], dim=1)  # h_{2i-1}
    h_even = a_even.to(b.dtype) * h_before + b_even          # (B, ceil(T/2), N): h_0, h_2, ...
    h = torch.stack([h_even, h_odd], dim=2).flatten(1, 2)    # (B, 2 ceil(T/2), N), interleaved
    return h[:, :T]                                          # (B, T, N)


def recurrence_scan(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None):
    """The same ``h`` as :func:`recurrence_loop`, by a parallel prefix scan: ``(B, T, N)``.

    Level by level: step ``2i`` and step ``2i + 1`` combine into one step (:func:`combine`),
    the sequence of ``T // 2`` combined steps is scanned recursively, which gives ``h`` at the
    odd steps, and each even step is one more step from the odd one before it.

    When ``a`` is the same at every step (shape ``(N,)``), level ``k`` multiplies by
    ``a**(2**k)``, computed by squaring; squaring doubles a relative error at every level, so
    these few numbers are kept in double precision (float32 ``b`` stays float32).
    """
    return _scan(*_steps(a, b, h0, double_powers=True))


def recurrence_reduce(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None):
    """The last state ``h_(T-1)`` of :func:`recurrence_loop`, ``(B, N)``, by pairing steps
    level after level until one step is left. An odd length gets one step ``(1, 0)`` in
    front: it maps the zero state before the sequence to zero, so it changes nothing."""
    a, b = _steps(a, b, h0, double_powers=True)
    while b.shape[1] > 1:
        if b.shape[1] % 2:                                   # an odd length: pad in front
            b = torch.cat([torch.zeros_like(b[:, :1]), b], dim=1)         # (B, T + 1, N)
            if a.shape[1] > 1:
                a = torch.cat([torch.ones_like(a[:, :1]), a], dim=1)
        a_even, a_odd = (a, a) if a.shape[1] == 1 else a.unflatten(1, (-1, 2)).unbind(2)
        b_even, b_odd = b.unflatten(1, (-1, 2)).unbind(2)  # (B, T/2, N) each
        a, b = combine((a_even, b_even), (a_odd, b_odd))   # each pair of steps as one
    return b[:, 0]                                           # (B, N)
