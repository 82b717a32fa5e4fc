"""A vanilla RNN in NumPy: forward pass and backpropagation through time by hand (chapter 2).

Chapter 1 uses :func:`forward` to show that the recurrence written out in NumPy is what
``torch.nn.RNN`` computes; chapter 2 differentiates it by hand. For ``t = 1..T``

    a_t = W_xh x_t + W_hh h_{t-1} + b_h,   h_t = phi(a_t),   y_t = W_hy h_t + b_y

with ``phi = tanh`` (or ReLU), every array batch-first: ``x`` (B, T, D), hidden states
(B, T, H), outputs (B, T, O). Parameters are a dict of arrays ``W_xh`` (H, D), ``W_hh``
(H, H), ``b_h`` (H,), ``W_hy`` (O, H), ``b_y`` (O,); a dict without ``W_hy`` and ``b_y`` has
no read-out and outputs ``y_t = h_t``, like ``torch.nn.RNN``.

Truncated BPTT with window ``k`` (:func:`backward`, ``truncate=k``) comes in two variants,
both defined by the autograd graph they equal (tested in ``tests/test_numpy_rnn.py``):

* ``"sliding"`` (default): each loss term ``l_t`` is backpropagated through the ``k`` steps
  ``t, t-1, ..., t-k+1`` and no further: the contributions of lag ``t - s >= k`` are dropped
  (Williams & Peng's BPTT(k)). Equals autograd where, for each ``t >= k``, ``l_t`` is computed
  from ``h_{t-k}.detach()``. The gradient equals ``sum(grads_by_lag(...)[name][:k])``.
* ``"chunked"``: the sequence is cut into chunks of ``k`` steps and the state is detached at
  ``h_k, h_2k, ...`` (the usual PyTorch loop; BPTT(k, k)). ``l_t`` reaches back to the start
  of its chunk only, between 1 and ``k`` steps.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ._validate import check_array, check_choice, check_instance, check_int, describe

__all__ = ["PARAM_NAMES", "ACTIVATIONS", "init_params", "check_params", "forward", "backward",
           "grads_by_lag", "mse_loss", "loss_and_grads", "numerical_gradient", "relative_error",
           "cache_nbytes", "to_torch_rnn", "from_torch_rnn"]

#: The parameter names, in the order :func:`init_params` draws them.
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")

#: Activation ``phi(a)`` and its derivative written with ``a`` and ``h = phi(a)``.
ACTIVATIONS = {
    "tanh": (np.tanh, lambda a, h: 1.0 - h ** 2),
    "relu": (lambda a: np.maximum(a, 0.0), lambda a, h: (a > 0).astype(a.dtype)),
}


def init_params(input_size: int, hidden_size: int, output_size: int, *, seed: int = 0,
                dtype=np.float64) -> dict:
    """Parameters drawn like ``torch.nn.RNN``'s: each entry uniform in (-1/sqrt(H), 1/sqrt(H)).

    The draws come from ``np.random.default_rng(seed)`` in the order of :data:`PARAM_NAMES`.
    """
    D, O = input_size, output_size  # noqa: E741  (NumPy names a bad size)
    H = check_int(hidden_size, "hidden_size", minimum=1)  # the bound 1/sqrt(H) needs H >= 1
    rng = np.random.default_rng(seed)  # NumPy names a negative or non-int seed itself
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"dtype must be a floating dtype (float32 or float64), got {dtype}")
    shapes = {"W_xh": (H, D), "W_hh": (H, H), "b_h": (H,), "W_hy": (O, H), "b_y": (O,)}
    bound = 1.0 / np.sqrt(H)
    return {k: rng.uniform(-bound, bound, size=shapes[k]).astype(dtype) for k in PARAM_NAMES}


def check_params(params) -> tuple[int, int, int | None]:
    """Validate a parameter dict; return its sizes ``(D, H, O)`` (``O`` is None without a
    read-out)."""
    check_instance(params, "params", dict, "a dict of numpy arrays")
    half_readout = ("W_hy" in params) != ("b_y" in params)
    if any(k not in params for k in ("W_xh", "W_hh", "b_h")) or half_readout:
        raise ValueError("params must hold W_xh, W_hh, b_h and either both or neither of W_hy, "
                         f"b_y; got keys {sorted(params)}")
    H, D = check_array(params["W_xh"], "params['W_xh']", ndim=2).shape
    check_array(params["W_hh"], "params['W_hh']", shape=(H, H))
    check_array(params["b_h"], "params['b_h']", shape=(H,))
    if "W_hy" not in params:
        return D, H, None
    O = check_array(params["W_hy"], "params['W_hy']", shape=("O", H)).shape[0]  # noqa: E741
    check_array(params["b_y"], "params['b_y']", shape=(O,))
    return D, H, O


def forward(params: dict, x: np.ndarray, h0: np.ndarray | None = None, *,
            activation: str = "tanh") -> tuple[np.ndarray, dict]:
    """Run the RNN over ``x`` (B, T, D) from ``h0`` (B, H; zeros when None).

    Returns ``(y, cache)``: ``y`` is (B, T, O), or (B, T, H) without read-out; ``cache``
    holds what :func:`backward` needs: ``"x"`` (B, T, D), the pre-activations ``"a"``
    (B, T, H), the hidden states ``"h"`` (B, T+1, H) with ``h0`` at index 0 (so ``h[:, t]`` is
    the chapter's ``h_t``) and the ``"activation"`` name.
    """
    x, h0, O = _check_forward_args(params, x, h0, activation)  # x in the weights' dtype
    phi, W_hh = ACTIVATIONS[activation][0], params["W_hh"]
    (B, T, _), H = x.shape, W_hh.shape[0]
    a = x @ params["W_xh"].T + params["b_h"]  # (B, T, H): input part of every step, then += below
    h = np.empty((B, T + 1, H), x.dtype)      # (B, T+1, H)
    h[:, 0] = h0
    for t in range(T):
        a[:, t] += h[:, t] @ W_hh.T           # (B, H)
        h[:, t + 1] = phi(a[:, t])            # (B, H)
    hs = h[:, 1:]                             # (B, T, H)
    y = hs @ params["W_hy"].T + params["b_y"] if O is not None else hs.copy()  # (B, T, O)
    return y, {"x": x, "a": a, "h": h, "activation": activation}


def _check_forward_args(params, x, h0, activation):
    """:func:`forward`'s arguments checked: ``(x, h0 (B, H), O)``, ``x`` in the weights' dtype."""
    _, H, O = check_params(params)
    check_choice(activation, "activation", list(ACTIVATIONS))
    B, dtype = check_array(x, "x", shape=("B", "T", params["W_xh"].shape[1])).shape[0], \
        params["W_hh"].dtype
    h0 = np.zeros((B, H), dtype) if h0 is None else check_array(h0, "h0", shape=(B, H))
    return x.astype(dtype, copy=False), h0, O


def _check_backward_args(params, cache, dy):
    _, H, O = check_params(params)
    if not isinstance(cache, dict) or any(k not in cache for k in ("x", "a", "h")):
        raise TypeError("cache must be the dict returned by forward (keys 'x', 'a', 'h'), got "
                        f"{describe(cache) if not isinstance(cache, dict) else sorted(cache)}")
    B, T, _ = cache["x"].shape  # forward made the cache: only dy is the caller's
    check_array(dy, "dy", shape=(B, T, H if O is None else O))
    return O


def _output_grads(params, cache, dy, O):
    """Gradients of the read-out and ``dL/dh_t`` through ``y_t`` only, (B, T, H)."""
    if O is None:
        return {}, dy
    hs = cache["h"][:, 1:]                                       # (B, T, H)
    # einsum, not tensordot: a (O, B*T) @ (B*T, H) product wakes BLAS threads, which can be
    # 100x slower on a busy machine; every other product here is one step's (B rows).
    return ({"W_hy": np.einsum("bto,bth->oh", dy, hs), "b_y": dy.sum(axis=(0, 1))},
            dy @ params["W_hy"])                                  # (B, T, H)


def backward(params: dict, cache: dict, dy: np.ndarray, *, truncate: int | None = None,
             truncation: str = "sliding", return_dh: bool = False):
    """Backpropagation through time: the gradients of ``L`` given ``dy = dL/dy`` (B, T, O).

    Returns a dict with the gradient of every parameter and ``"h0"`` (dL/dh0, (B, H)). With
    ``truncate=k`` the gradient is truncated to ``k`` steps (see the module docstring for the
    two ``truncation`` variants). With ``return_dh=True`` returns ``(grads, dh)`` where
    ``dh[:, t-1]`` is dL/dh_t (B, T, H), the total over the paths kept.
    """
    O = _check_backward_args(params, cache, dy)
    check_choice(truncation, "truncation", ["sliding", "chunked"])
    k = None if truncate is None else check_int(truncate, "truncate", minimum=1)
    if k is not None and truncation == "sliding":
        return _lag_backward(params, cache, dy, O, k, split=False, return_dh=return_dh)
    x, a, h = cache["x"], cache["a"], cache["h"]
    dphi = ACTIVATIONS[cache.get("activation", "tanh")][1](a, h[:, 1:])  # (B, T, H): phi'(a_t)
    grads, dh_out = _output_grads(params, cache, dy, O)   # dh_out: W_hy^T dL/dy_t, (B, T, H)
    W_hh = params["W_hh"]
    g = {k: np.zeros_like(params[k]) for k in ("W_xh", "W_hh", "b_h")}
    dh = np.empty_like(a)                  # (B, T, H): dL/dh_t over the paths kept
    dh_next = np.zeros_like(a[:, 0])       # (B, H): what reaches h_t from step t+1
    for i in reversed(range(x.shape[1])):  # i = t - 1: x[:, i] is x_t, h[:, i] is h_{t-1}
        dh[:, i] = dh_out[:, i] + dh_next            # dL/dh_t: read-out + next step
        da = dh[:, i] * dphi[:, i]                   # (B, H): dL/da_t
        g["W_xh"] += da.T @ x[:, i]                  # one term of each sum over time
        g["W_hh"] += da.T @ h[:, i]
        g["b_h"] += da.sum(axis=0)
        dh_next = da @ W_hh                          # (B, H): to h_{t-1} through step t
        if k is not None and i % k == 0 and i > 0:   # chunked: h_{t-1} is detached
            dh_next = np.zeros_like(dh_next)
    grads.update(g, h0=dh_next)
    return (grads, dh) if return_dh else grads


def grads_by_lag(params: dict, cache: dict, dy: np.ndarray, *, max_lag: int | None = None,
                 return_dh: bool = False):
    """The gradient split by time lag: ``g[name][j]`` sums, over t, what ``l_t`` sends to the
    parameter's use at step ``t - j``.

    ``W_xh``, ``W_hh``, ``b_h`` get a leading lag axis of length ``max_lag + 1`` (default
    ``T``, all lags; summing it gives the full gradient); the read-out and ``"h0"`` (lags up
    to ``max_lag`` only) have none. Cost grows like ``T * (max_lag + 1)``.
    """
    O = _check_backward_args(params, cache, dy)
    T = cache["x"].shape[1]
    K = T + 1 if max_lag is None else check_int(max_lag, "max_lag", minimum=0) + 1
    return _lag_backward(params, cache, dy, O, K, split=True, return_dh=return_dh)


def _lag_backward(params, cache, dy, O, K_req, *, split, return_dh):
    """BPTT carrying dL/dh_t split by lag (lags < K_req kept); ``split`` keeps the lag axis."""
    x, a, h = cache["x"], cache["a"], cache["h"]
    B, T, H = a.shape
    K = min(K_req, T)                      # lags a parameter's use can have: 0..T-1
    dphi = ACTIVATIONS[cache.get("activation", "tanh")][1](a, h[:, 1:])  # (B, T, H)
    grads, dh_out = _output_grads(params, cache, dy, O)
    shapes = {"W_xh": (H, x.shape[2]), "W_hh": (H, H), "b_h": (H,)}
    W = {n: np.zeros(((K,) if split else ()) + shape, a.dtype) for n, shape in shapes.items()}
    G = np.zeros((B, K, H), a.dtype)       # G[:, j]: what l_{t+j} sends to h_t
    dh = np.empty_like(a)                  # (B, T, H)
    for i in reversed(range(T)):           # i = t - 1, as in backward
        G[:, 0] = dh_out[:, i]
        dh[:, i] = G.sum(axis=1)
        dA = G * dphi[:, i, None, :]       # (B, K, H): dL/da_t split by lag
        if split:
            W["W_xh"] += np.einsum("bjh,bd->jhd", dA, x[:, i])
            W["W_hh"] += np.einsum("bjh,bk->jhk", dA, h[:, i])
            W["b_h"] += dA.sum(axis=0)
        else:
            da = dA.sum(axis=1)            # (B, H)
            W["W_xh"] += da.T @ x[:, i]
            W["W_hh"] += da.T @ h[:, i]
            W["b_h"] += da.sum(axis=0)
        P = dA @ params["W_hh"]            # (B, K, H): lags 1..K at h_{t-1}; lag K is dropped
        G = np.concatenate([np.zeros_like(G[:, :1]), P[:, :-1]], axis=1)
    grads.update(W, h0=P[:, :K_req - 1].sum(axis=1))
    return (grads, dh) if return_dh else grads


def mse_loss(y: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean squared error over every entry (as ``torch.nn.functional.mse_loss``) and dL/dy."""
    check_array(target, "target", shape=y.shape)  # y comes from forward
    diff = y - target                      # (B, T, O)
    return float(np.mean(diff ** 2)), 2.0 * diff / diff.size


def loss_and_grads(params: dict, x: np.ndarray, y: np.ndarray, h0: np.ndarray | None = None, *,
                   truncate: int | None = None, truncation: str = "sliding",
                   activation: str = "tanh") -> tuple[float, dict]:
    """Forward, MSE loss against targets ``y`` and (possibly truncated) BPTT in one call."""
    out, cache = forward(params, x, h0, activation=activation)
    loss, dy = mse_loss(out, y)
    return loss, backward(params, cache, dy, truncate=truncate, truncation=truncation)


def numerical_gradient(f, params: dict, eps: float = 1e-6) -> dict:
    """Central finite differences ``(f(p + eps) - f(p - eps)) / (2 eps)`` of a scalar ``f(params)``,
    one entry at a time, for every array in ``params`` (float64 copies; ``params`` is untouched).
    """
    if not (isinstance(eps, float) and 0 < eps < 1):
        raise ValueError(f"eps must be a float in (0, 1), got {eps!r}")
    p = {k: np.array(v, dtype=np.float64) for k, v in params.items()}
    grads = {}
    for name, arr in p.items():
        g = np.zeros_like(arr)
        for idx in np.ndindex(arr.shape):
            old = arr[idx]
            arr[idx] = old + eps
            f_plus = float(f(p))
            arr[idx] = old - eps
            f_minus = float(f(p))
            arr[idx] = old
            g[idx] = (f_plus - f_minus) / (2 * eps)
        grads[name] = g
    return grads


def relative_error(a, b) -> float:
    """``||a - b|| / (||a|| + ||b||)`` (0 when both are zero): scale-free, in [0, 1]."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    den = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if den == 0 else float(np.linalg.norm(a - b) / den)


def cache_nbytes(cache: dict) -> int:
    """Bytes of the arrays a forward pass keeps for BPTT (x, a and h)."""
    return int(sum(v.nbytes for v in cache.values() if isinstance(v, np.ndarray)))


def to_torch_rnn(params: dict, *, nonlinearity: str = "tanh") -> nn.RNN:
    """A one-layer, batch-first, float64 ``torch.nn.RNN`` with the same hidden states.

    ``bias_ih`` gets ``b_h`` and ``bias_hh`` is zero; the read-out is not part of ``nn.RNN``.
    """
    D, H, _ = check_params(params)
    rnn = nn.RNN(D, H, nonlinearity=nonlinearity, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        names = (("W_xh", "weight_ih_l0"), ("W_hh", "weight_hh_l0"), ("b_h", "bias_ih_l0"))
        for mine, theirs in names:
            getattr(rnn, theirs).copy_(torch.from_numpy(np.asarray(params[mine], np.float64)))
        rnn.bias_hh_l0.zero_()
    return rnn


def from_torch_rnn(module: nn.RNN, *, W_hy: np.ndarray | None = None,
                   b_y: np.ndarray | None = None) -> dict:
    """The float64 parameter dict of a one-layer, unidirectional ``torch.nn.RNN``.

    ``b_h`` is the sum of PyTorch's two biases (zeros for ``bias=False``). Pass ``W_hy`` (O, H)
    and ``b_y`` (O,) to add a read-out; without them :func:`forward` returns the hidden states.
    For a ReLU module, call :func:`forward` with ``activation="relu"``.
    """
    check_instance(module, "module", nn.RNN, "a torch.nn.RNN")  # an LSTM would read silently
    if module.num_layers != 1 or module.bidirectional:
        raise ValueError("module must be a one-layer, unidirectional nn.RNN, got "
                         f"num_layers={module.num_layers}, bidirectional={module.bidirectional}")
    def np64(t):
        return t.detach().cpu().to(torch.float64).numpy().copy()

    params = {"W_xh": np64(module.weight_ih_l0), "W_hh": np64(module.weight_hh_l0),
              "b_h": np64(module.bias_ih_l0) + np64(module.bias_hh_l0) if module.bias
              else np.zeros(module.hidden_size)}
    if W_hy is not None:
        params.update(W_hy=np.array(W_hy, dtype=np.float64), b_y=np.array(b_y, dtype=np.float64))
    return params
