"""The training loop every chapter uses (introduced in chapter 1).

:func:`fit` is deliberately plain: a fixed number of optimisation *steps* (not epochs, not
seconds, so results do not depend on the machine's speed), a batch function that makes data,
gradient clipping as a visible argument, and a history of the loss and of the gradient norm
before clipping. It draws nothing; the chapters plot the history.

:func:`fit_together` (chapter 5) trains several networks of one architecture, one per seed,
in one vectorised call (``torch.func.vmap`` over their stacked parameters): each network gets
exactly its own gradient and its own clipping, so it follows the trajectory it would follow
alone, up to rounding; :func:`one_of` gives one of them back as an ordinary module.

:func:`fit_adding` (chapters 3 and 7) is one seeded run of :func:`fit` on the adding problem,
scored on a fixed test set; :func:`fit_adding_together` (chapter 7) is the same for several
seeds at once, through :func:`fit_together`.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable

import torch
from torch import nn
from tqdm import tqdm

from . import seeds, tasks
from ._validate import (
    check_choice,
    check_float,
    check_int,
    check_scalar,
    check_tensor,
)

__all__ = ["fit", "fit_adding", "fit_adding_together", "fit_together", "one_of",
           "global_grad_norm", "make_optimizer", "optimizer_step", "check_clip_norm",
           "show_progress", "clip_each_", "OPTIMIZERS"]

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD, "rmsprop": torch.optim.RMSprop}


def global_grad_norm(parameters) -> float:
    """The Euclidean norm of all gradients together (as ``clip_grad_norm_`` computes it), for a
    model or an iterable of parameters."""
    if isinstance(parameters, nn.Module):
        parameters = parameters.parameters()
    if isinstance(parameters, torch.Tensor) or not isinstance(parameters, Iterable):
        raise TypeError("parameters must be a model or an iterable of parameters, got "
                        f"{type(parameters).__name__}")
    parameters = list(parameters)
    grads = [p.grad.detach().flatten() for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.cat(grads)))


def make_optimizer(model: nn.Module, optimizer: str = "adam", lr: float = 1e-2):
    """Check ``model``, ``optimizer`` (a name in :data:`OPTIMIZERS`) and ``lr``; build the
    optimiser."""
    if not isinstance(model, nn.Module) or not any(True for _ in model.parameters()):
        raise TypeError("model must be a torch.nn.Module with parameters, got "
                        f"{type(model).__name__}")
    lr = check_float(lr, "lr", minimum=0.0, strict_min=True)
    check_choice(optimizer, "optimizer", list(OPTIMIZERS))
    # foreach: one call updates every parameter (the CPU default loops over them in Python);
    # the arithmetic is the same, and it leaves Python's lock free for seeds.run's other thread
    return OPTIMIZERS[optimizer](model.parameters(), lr=lr, foreach=True)


def optimizer_step(model: nn.Module, opt, loss: torch.Tensor, *, clip_norm: float | None = None,
                   step: int | None = None) -> float:
    """One update: backpropagate ``loss``, clip the global gradient norm to ``clip_norm`` (if
    given) and step ``opt``. Returns the gradient norm *before* clipping."""
    check_scalar(loss, "loss")
    if not torch.isfinite(loss):
        where = "" if step is None else f" at step {step}"
        raise FloatingPointError(f"loss became {loss.item()}{where}; lower lr or clip")
    opt.zero_grad(set_to_none=True)
    loss.backward()
    if clip_norm is not None:
        norm = float(nn.utils.clip_grad_norm_(model.parameters(), clip_norm))
    else:
        norm = global_grad_norm(model.parameters())
    opt.step()
    return norm


def show_progress(progress: bool | None) -> bool:
    """Whether a training loop draws a progress bar: ``progress`` when given; by default yes,
    except inside ``seeds.run(..., workers=n)``, where the bars of several seeds would
    interleave."""
    return not seeds.in_worker() if progress is None else bool(progress)


def check_clip_norm(clip_norm):
    """``None`` (no clipping) or a positive number."""
    return None if clip_norm is None else check_float(clip_norm, "clip_norm", minimum=0.0,
                                                      strict_min=True)


def fit(model: nn.Module, batch_fn: Callable[[int], tuple], loss_fn: Callable, *, steps: int,
        lr: float = 1e-2, optimizer: str = "adam", clip_norm: float | None = None,
        device: torch.device | str | None = None, progress: bool | None = None,
        desc: str = "training", callback: Callable[[int, dict], None] | None = None) -> dict:
    """Train ``model`` for ``steps`` optimisation steps and return its history.

    ``batch_fn(step) -> (x, y)`` makes the data of one step; ``loss_fn(model(x), y)`` is a scalar.
    ``clip_norm`` rescales the gradient so its global norm is at most that value (``None``: no
    clipping). The history has lists ``"step"``, ``"loss"`` and ``"grad_norm"`` (the norm before
    clipping), one entry per step. ``callback(step, history)`` runs after each step; when it
    returns ``True`` training stops there (early stopping: the history then ends at that step).
    ``progress`` (default: on, except inside ``seeds.run(..., workers=n)``) draws a progress bar.
    """
    steps = check_int(steps, "steps", minimum=1)
    clip_norm = check_clip_norm(clip_norm)
    progress = show_progress(progress)
    opt = make_optimizer(model, optimizer, lr)
    if device is not None:
        model.to(device)
    device = next(model.parameters()).device
    history = {"step": [], "loss": [], "grad_norm": []}
    model.train()
    bar = tqdm(range(steps), desc=desc, disable=not progress, mininterval=0.5)
    for step in bar:
        x, y = batch_fn(step)
        x, y = x.to(device), y.to(device)
        loss = loss_fn(model(x), y)
        norm = optimizer_step(model, opt, loss, clip_norm=clip_norm, step=step)
        history["step"].append(step)
        history["loss"].append(loss.item())
        history["grad_norm"].append(norm)
        if step % 20 == 0 or step == steps - 1:
            bar.set_postfix(loss=f"{loss.item():.4f}")
        if callback is not None and callback(step, history) is True:
            break
    model.eval()
    return history


def fit_adding(model: nn.Module, length: int, *, seed: int, steps: int, batch_size: int,
               lr: float, test: tuple, clip_norm: float | None = None,
               device: torch.device | str | None = None, progress: bool | None = None,
               desc: str | None = None, callback: Callable[[int, dict], None] | None = None,
               task: Callable = tasks.adding_problem) -> dict:
    """Train ``model`` on the adding problem of length ``length`` and score it (chapters 3, 7).

    :func:`fit` with the mean squared error for ``steps`` Adam steps on fresh batches of
    ``batch_size`` sequences, drawn from one generator seeded with ``seed`` (the stream of a
    seed is the same for every model and length); ``clip_norm``, ``device``, ``progress`` and
    ``callback`` go to :func:`fit`. ``test = (x (N, T, 2), y (N, 1))`` is the fixed test set.
    ``task`` may be another task of the same format (:func:`rnnlab.tasks.last_marked_value`).
    The model's initial weights are the caller's: seed before building it. Returns
    ``{"mse": test MSE after training, "history": fit's history}``.
    """
    x_test, y_test = _check_adding_test(test, length)
    batch_fn = tasks.batches(task, batch_size, length, seed=seed)
    history = fit(model, batch_fn, nn.functional.mse_loss, steps=steps, lr=lr,
                  clip_norm=clip_norm, device=device, progress=progress, callback=callback,
                  desc=desc or f"adding problem, T={length}, seed {seed}")
    device = next(model.parameters()).device
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(x_test.to(device)), y_test.to(device)).item()
    return {"mse": mse, "history": history}


def _check_adding_test(test: tuple, length: int) -> tuple:
    """The test set ``(x (N, T, 2), y (N, 1))`` of :func:`fit_adding`, checked."""
    x_test, y_test = test                            # the task checks length
    check_tensor(x_test, "test[0]", shape=("N", length, 2))                   # (N, T, 2)
    check_tensor(y_test, "test[1]", shape=(x_test.shape[0], 1))               # (N, 1)
    return x_test, y_test


def fit_adding_together(models, length: int, *, seeds, steps: int, batch_size: int, lr: float,
                        test: tuple, clip_norm: float | None = None,
                        task: Callable = tasks.adding_problem) -> dict:
    """:func:`fit_adding` for several seeds in one vectorised run (chapter 7).

    ``models[i]`` (its initial weights drawn from ``seeds[i]``) trains on the batches of
    ``seeds[i]``, the stream :func:`fit_adding` would give it, and all train at once by
    :func:`fit_together`: each with its own gradient, clipping and Adam state, so each follows
    its run of :func:`fit_adding` up to float rounding (a batched product may add in another
    order). One call per step does the work of one call per seed; for small models, whose time
    goes into the calls rather than the arithmetic, that is about half the CPU time. PyTorch's
    fused ``nn.LSTM`` cannot be batched this way (``torch.func.vmap`` has no rule for it): train
    it with :func:`fit_adding`. Returns ``{seed: {"mse": ..., "history": ...}}`` as
    ``seeds.run(lambda seed: fit_adding(...))`` would (the history: ``"step"``, ``"loss"``,
    ``"grad_norm"``).
    """
    seeds = list(seeds)                          # fit_together checks the models
    if isinstance(models, (list, tuple)) and len(seeds) != len(models):
        raise ValueError(f"seeds must name one seed per model, got {len(seeds)} seeds for "
                         f"{len(models)} models")
    x_test, y_test = _check_adding_test(test, length)
    streams = [tasks.batches(task, batch_size, length, seed=seed) for seed in seeds]

    def batch_fn(step):
        x, y = zip(*(stream(step) for stream in streams))
        return torch.stack(x), torch.stack(y)                   # (S, B, T, 2), (S, B, 1)

    losses, norms, params, buffers = fit_together(models, batch_fn, nn.functional.mse_loss,
                                                  steps=steps, lr=lr, clip_norm=clip_norm)
    runs = {}
    for i, seed in enumerate(seeds):
        model = one_of(models[0], params, buffers, i).eval()
        device = next(model.parameters()).device
        with torch.no_grad():
            mse = nn.functional.mse_loss(model(x_test.to(device)), y_test.to(device)).item()
        runs[seed] = {"mse": mse, "history": {"step": list(range(losses.shape[1])),
                                              "loss": losses[i].tolist(),
                                              "grad_norm": norms[i].tolist()}}
    return runs


def clip_each_(grads: list[torch.Tensor], clip) -> torch.Tensor:
    """Clip stacked gradients (a first axis of seeds) seed by seed, in place, as
    ``clip_grad_norm_`` clips one model's; ``clip``: a number, one per seed, or ``None`` (no
    clipping). Returns each seed's gradient norm before clipping, ``(S,)``."""
    norm = torch.stack([g.flatten(1).norm(dim=1) for g in grads]).norm(dim=0)       # (S,)
    if clip is not None:
        scale = (clip / (norm + 1e-6)).clamp(max=1.0)                               # (S,)
        for g in grads:
            g.mul_(scale.view(-1, *[1] * (g.dim() - 1)).to(g.dtype))
    return norm


def fit_together(models, batch_fn: Callable[[int], tuple], loss_fn: Callable, *, steps: int,
                 lr: float = 1e-2, optimizer: str = "adam", clip_norm=None,
                 callback: Callable | None = None, stop: Callable | None = None):
    """Train ``models`` (a list of modules of one architecture, e.g. one per seed) together.

    ``batch_fn(step) -> (x, y)`` gives each model its own batch along a leading axis,
    ``x (S, ...)``, ``y (S, ...)``; ``loss_fn(output, y)`` is one model's scalar loss.
    ``clip_norm`` (None, a number, or one number per model) clips each model's own gradient
    norm, as ``clip_grad_norm_`` would. ``callback(step, params, buffers)`` runs after every
    step; ``stop(losses)`` (losses ``(S, steps so far)``) ends training early when it returns
    True. Returns ``(losses, grad_norms, params, buffers)``: NumPy arrays ``(S, steps)`` (the
    norm before clipping) and the stacked parameters and buffers (see :func:`one_of`).
    """
    from torch.func import functional_call, stack_module_state, vmap

    if not isinstance(models, (list, tuple)) or not models \
            or not all(isinstance(m, nn.Module) for m in models):
        raise TypeError("models must be a non-empty list of torch.nn.Module, got "
                        f"{type(models).__name__}")
    if len({type(m) for m in models}) != 1:
        raise TypeError("models must all have the same class (one architecture)")
    steps = check_int(steps, "steps", minimum=1)
    lr = check_float(lr, "lr", minimum=0.0, strict_min=True)
    check_choice(optimizer, "optimizer", list(OPTIMIZERS))
    params, buffers = stack_module_state(list(models))
    device = next(iter(params.values())).device
    skeleton = copy.deepcopy(models[0]).to("meta")
    forward = vmap(lambda p, b, x: functional_call(skeleton, (p, b), (x,)))
    opt = OPTIMIZERS[optimizer](params.values(), lr=lr, foreach=True)
    clip = torch.as_tensor(math.inf if clip_norm is None else clip_norm, dtype=torch.float32,
                           device=device).expand(len(models))                  # (S,)
    losses, norms = [], []
    for step in range(steps):
        x, y = batch_fn(step)
        loss = vmap(loss_fn)(forward(params, buffers, x.to(device)), y.to(device))   # (S,)
        opt.zero_grad(set_to_none=True)
        loss.sum().backward()                  # the sum: each model gets its own gradient
        norm = clip_each_([p.grad for p in params.values() if p.grad is not None], clip)
        opt.step()
        losses.append(loss.detach())
        norms.append(norm)
        if callback is not None:
            callback(step, params, buffers)
        if stop is not None and stop(torch.stack(losses, 1)):
            break
    return (torch.stack(losses, 1).cpu().numpy(), torch.stack(norms, 1).cpu().numpy(),
            params, buffers)


def one_of(template: nn.Module, params: dict, buffers: dict, i: int) -> nn.Module:
    """Model ``i`` of a :func:`fit_together` run, as an ordinary module shaped like
    ``template``."""
    n = len(next(iter(params.values())))
    i = check_int(i, "i", minimum=0, maximum=n - 1)
    model = copy.deepcopy(template)
    model.load_state_dict({k: v[i] for k, v in {**params, **buffers}.items()})
    return model
