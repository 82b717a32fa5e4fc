"""Gradient diagnostics for recurrent cells (chapter 3; reused in chapters 4 and 5).

Two views of the same quantity, both for any ``rnnlab`` cell (``cell(x_t, state) -> state``,
``cell.init_state(B)``, ``cell.hidden(state)``), or a layer or model that has a ``.cell``:

* :func:`hidden_grads` / :func:`hidden_grad_norms`: unroll the cell over a batch, keep every
  hidden state ``h_t`` in the graph, take a scalar loss of the last one and return
  ``dL/dh_t`` for ``t = 1..T``. Index ``T-1-k`` is the *lag* ``k`` (steps before the end), so
  ``norms / norms[-1]`` is the gradient that reaches ``k`` steps back, relative to the last
  step; :func:`grad_ratio_by_lag` returns that ratio indexed by the lag directly.
* :func:`step_jacobians` / :func:`jacobian_product` / :func:`jacobian_norms`: for one
  sequence, the per-step Jacobians ``ds_t/ds_{t-1}`` of the state and their products
  ``ds_T/ds_{T-k}``, the matrices whose norms bound the gradient in chapter 3.

For a gated cell whose state is a tuple (``(h, c)`` for the LSTM) the *state* ``s_t`` used by
the Jacobian functions is the concatenation of the tuple's parts, flattened in tuple order,
so ``S = 2H`` for the LSTM. ``cell.hidden(state)`` must return one of the state's own tensors
(the one the next step consumes); otherwise ``dL/dh_t`` would miss the paths through later
steps, and :func:`hidden_grads` refuses it.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._validate import check_choice, check_scalar, check_state, check_steps, check_tensor

__all__ = ["as_cell", "hidden_grads", "hidden_grad_norms", "grad_ratio_by_lag",
           "step_jacobians", "jacobian_product", "jacobian_norms"]

#: A loss of the last hidden state ``h_T`` ``(B, H)``, returning a scalar tensor.
LossFn = Callable[[torch.Tensor], torch.Tensor]


def as_cell(model) -> nn.Module:
    """The cell inside ``model``: the model itself if it is a cell, else ``model.cell``."""
    for candidate in (model, getattr(model, "cell", None)):
        if candidate is not None and all(hasattr(candidate, a)
                                         for a in ("init_state", "hidden", "input_size")):
            return candidate
    raise TypeError("expected an rnnlab cell (with init_state, hidden and input_size) or a "
                    f"layer/model with a .cell attribute, got {type(model).__name__}")


def _parts(state) -> tuple:
    return tuple(state) if isinstance(state, (tuple, list)) else (state,)


def _rebuild(parts: tuple, like):
    return type(like)(parts) if isinstance(like, (tuple, list)) else parts[0]


def _leaf_state(cell, x: torch.Tensor, state):
    """A state that requires grad, so every h_t is in the graph even with frozen weights."""
    if state is None:
        state = cell.init_state(x.shape[0], device=x.device, dtype=x.dtype)
    else:                                                 # the caller's: (B, H) or a tuple
        check_state(state, "state", x.shape[0], cell.hidden_size)
    parts = [s.detach().clone().requires_grad_(True) for s in _parts(state)]
    return _rebuild(tuple(parts), state)


def _check_x(cell, x):
    return check_steps(check_tensor(x, "x", shape=("B", "T", cell.input_size)), "x", batch=True)


def hidden_grads(model, x: torch.Tensor, *, state=None,
                 loss_fn: LossFn | None = None) -> torch.Tensor:
    """``dL/dh_t`` for ``t = 1..T`` as a tensor ``(B, T, H)``.

    ``x`` is ``(B, T, D)``; ``state`` the initial state (zeros by default); ``loss_fn`` maps
    the last hidden state ``h_T`` ``(B, H)`` to a scalar (default ``h_T.sum()``). Each entry is
    the *total* derivative: through ``h_T`` and through every later step. The weights'
    ``.grad`` are left untouched.
    """
    cell = as_cell(model)
    x = _check_x(cell, x)
    with torch.enable_grad():
        state = _leaf_state(cell, x, state)
        hs = []
        for x_t in x.unbind(1):                           # (B, D): step t
            state = cell(x_t, state)                      # (B, H) or a tuple of them
            hs.append(cell.hidden(state))                 # (B, H)
        if not any(hs[-1] is s for s in _parts(state)):   # checked once, after the loop
            raise ValueError("cell.hidden(state) must return one of the state's tensors "
                             "(the one the next step consumes), not a new tensor")
        loss = hs[-1].sum() if loss_fn is None else check_scalar(loss_fn(hs[-1]), "loss_fn(h_T)")
        grads = torch.autograd.grad(loss.reshape(()), hs, allow_unused=True)
    grads = [torch.zeros_like(h) if g is None else g for g, h in zip(grads, hs)]
    return torch.stack(grads, dim=1).detach()             # (B, T, H)


def hidden_grad_norms(model, x: torch.Tensor, *, state=None,
                      loss_fn: LossFn | None = None) -> torch.Tensor:
    """``||dL/dh_t||`` for ``t = 1..T``, shape ``(T,)``; index ``T-1-k`` is lag ``k``.

    The norm is the Frobenius norm of the ``(B, H)`` gradient, i.e. over the whole batch: with
    a loss that sums over sequences this is the root of the sum of squared per-sequence norms.
    See :func:`hidden_grads` for the arguments.
    """
    g = hidden_grads(model, x, state=state, loss_fn=loss_fn)   # (B, T, H)
    return torch.linalg.vector_norm(g, dim=(0, 2))              # (T,)


def grad_ratio_by_lag(model, x: torch.Tensor, *, state=None,
                      loss_fn: LossFn | None = None) -> torch.Tensor:
    """``||dL/dh_{T-k}|| / ||dL/dh_T||`` for lags ``k = 0..T-1``, shape ``(T,)``."""
    norms = hidden_grad_norms(model, x, state=state, loss_fn=loss_fn)  # (T,)
    if norms[-1] == 0:
        raise ValueError("dL/dh_T is zero, so the ratio by lag is undefined; change loss_fn")
    return (norms / norms[-1]).flip(0)                                  # (T,), index = lag


def _single(cell, x):
    if isinstance(x, torch.Tensor) and x.ndim == 2:
        x = x.unsqueeze(0)                                # (1, T, D)
    x = _check_x(cell, x)
    if x.shape[0] != 1:
        raise ValueError(f"Jacobians are computed for one sequence: x must be (T, D) or "
                         f"(1, T, D), got shape {tuple(x.shape)}")
    return x


def step_jacobians(model, x: torch.Tensor, *, state=None) -> torch.Tensor:
    """Per-step Jacobians ``ds_t/ds_{t-1}`` along one sequence, shape ``(T, S, S)``.

    ``x`` is ``(T, D)`` or ``(1, T, D)``; index ``t-1`` holds ``ds_t/ds_{t-1}`` (rows: ``s_t``,
    columns: ``s_{t-1}``), each evaluated on the trajectory that starts at ``state``.
    """
    cell = as_cell(model)
    x = _single(cell, x)
    state = _leaf_state(cell, x, state)
    template = state
    sizes = [s.shape[1] for s in _parts(state)]

    def step(x_t):
        def f(s_flat):                                    # (S,) -> (S,)
            parts = tuple(p.unsqueeze(0) for p in torch.split(s_flat, sizes))  # (1, H) each
            new = cell(x_t, _rebuild(parts, template))
            return torch.cat([p.reshape(-1) for p in _parts(new)])
        return f

    jacobians = []
    with torch.enable_grad():
        s_flat = torch.cat([p.detach().reshape(-1) for p in _parts(state)])  # (S,)
        for x_t in x.unbind(1):                           # (1, D): step t
            f = step(x_t)
            jacobians.append(torch.autograd.functional.jacobian(f, s_flat, vectorize=True))
            s_flat = f(s_flat).detach()                   # (S,)
    return torch.stack(jacobians).detach()                # (T, S, S)


def jacobian_product(model, x: torch.Tensor, *, state=None) -> torch.Tensor:
    """``ds_T/ds_{T-k}`` for lags ``k = 0..T`` along one sequence, shape ``(T+1, S, S)``.

    Index ``k`` holds the product of the last ``k`` step Jacobians,
    ``J_T J_{T-1} ... J_{T-k+1}`` (index 0 is the identity, index ``T`` is ``ds_T/ds_0``).
    """
    J = step_jacobians(model, x, state=state)             # (T, S, S)
    T, S = J.shape[0], J.shape[1]
    products = [torch.eye(S, dtype=J.dtype, device=J.device)]
    for k in range(1, T + 1):
        products.append(products[-1] @ J[T - k])          # (S, S)
    return torch.stack(products)                          # (T+1, S, S)


def jacobian_norms(model, x: torch.Tensor, *, state=None, ord: str = "spectral") -> torch.Tensor:
    """Norm of ``ds_T/ds_{T-k}`` for lags ``k = 0..T``, shape ``(T+1,)``.

    ``ord`` is ``"spectral"`` (largest singular value, the norm of the chapter's bound) or
    ``"fro"`` (Frobenius).
    """
    check_choice(ord, "ord", ["spectral", "fro"])
    P = jacobian_product(model, x, state=state)           # (T+1, S, S)
    return torch.linalg.matrix_norm(P, ord=2 if ord == "spectral" else "fro")  # (T+1,)
