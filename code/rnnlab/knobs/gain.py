"""Chapter 5's knob: the gain ``s`` of a deep stack's weights, and what every layer does to the
signal going up and to the gradient coming down, at initialisation.

The stacks are :class:`rnnlab.deep.DeepMLP` drawn with weights of gain 1 (``N(0, 1/n)``:
``init="xavier_normal"`` on square layers); :func:`profiles_by_gain` multiplies their hidden
weights by ``s`` for every value of ``s^2 = n Var(W_ij)`` on a grid and measures, on one batch,

* the standard deviation of every layer's output ``h_l`` over that of ``h_1``
  (:func:`rnnlab.deep.activation_stds`): how the forward signal changes on its way up;
* the gradient norm ``||dL/dh_l||`` over ``||dL/dh_L||`` (:func:`rnnlab.deep.layer_grad_norms`):
  how the gradient changes on its way down.

Each layer multiplies both by about the factor ``s sqrt(E[phi'^2])`` of chapter 5's
per-layer factor (``s / sqrt 2`` for ReLU), so both lines are level at the critical gain.
:func:`per_layer_factors` fits that factor to each curve.
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch

from .._validate import check_float, check_instance
from ..deep import DeepMLP, activation_stds, layer_grad_norms

__all__ = ["UP", "DOWN", "LEVEL", "layer_profiles", "profiles_by_gain", "per_layer_factors"]

#: The series of :func:`profiles_by_gain`: the signal going up, the gradient coming down, and
#: the level line (ratio 1) that both follow at the critical gain.
UP = "activation std, over layer 1's"
DOWN = "gradient norm, over the last layer's"
LEVEL = "level (ratio 1)"


def layer_profiles(net: DeepMLP, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """``std(h_l) / std(h_1)`` and ``||dL/dh_l|| / ||dL/dh_L||`` for ``l = 1..L``, each
    ``(L,)``, of the stack ``net`` on the batch ``x`` (``L = sum(y) / B``)."""
    check_instance(net, "net", DeepMLP)                        # x is checked by net.trace
    stds = activation_stds(net, x).cpu().numpy()               # (L,)
    grads = layer_grad_norms(net, x).cpu().numpy()             # (L,)
    return stds / stds[0], grads / grads[-1]


def profiles_by_gain(nets, x: torch.Tensor, s_squared) -> dict:
    """The median over ``nets`` of :func:`layer_profiles` at every gain ``s = sqrt(s^2)``.

    ``nets`` are stacks of one depth whose hidden weights, as drawn, have gain 1; each is
    copied and its hidden weights multiplied by ``s`` (the read-out is left as drawn), so the
    nets passed in are not changed. Returns ``{s^2: {UP: (l, up), DOWN: (l, down),
    LEVEL: (l, 1)}}`` with ``l = 1..L``, the form :func:`rnnlab.explore.slider_figure` takes.
    """
    check_instance(nets, "nets", (list, tuple), "a list of rnnlab.deep.DeepMLP")
    if not nets:
        raise ValueError("nets must hold at least one stack, got an empty list")
    for i, net in enumerate(nets):
        check_instance(net, f"nets[{i}]", DeepMLP)
    depths = sorted({net.depth for net in nets})
    if len(depths) > 1:
        raise ValueError(f"nets must all have one depth (their medians are taken layer by "
                         f"layer), got depths {depths}")
    grid = [check_float(v, "a value of s_squared", minimum=0.0, strict_min=True)
            for v in s_squared]
    copies = [copy.deepcopy(net) for net in nets]
    drawn = [[w.detach().clone() for w in net.weights] for net in copies]
    layers = np.arange(1, depths[0] + 1)
    curves = {}
    for s2 in grid:
        ups, downs = [], []
        for net, weights in zip(copies, drawn):
            with torch.no_grad():
                for w, w1 in zip(net.weights, weights):
                    w.copy_(math.sqrt(s2) * w1)
            up, down = layer_profiles(net, x)
            ups.append(up)
            downs.append(down)
        curves[s2] = {UP: (layers, np.median(ups, axis=0)),          # (L,)
                      DOWN: (layers, np.median(downs, axis=0)),      # (L,)
                      LEVEL: (layers, np.ones(len(layers)))}
    return curves


def per_layer_factors(curves: dict) -> dict:
    """``{s^2: (up, down)}``: the factor per layer of the curves of :func:`profiles_by_gain`,
    fitted by least squares to ``log10`` of each curve against the layer: the signal is
    multiplied by ``up`` per layer on its way up, the gradient by ``down`` on its way down."""
    check_instance(curves, "curves", dict)
    factors = {}
    for s2, c in curves.items():
        (layers, up), (_, down) = c[UP], c[DOWN]
        slope_up = np.polyfit(layers, np.log10(up), 1)[0]
        slope_down = np.polyfit(layers, np.log10(down), 1)[0]
        factors[s2] = (10.0 ** slope_up, 10.0 ** -slope_down)
    return factors
