"""Argument checks shared by every public function of :mod:`rnnlab`.

Each helper raises ``TypeError`` or ``ValueError`` with a message that names the argument,
what was expected and what came, so a learner who passes a wrong shape reads the fix in the
error itself.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = [
    "check_int", "check_float", "check_choice", "check_array", "check_tensor", "check_state",
    "check_ids", "check_steps", "check_instance", "check_scalar", "describe",
]


def describe(x) -> str:
    """Short description of an array-like value for error messages."""
    if isinstance(x, torch.Tensor):
        return f"torch.Tensor of shape {tuple(x.shape)} and dtype {x.dtype}"
    if isinstance(x, np.ndarray):
        return f"numpy array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__} ({x!r:.60})"


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int within ``[minimum, maximum]``; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {describe(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return int(value)


def check_float(value, name: str, *, minimum: float | None = None, maximum: float | None = None,
                strict_min: bool = False) -> float:
    """Return ``value`` as float if it is a real number in range; raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {describe(value)}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None and (value < minimum or (strict_min and value == minimum)):
        op = ">" if strict_min else ">="
        raise ValueError(f"{name} must be {op} {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be <= {maximum}, got {value}")
    return value


def check_instance(value, name: str, types, what: str | None = None):
    """Return ``value`` if it is an instance of ``types`` (a class or a tuple of them); raise a
    TypeError that says ``what`` was expected (default: the class's full name) and what came."""
    if not isinstance(value, types):
        if what is None:
            module = "" if types.__module__ == "builtins" else types.__module__ + "."
            what = f"a {module}{types.__qualname__}"
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def check_choice(value, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``; raise a ValueError that lists them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}, got {value!r}")
    return value


def _check_shape(shape, ndim, shape_spec, name, x):
    """Raise if ``shape`` does not match; the description of ``x`` is built only on failure."""
    if ndim is not None and len(shape) != ndim:
        what = describe(x)
        hint = f" {shape_spec}" if shape_spec else ""
        raise ValueError(f"{name} must have {ndim} dimensions{hint}, got {what}")
    if shape_spec is not None and isinstance(shape_spec, tuple):
        for axis, (want, got) in enumerate(zip(shape_spec, shape)):
            if isinstance(want, int) and want != got:
                what = describe(x)
                raise ValueError(
                    f"{name} must have size {want} on axis {axis} (expected shape "
                    f"{shape_spec}), got {what}")


def check_array(x, name: str, *, ndim: int | None = None, shape: tuple | None = None,
                floating: bool = True) -> np.ndarray:
    """Check a NumPy array's type, number of dimensions, fixed sizes and dtype.

    ``shape`` may mix ints (fixed sizes) and strings (free sizes, used in the message),
    e.g. ``shape=("B", "T", 3)``.
    """
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {describe(x)}")
    _check_shape(x.shape, ndim if ndim is not None else (len(shape) if shape else None),
                 shape, name, x)
    if floating and not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name} must have a floating dtype (float32 or float64), "
                        f"got {describe(x)}")
    return x


def check_tensor(x, name: str, *, ndim: int | None = None, shape: tuple | None = None,
                 floating: bool = True, allow_complex: bool = False) -> torch.Tensor:
    """Check a torch tensor's type, number of dimensions, fixed sizes and dtype (as check_array);
    ``allow_complex=True`` accepts complex dtypes as floating."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(x)}")
    _check_shape(tuple(x.shape), ndim if ndim is not None else (len(shape) if shape else None),
                 shape, name, x)
    if floating and not (x.is_floating_point() or (allow_complex and x.is_complex())):
        kinds = "float32, float64 or complex" if allow_complex else "float32 or float64"
        raise TypeError(f"{name} must have a floating dtype ({kinds}), got {describe(x)}")
    return x


def check_steps(x, name: str, *, batch: bool = False):
    """Return ``x`` (an array or tensor ``(B, T, ...)``) if it has at least one time step, and
    with ``batch=True`` at least one sequence; raise a ValueError otherwise."""
    if x.shape[1] == 0 or (batch and x.shape[0] == 0):
        need = "at least one sequence and one time step" if batch else "at least one time step"
        raise ValueError(f"{name} must have {need}, got {describe(x)}")
    return x


def check_scalar(value, name: str) -> torch.Tensor:
    """Return ``value`` if it is a tensor holding one number (a loss); raise a TypeError for
    anything else than a tensor, a ValueError for a tensor of another size."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a scalar tensor (one number), got {describe(value)}")
    if value.numel() != 1:
        raise ValueError(f"{name} must be a scalar tensor (one number), got {describe(value)}")
    return value


def check_state(state, name: str, batch_size: int, hidden_size: int):
    """Check a recurrent state: one tensor ``(B, H)`` or a tuple of them (the LSTM's ``(h, c)``)."""
    if isinstance(state, tuple):
        for i, part in enumerate(state):
            check_tensor(part, f"{name}[{i}]", shape=(batch_size, hidden_size))
    else:
        check_tensor(state, name, shape=(batch_size, hidden_size))
    return state


def check_ids(ids, name: str = "ids", *, ndim: int = 1) -> torch.Tensor:
    """Integer token ids as a long tensor, ``(T,)`` (``ndim=1``) or ``(B, T)`` (``ndim=2``), from
    a tensor, an array or a list of ints."""
    if isinstance(ids, (list, tuple, np.ndarray)):
        ids = torch.as_tensor(np.asarray(ids, dtype=np.int64) if len(ids) else [], dtype=torch.long)
    shape = "(T,)" if ndim == 1 else "(B, T)"
    if not isinstance(ids, torch.Tensor):
        raise TypeError(f"{name} must be a {ndim}-D tensor of ints {shape}, got {describe(ids)}")
    if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise TypeError(f"{name} must hold integer ids, got {describe(ids)}")
    if ids.ndim != ndim:
        words = "one-dimensional" if ndim == 1 else "two-dimensional"
        raise ValueError(f"{name} must be {words} {shape}, got {describe(ids)}")
    return ids.long()
