"""Deep feed-forward stacks and the measurements of chapter 5.

Chapter 5 studies the causes of vanishing and exploding gradients and their remedies first in
the simplest deep network, a stack of fully connected layers, where depth plays the role that
time plays in a recurrent network. :class:`DeepMLP` makes every remedy an option of one model
(so two variants differ in exactly one argument):

===============  ==========================================================================
option           values
===============  ==========================================================================
``activation``   ``sigmoid``, ``tanh``, ``relu``, ``leaky_relu`` (slope 0.01), ``gelu``,
                 ``identity``
``init``         ``default`` (PyTorch's ``nn.Linear``: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for
                 weights and biases) or a scheme of :data:`rnnlab.init.INITIALIZERS` (zero
                 biases), times ``init_scale``
``norm``         ``none``, ``batch`` (Ioffe & Szegedy 2015), ``layer`` (Ba et al. 2016),
                 between the linear map and the activation; the linear map then has no bias
``residual``     ``True``: ``h_l = h_{l-1} + residual_scale * act(norm(W_l h_{l-1}))`` for
                 every layer after the first (He et al. 2016)
===============  ==========================================================================

The measurements take a model and a batch ``x`` of shape ``(B, D)``:
:func:`layer_grad_norms` (``||dL/dh_l||`` or ``||dL/dW_l||`` per hidden layer),
:func:`grad_ratio` (first layer over last), :func:`activation_stds`,
:func:`mean_derivatives` (mean ``act'`` per layer),
:func:`dead_fraction` (units whose derivative is zero, or tiny, on every example),
:func:`saturated_fraction` (pairs of example and unit whose derivative is tiny),
:func:`preactivation_percentiles` and :func:`input_output_jacobian` (``dh_L/dx`` per example,
whose singular values say whether the stack is close to an isometry, Pennington et al. 2017).
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn

from ._validate import (
    check_choice,
    check_float,
    check_int,
    check_scalar,
    check_tensor,
)
from .cells import ACTIVATIONS
from .init import INITIALIZERS
from .runtime import make_generator

__all__ = ["ACTIVATIONS", "INITS", "NORMS", "DeepMLP", "layer_grad_norms", "grad_ratio",
           "activation_stds", "mean_derivatives", "dead_fraction", "saturated_fraction",
           "preactivation_percentiles", "input_output_jacobian"]

#: Initialisation schemes of a deep stack: PyTorch's default and rnnlab.init's.
INITS = ("default", *INITIALIZERS)
#: Normalisations that can sit between a linear map and its activation.
NORMS = ("none", "batch", "layer")


class DeepMLP(nn.Module):
    """``depth`` fully connected layers of ``width`` units and a linear read-out.

    Layer 1 maps ``in_features -> width``, layers 2..depth ``width -> width``; the read-out
    maps ``width -> out_features``. ``bias`` (a number) overwrites every hidden bias after
    initialisation (the dying-ReLU experiment); it needs ``norm="none"``. Weights are drawn
    from a generator seeded with ``seed``, so a model is the same whatever ran before.
    """

    def __init__(self, in_features: int, width: int, depth: int, out_features: int = 1, *,
                 activation: str = "relu", init: str = "default", init_scale: float = 1.0,
                 norm: str = "none", residual: bool = False, residual_scale: float = 1.0,
                 bias: float | None = None, seed: int = 0):
        super().__init__()
        self.in_features = check_int(in_features, "in_features", minimum=1)
        self.width = check_int(width, "width", minimum=1)
        self.depth = check_int(depth, "depth", minimum=1)
        self.activation = check_choice(activation, "activation", list(ACTIVATIONS))
        self.init = check_choice(init, "init", list(INITS))
        self.norm = check_choice(norm, "norm", list(NORMS))
        self.residual, self.residual_scale = residual, residual_scale
        init_scale = check_float(init_scale, "init_scale", minimum=0.0)
        if bias is not None and norm != "none":
            raise ValueError(f"bias={bias} needs norm='none': a normalised layer has no "
                             f"bias before its normalisation (got norm={norm!r})")
        self.act = ACTIVATIONS[activation]
        sizes = [in_features] + [width] * depth
        self.linears = nn.ModuleList(nn.Linear(a, b, bias=norm == "none")
                                     for a, b in zip(sizes[:-1], sizes[1:]))
        # one shared nn.Identity when there is no normalisation (it holds nothing; faster to build)
        self.norms = nn.ModuleList([nn.Identity()] * depth if norm == "none"
                                   else [self._norm_layer(width) for _ in range(depth)])
        self.readout = nn.Linear(width, out_features)
        self._initialise(make_generator(seed), init_scale, bias)

    def _norm_layer(self, width):
        if self.norm == "batch":
            return nn.BatchNorm1d(width)
        return nn.LayerNorm(width) if self.norm == "layer" else nn.Identity()

    @torch.no_grad()
    def _initialise(self, g, scale, bias):
        for lin in [*self.linears, self.readout]:
            out, fan_in = lin.weight.shape
            if self.init == "default" or lin is self.readout:
                bound = 1.0 / math.sqrt(fan_in)
                lin.weight.copy_((torch.rand(out, fan_in, generator=g) * 2 - 1) * bound)
                if lin.bias is not None:
                    lin.bias.copy_((torch.rand(out, generator=g) * 2 - 1) * bound)
            else:
                lin.weight.copy_(INITIALIZERS[self.init](out, fan_in, generator=g))
                if lin.bias is not None:
                    lin.bias.zero_()
            if lin is not self.readout:
                lin.weight.mul_(scale)
                if bias is not None:
                    lin.bias.fill_(bias)

    @property
    def weights(self) -> list[torch.Tensor]:
        """The hidden layers' weight matrices ``W_1 .. W_depth`` (not the read-out)."""
        return [lin.weight for lin in self.linears]

    def trace(self, x: torch.Tensor) -> dict:
        """Forward pass keeping every layer's activation input and output.

        Returns ``{"pre": [a_1..a_L], "post": [h_1..h_L], "y": y}``: ``a_l`` ``(B, W)`` is what
        enters the activation (after the normalisation), ``h_l`` ``(B, W)`` the layer's output
        (after the skip connection) and ``y`` ``(B, O)`` the read-out.
        """
        check_tensor(x, "x", shape=("B", self.in_features))
        pre, post, h = [], [], x
        for i, (lin, norm) in enumerate(zip(self.linears, self.norms)):
            a = norm(lin(h))                                   # (B, W)
            z = self.act(a)                                    # (B, W)
            h = h + self.residual_scale * z if self.residual and i > 0 else z  # (B, W)
            pre.append(a)
            post.append(h)
        return {"pre": pre, "post": post, "y": self.readout(h)}  # y: (B, O)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.trace(x)["y"]                              # (B, O)


def layer_grad_norms(model: DeepMLP, x: torch.Tensor, *, wrt: str = "output",
                     loss_fn: Callable[[torch.Tensor], torch.Tensor] | None = None) -> torch.Tensor:
    """Gradient norm per hidden layer ``l = 1..depth``, shape ``(depth,)``.

    ``wrt="output"``: ``||dL/dh_l||``, the gradient that back-propagation carries down to the
    output of layer ``l`` (the analogue of chapter 3's ``dL/dh_t``; Frobenius norm over the
    batch). ``wrt="weight"``: ``||dL/dW_l||``, what the optimiser sees. ``loss_fn`` maps the
    output ``(B, O)`` to a scalar; the default ``y.sum() / B`` sends the same gradient into
    every output. The weights' ``.grad`` are left untouched.
    """
    check_choice(wrt, "wrt", ["output", "weight"])  # x is checked by model.trace
    with torch.enable_grad():
        out = model.trace(x)
        y = out["y"]                                           # (B, O)
        loss = y.sum() / x.shape[0] if loss_fn is None else check_scalar(loss_fn(y), "loss_fn(y)")
        wrt_tensors = out["post"] if wrt == "output" else model.weights
        grads = torch.autograd.grad(loss.reshape(()), wrt_tensors, allow_unused=True)
    return torch.stack([torch.zeros((), dtype=x.dtype, device=x.device) if g is None
                        else torch.linalg.vector_norm(g) for g in grads]).detach()  # (L,)


def grad_ratio(model: DeepMLP, x: torch.Tensor, *, wrt: str = "output", loss_fn=None) -> float:
    """First layer's gradient norm over the last's (see :func:`layer_grad_norms`): far below 1
    the gradient vanishes on its way to the input, far above 1 it explodes."""
    norms = layer_grad_norms(model, x, wrt=wrt, loss_fn=loss_fn)
    if norms[-1] == 0:
        raise ValueError("the last layer's gradient is zero, so the ratio is undefined")
    return float(norms[0] / norms[-1])


@torch.no_grad()
def activation_stds(model: DeepMLP, x: torch.Tensor) -> torch.Tensor:
    """Standard deviation of each layer's output ``h_l`` over batch and units, ``(depth,)``."""
    return torch.stack([h.std() for h in model.trace(x)["post"]])  # (L,)


def _derivatives(model, x):
    """``act'(a_l)`` for every layer, each ``(B, W)``, by autograd on the activation alone (all
    layers in one call: the activation acts entry by entry)."""
    with torch.no_grad():
        a = torch.stack(model.trace(x)["pre"])                 # (L, B, W)
    with torch.enable_grad():
        a.requires_grad_(True)
        d = torch.autograd.grad(model.act(a).sum(), a)[0]      # (L, B, W)
    return list(d.unbind(0))                                   # L x (B, W)


def mean_derivatives(model: DeepMLP, x: torch.Tensor, *, squared: bool = False) -> torch.Tensor:
    """Mean of ``act'(a_l)`` over batch and units for each layer, ``(depth,)``; with
    ``squared=True`` the mean of ``act'(a_l)**2``, whose square root times the gain of the
    weights predicts the factor by which a layer scales the back-propagated gradient."""
    return torch.stack([(d ** 2 if squared else d).mean()
                        for d in _derivatives(model, x)])  # (L,)


def dead_fraction(model: DeepMLP, x: torch.Tensor, *, threshold: float = 0.0) -> torch.Tensor:
    """Fraction of each layer's units whose ``|act'|`` is at most ``threshold`` on *every*
    example of ``x``, shape ``(depth,)``.

    With ``threshold=0`` these are *dead* units: they pass no gradient to their weights on this
    data, so they have stopped learning (for ReLU: the input is negative on every example).
    A small positive threshold counts *saturated* units of sigmoid or tanh.
    """
    threshold = check_float(threshold, "threshold", minimum=0.0)
    return torch.stack([(d.abs() <= threshold).all(dim=0).to(x.dtype).mean()
                        for d in _derivatives(model, x)])  # (L,)


def saturated_fraction(model: DeepMLP, x: torch.Tensor, *, threshold: float = 0.01) -> torch.Tensor:
    """Fraction of the (example, unit) pairs of each layer whose ``|act'|`` is at most
    ``threshold``, shape ``(depth,)``: how much of the layer is in the flat part of a sigmoid or
    tanh on this data (:func:`dead_fraction` counts only units flat on *every* example)."""
    threshold = check_float(threshold, "threshold", minimum=0.0)
    return torch.stack([(d.abs() <= threshold).to(x.dtype).mean()
                        for d in _derivatives(model, x)])  # (L,)


@torch.no_grad()
def preactivation_percentiles(model: DeepMLP, x: torch.Tensor,
                              q=(15.0, 50.0, 85.0)) -> torch.Tensor:
    """Percentiles ``q`` of each layer's activation input over batch and units,
    ``(depth, len(q))``."""
    qs = torch.as_tensor(q, dtype=torch.float32).flatten()
    if qs.numel() == 0 or qs.min() < 0 or qs.max() > 100:
        raise ValueError(f"q must be percentiles in [0, 100], got {q!r}")
    pre = model.trace(x)["pre"]
    return torch.stack([torch.quantile(a.flatten().float(), qs.to(a.device) / 100) for a in pre])


def input_output_jacobian(model: DeepMLP, x: torch.Tensor) -> torch.Tensor:
    """The Jacobian of the last hidden layer's output with respect to the input, for every
    example of ``x``: ``dh_L/dx``, shape ``(B, width, in_features)``.

    It is the product of the layers' Jacobians, ``diag(act'(a_l)) W_l`` (``I +
    residual_scale * diag(act'(a_l)) W_l`` for a residual layer), that back-propagation
    multiplies by, transposed; its singular values say how much each input direction is
    stretched or shrunk on the way up, and each output direction on the way down. A
    batch-normalised stack couples the examples of a batch, so its per-example Jacobian is not
    defined: ``norm="batch"`` is refused. A layer-normalised stack is differentiated by
    autograd, one output unit at a time.
    """
    if model.norm == "batch":
        raise ValueError("input_output_jacobian needs a stack whose examples are independent, "
                         "got norm='batch' (its statistics couple the examples of a batch)")
    if model.norm == "layer":
        xs = x.detach().clone().requires_grad_(True)
        with torch.enable_grad():
            h_last = model.trace(xs)["post"][-1]               # (B, W)
            rows = [torch.autograd.grad(h_last[:, k].sum(), xs,
                                        retain_graph=k < model.width - 1)[0]
                    for k in range(model.width)]               # width x (B, D): row k of each
        return torch.stack(rows, dim=1)                        # (B, W, D)
    with torch.no_grad():
        jac, ds = None, _derivatives(model, x)                 # model.trace checks x
        eye = torch.eye(model.width, dtype=x.dtype, device=x.device)
        for i, (d, w) in enumerate(zip(ds, model.weights)):
            step = d.unsqueeze(-1) * w                         # (B, W, n_in): diag(act') W_l
            if model.residual and i > 0:
                step = eye + model.residual_scale * step       # (B, W, W)
            jac = step if jac is None else step @ jac          # (B, W, D)
    return jac
