"""Weight initialisers (chapters 3 and 5).

Each function returns a new tensor of the requested shape (rows = fan-out, columns = fan-in,
as in ``torch.nn.Linear``) drawn with an explicit ``torch.Generator`` so experiments do not
depend on what ran before. :func:`init_recurrent_` applies a scheme to a cell's ``W_hh``.

==================  =====================================  ===========================
name                rule                                   reference
==================  =====================================  ===========================
``xavier``          U(-a, a), a = sqrt(6/(fan_in+fan_out))  Glorot & Bengio (2010)
``xavier_normal``   N(0, 2/(fan_in+fan_out))               Glorot & Bengio (2010)
``he``              N(0, 2/fan_in)                         He et al. (2015)
``orthogonal``      Q of a QR decomposition, signs fixed   Saxe et al. (2013)
``identity``        I (square only)                        Le et al. (2015), IRNN
==================  =====================================  ===========================

:func:`chrono_bias` and :func:`chrono_init_` (chapter 7) set an LSTM's gate biases from the
longest lag a task needs, the chrono initialisation of Tallec & Ollivier (2018).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_choice, check_float, check_instance, check_int, check_tensor, describe

__all__ = ["xavier_uniform", "xavier_normal", "he_normal", "orthogonal", "scaled_orthogonal",
           "identity", "INITIALIZERS", "init_recurrent_", "chrono_bias", "chrono_init_",
           "spectral_norm", "spectral_radius"]


def _shape(rows, cols):
    return check_int(rows, "rows", minimum=1), check_int(cols, "cols", minimum=1)


def _gen(generator):
    return check_instance(generator, "generator", (torch.Generator, type(None)),
                          "a torch.Generator or None")


def xavier_uniform(rows: int, cols: int, *, gain: float = 1.0, generator=None,
                   dtype=torch.float32) -> torch.Tensor:
    """Glorot/Xavier uniform: variance ``gain**2 * 2 / (fan_in + fan_out)``."""
    rows, cols = _shape(rows, cols)
    a = gain * math.sqrt(6.0 / (rows + cols))
    return (torch.rand(rows, cols, generator=_gen(generator), dtype=dtype) * 2 - 1) * a


def xavier_normal(rows: int, cols: int, *, gain: float = 1.0, generator=None,
                  dtype=torch.float32) -> torch.Tensor:
    """Glorot/Xavier normal: ``N(0, gain**2 * 2 / (fan_in + fan_out))``."""
    rows, cols = _shape(rows, cols)
    std = gain * math.sqrt(2.0 / (rows + cols))
    return torch.randn(rows, cols, generator=_gen(generator), dtype=dtype) * std


def he_normal(rows: int, cols: int, *, generator=None, dtype=torch.float32) -> torch.Tensor:
    """He/Kaiming normal for ReLU layers: ``N(0, 2 / fan_in)`` with fan_in = ``cols``."""
    rows, cols = _shape(rows, cols)
    return torch.randn(rows, cols, generator=_gen(generator), dtype=dtype) * math.sqrt(2.0 / cols)


def orthogonal(rows: int, cols: int | None = None, *, generator=None,
               dtype=torch.float32) -> torch.Tensor:
    """A random (semi-)orthogonal matrix, uniformly distributed (Haar) for square shapes."""
    cols = rows if cols is None else cols
    rows, cols = _shape(rows, cols)
    big, small = max(rows, cols), min(rows, cols)
    a = torch.randn(big, small, generator=_gen(generator), dtype=torch.float64)
    q, r = torch.linalg.qr(a)                      # (big, small)
    q = q * torch.sign(torch.diagonal(r))           # sign fix makes the distribution uniform
    q = q if rows >= cols else q.T
    return q.to(dtype)


def scaled_orthogonal(n: int, scale: float, *, generator=None, dtype=torch.float32) -> torch.Tensor:
    """``scale * Q`` with Q random orthogonal ``(n, n)``: every singular value, and every
    eigenvalue's modulus, equals ``scale``."""
    return scale * orthogonal(n, generator=generator, dtype=dtype)


def identity(rows: int, cols: int | None = None, *, generator=None,
             dtype=torch.float32) -> torch.Tensor:
    """The identity matrix (IRNN initialisation of ``W_hh``); ``generator`` is ignored."""
    cols = rows if cols is None else cols
    rows, cols = _shape(rows, cols)
    if rows != cols:
        raise ValueError(f"identity initialisation needs a square matrix, got ({rows}, {cols})")
    return torch.eye(rows, dtype=dtype)


INITIALIZERS = {"xavier": xavier_uniform, "xavier_normal": xavier_normal, "he": he_normal,
                "orthogonal": orthogonal, "identity": identity}


def init_recurrent_(cell, scheme: str, *, scale: float = 1.0, generator=None):
    """Overwrite ``cell.W_hh`` in place with ``scale * INITIALIZERS[scheme](H, H)``."""
    check_choice(scheme, "scheme", list(INITIALIZERS))
    if not isinstance(getattr(cell, "W_hh", None), torch.Tensor):
        raise TypeError("cell must be a cell with a W_hh parameter (an RNNCell), got "
                        f"{describe(cell)}")
    rows, cols = cell.W_hh.shape
    w = INITIALIZERS[scheme](rows, cols, generator=generator, dtype=cell.W_hh.dtype)
    with torch.no_grad():
        cell.W_hh.copy_(check_float(scale, "scale") * w)
    return cell


def chrono_bias(hidden_size: int, max_lag: int, *, generator=None,
                dtype=torch.float32) -> tuple:
    """``(b_i, b_f)``, each ``(H,)``: ``b_f = log(u)`` with ``u ~ U[1, max_lag - 1]`` and
    ``b_i = -b_f`` (Tallec & Ollivier 2018). A unit with forget gate ``sigmoid(b_f) = u / (1 + u)``
    keeps its memory for about ``1 + u`` steps, so the units' horizons spread from 2 steps to
    ``max_lag``, the longest lag the task needs."""
    H = check_int(hidden_size, "hidden_size", minimum=1)
    T_max = check_int(max_lag, "max_lag", minimum=2)
    u = 1 + (T_max - 2) * torch.rand(H, generator=_gen(generator), dtype=torch.float64)  # (H,)
    b_f = torch.log(u)                                              # (H,): in [0, log(T_max - 1)]
    return (-b_f).to(dtype), b_f.to(dtype)


def chrono_init_(lstm, max_lag: int, *, generator=None):
    """Overwrite the input and forget biases of an LSTM with :func:`chrono_bias`, in place:
    a ``torch.nn.LSTM`` (every layer and direction; ``bias_ih`` gets the value, ``bias_hh`` 0,
    since only their sum matters) or the course's ``LSTMCell`` (its ``b``). The other gates'
    biases and all weights are kept."""
    if isinstance(lstm, nn.LSTM) and lstm.bias:
        H = lstm.hidden_size
        biases = [(getattr(lstm, name), getattr(lstm, name.replace("_ih", "_hh")))
                  for name, _ in lstm.named_parameters() if name.startswith("bias_ih")]
    elif getattr(lstm, "GATES", None) == ("i", "f", "g", "o"):
        H = lstm.hidden_size
        biases = [(lstm.b, None)]
    else:
        raise TypeError("lstm must be a torch.nn.LSTM with biases or an rnnlab LSTMCell, got "
                        f"{describe(lstm)}")
    with torch.no_grad():
        for b, b_hh in biases:
            b_i, b_f = chrono_bias(H, max_lag, generator=generator, dtype=b.dtype)
            b[:H], b[H:2 * H] = b_i, b_f                            # gate order i, f, g, o
            if b_hh is not None:
                b_hh[:2 * H] = 0.0
    return lstm


def spectral_norm(W: torch.Tensor) -> float:
    """Largest singular value of a matrix."""
    check_tensor(W, "W", ndim=2)
    return float(torch.linalg.matrix_norm(W.detach().double(), ord=2))


def spectral_radius(W: torch.Tensor) -> float:
    """Largest modulus of an eigenvalue of a square matrix."""
    check_tensor(W, "W", ndim=2)  # eigvals names a matrix that is not square
    return float(torch.linalg.eigvals(W.detach().double()).abs().max())
