"""A vanilla RNN in NumPy: forward pass and backpropagation through time by hand (chapter 2).

Chapter 1 uses :func:`forward` to show that the recurrence written out in NumPy is exactly
what ``torch.nn.RNN`` computes; chapter 2 differentiates it by hand. The model is

.. math::

    a_t = W_{xh} x_t + W_{hh} h_{t-1} + b_h, \\qquad h_t = \\tanh(a_t), \\qquad
    y_t = W_{hy} h_t + b_y

for ``t = 1..T``, with every array batch-first: ``x`` is ``(B, T, D)``, the hidden states
``(B, T, H)`` and the outputs ``(B, T, O)``. The parameters are a plain dict of arrays,
``{"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}``. A dict
without ``W_hy`` and ``b_y`` has no read-out: its output is ``y_t = h_t``, the output of
``torch.nn.RNN``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._validate import check_array, check_int, describe

__all__ = ["PARAM_NAMES", "init_params", "forward", "to_torch_rnn", "from_torch_rnn"]

#: The parameter names, in the order :func:`init_params` draws them.
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_params(input_size: int, hidden_size: int, output_size: int, *, seed: int = 0,
                dtype=np.float64) -> dict:
    """Parameters drawn like PyTorch's ``nn.RNN``: every entry uniform in ``(-1/sqrt(H), 1/sqrt(H))``.

    The draws come from ``np.random.default_rng(seed)``, in the order of :data:`PARAM_NAMES`.
    """
    D = check_int(input_size, "input_size", minimum=1)
    H = check_int(hidden_size, "hidden_size", minimum=1)
    O = check_int(output_size, "output_size", minimum=1)  # noqa: E741
    seed = check_int(seed, "seed", minimum=0)
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating dtype (float32 or float64), got {dtype}")
    rng = np.random.default_rng(seed)
    bound = 1.0 / np.sqrt(H)
    shapes = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}
    return {name: rng.uniform(-bound, bound, size=shapes[name]).astype(dtype)
            for name in PARAM_NAMES}


def check_params(params) -> tuple[int, int, int | None]:
    """Validate a parameter dict and return its sizes ``(D, H, O)`` (``O`` None without read-out)."""
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of numpy arrays, got {describe(params)}")
    missing = [k for k in ("W_xh", "W_hh", "b_h") if k not in params]
    if missing:
        raise ValueError(f"params is missing {missing}; it must hold W_xh, W_hh, b_h "
                         f"(and optionally W_hy, b_y), got keys {sorted(params)}")
    if ("W_hy" in params) != ("b_y" in params):
        raise ValueError("params must hold both W_hy and b_y or neither, got keys "
                         f"{sorted(params)}")
    W_xh = check_array(params["W_xh"], "params['W_xh']", ndim=2)
    H, D = W_xh.shape
    check_array(params["W_hh"], "params['W_hh']", shape=(H, H))
    check_array(params["b_h"], "params['b_h']", shape=(H,))
    if "W_hy" not in params:
        return D, H, None
    W_hy = check_array(params["W_hy"], "params['W_hy']", ndim=2)
    if W_hy.shape[1] != H:
        raise ValueError(f"params['W_hy'] must have shape (O, {H}) to read the hidden state "
                         f"of size H={H}, got {describe(W_hy)}")
    O = W_hy.shape[0]  # noqa: E741
    check_array(params["b_y"], "params['b_y']", shape=(O,))
    return D, H, O


def check_inputs(params, x, h0=None) -> tuple[np.ndarray, np.ndarray, tuple]:
    """Validate ``params``, ``x`` (B, T, D) and ``h0`` (B, H); return ``(x, h0, (D, H, O))``.

    ``h0=None`` becomes zeros. The arrays are returned in the parameters' dtype.
    """
    D, H, O = check_params(params)
    check_array(x, "x", shape=("B", "T", D))
    B, T, _ = x.shape
    if B == 0 or T == 0:
        raise ValueError(f"x must hold at least one sequence and one time step, got {describe(x)}")
    dtype = params["W_hh"].dtype
    if h0 is None:
        h0 = np.zeros((B, H), dtype=dtype)
    else:
        check_array(h0, "h0", shape=(B, H))
    return x.astype(dtype, copy=False), h0.astype(dtype, copy=False), (D, H, O)


def forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None) -> tuple[np.ndarray, dict]:
    """Run the RNN over ``x`` (B, T, D) from ``h0`` (B, H; zeros when None).

    Returns ``(y, cache)``: ``y`` is ``(B, T, O)`` (``(B, T, H)`` without read-out) and
    ``cache`` holds what backpropagation needs: ``"x"`` (B, T, D), the pre-activations
    ``"a"`` (B, T, H) and the hidden states ``"h"`` (B, T+1, H) with ``h0`` at index 0, so
    ``h[:, t]`` is :math:`h_t` in the chapter's 1-based notation.
    """
    x, h0, (_, H, O) = check_inputs(params, x, h0)
    B, T, _ = x.shape
    W_xh, W_hh, b_h = params["W_xh"], params["W_hh"], params["b_h"]
    a = np.empty((B, T, H), dtype=h0.dtype)      # (B, T, H)
    h = np.empty((B, T + 1, H), dtype=h0.dtype)  # (B, T+1, H)
    h[:, 0] = h0
    xW = x @ W_xh.T + b_h                        # (B, T, H): input part of every step at once
    for t in range(T):
        a[:, t] = xW[:, t] + h[:, t] @ W_hh.T    # (B, H)
        h[:, t + 1] = np.tanh(a[:, t])           # (B, H)
    hs = h[:, 1:]                                # (B, T, H)
    y = hs @ params["W_hy"].T + params["b_y"] if O is not None else hs.copy()  # (B, T, O)
    return y, {"x": x, "a": a, "h": h}


def to_torch_rnn(params: dict) -> nn.RNN:
    """A one-layer, batch-first, float64, tanh ``torch.nn.RNN`` computing the same hidden states.

    PyTorch has two biases; ``bias_ih`` gets ``b_h`` and ``bias_hh`` is zero. The read-out
    (``W_hy``, ``b_y``) is not part of ``nn.RNN`` and is left out.
    """
    D, H, _ = check_params(params)
    rnn = nn.RNN(D, H, num_layers=1, nonlinearity="tanh", bias=True, batch_first=True,
                 dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(np.asarray(params["W_xh"], dtype=np.float64)))
        rnn.weight_hh_l0.copy_(torch.from_numpy(np.asarray(params["W_hh"], dtype=np.float64)))
        rnn.bias_ih_l0.copy_(torch.from_numpy(np.asarray(params["b_h"], dtype=np.float64)))
        rnn.bias_hh_l0.zero_()
    return rnn


def from_torch_rnn(module: nn.RNN, *, W_hy: np.ndarray | None = None,
                   b_y: np.ndarray | None = None) -> dict:
    """The parameter dict of a one-layer, unidirectional tanh ``torch.nn.RNN``.

    ``b_h`` is the sum of PyTorch's two biases (zeros for ``bias=False``). The arrays are
    float64 copies. Pass ``W_hy`` (O, H) and ``b_y`` (O,) to add a read-out; without them
    the dict has none and :func:`forward` returns the hidden states, like the module.
    """
    if not isinstance(module, nn.RNN):
        raise TypeError(f"module must be a torch.nn.RNN, got {type(module).__name__}")
    if module.num_layers != 1 or module.bidirectional or module.nonlinearity != "tanh":
        raise ValueError("module must be a one-layer, unidirectional tanh nn.RNN, got "
                         f"num_layers={module.num_layers}, bidirectional={module.bidirectional}, "
                         f"nonlinearity={module.nonlinearity!r}")

    def np64(t):
        return t.detach().cpu().to(torch.float64).numpy().copy()

    H = module.hidden_size
    params = {"W_xh": np64(module.weight_ih_l0), "W_hh": np64(module.weight_hh_l0),
              "b_h": (np64(module.bias_ih_l0) + np64(module.bias_hh_l0)) if module.bias
              else np.zeros(H)}
    if (W_hy is None) != (b_y is None):
        raise ValueError("pass both W_hy and b_y, or neither")
    if W_hy is not None:
        params["W_hy"] = np.array(W_hy, dtype=np.float64)
        params["b_y"] = np.array(b_y, dtype=np.float64)
    check_params(params)
    return params
