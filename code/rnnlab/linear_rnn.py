"""Linear recurrent layers: a diagonal complex recurrence and the minGRU (chapter 7).

* :class:`LinearRecurrentCell` is one step of the recurrence of the linear recurrent unit
  (Orvieto et al. 2023), ``h_t = lambda * h_{t-1} + gamma * (B x_t)``, with one complex
  eigenvalue ``lambda_n`` per unit. Its Jacobian is ``diag(lambda)`` whatever the input, so
  the gradient ``k`` steps back is multiplied by ``|lambda_n|^k`` exactly. The eigenvalues
  are parameterised as ``lambda = exp(-exp(nu_log) + i exp(theta_log))``: their modulus
  ``exp(-exp(nu_log))`` is below 1 for every value of the parameters and reaches towards 1 as
  ``nu_log`` goes to minus infinity; the phase is ``exp(theta_log)``. :func:`ring_init` draws
  them uniformly on a ring ``r_min <= |lambda| <= r_max``. ``gamma`` is a trained parameter
  initialised at ``sqrt(1 - |lambda|^2)``: for uncorrelated zero-mean inputs that keeps the
  state's scale independent of how close to 1 the modulus is (a constant part of the input
  still grows by ``|1 - lambda|^-1`` against ``gamma``'s ``sqrt(1 - |lambda|^2)^-1``). The
  complex state is held as one real tensor
  ``[Re h, Im h]`` of shape ``(B, 2N)``, so the tools of :mod:`rnnlab.gradients` apply.
* :func:`memory_horizon` is the lag at which ``|lambda|^k`` falls to ``eps``: computable from
  the eigenvalues before any training.
* :class:`LinearRecurrentLayer` runs the cell over a sequence, by the parallel scan of
  :mod:`rnnlab.scan` (default) or by the loop; :class:`LinearRNN` is a model around it: a
  position-wise encoder, the recurrence and a nonlinear read-out. ``core="mingru"`` or
  ``"lstm"`` puts a minGRU or an LSTM between the same encoder and read-out, for comparisons
  in which only the recurrence differs (chapter 7's payoff).
* :class:`MinGRUCell` / :class:`MinGRULayer`: the GRU whose gates read only ``x_t`` (Feng et
  al. 2024), hence a linear recurrence in ``h`` trainable by the same scan.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import (
    check_choice,
    check_float,
    check_int,
    check_state,
    check_steps,
    check_tensor,
    describe,
)
from .init import chrono_bias, chrono_init_
from .runtime import make_generator
from .scan import recurrence_loop, recurrence_reduce, recurrence_scan

__all__ = ["ring_init", "memory_horizon", "LinearRecurrentCell", "LinearRecurrentLayer",
           "LinearRNN", "MinGRUCell", "MinGRULayer", "METHODS", "CORES"]

#: How a layer runs its recurrence over the sequence.
METHODS = {"scan": recurrence_scan, "loop": recurrence_loop}
#: What :class:`LinearRNN` can put between its encoder and its read-out.
CORES = ("lru", "mingru", "lstm")


def ring_init(state_size: int, r_min: float = 0.9, r_max: float = 0.999,
              max_phase: float = 2 * math.pi, *, generator: torch.Generator | None = None):
    """``(nu_log, theta_log)``, each ``(N,)``: eigenvalues uniform on the ring
    ``r_min <= |lambda| <= r_max`` (uniform in area) with phases uniform in ``[0, max_phase]``."""
    N = state_size                                   # LinearRecurrentCell checks it
    r_min = check_float(r_min, "r_min", minimum=0.0)
    r_max = check_float(r_max, "r_max", minimum=r_min)
    if r_max >= 1.0:
        raise ValueError(f"r_max must be below 1 (a modulus of 1 never forgets), got {r_max}")
    max_phase = check_float(max_phase, "max_phase", minimum=0.0, strict_min=True)
    generator = generator or make_generator(0)
    u1, u2 = torch.rand(2, N, generator=generator, dtype=torch.float64)
    modulus = torch.sqrt(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2)     # (N,)
    modulus = modulus.clamp(min=1e-30)                                     # r_min = 0: log(0)
    nu_log = torch.log(-torch.log(modulus))                                # |lambda| = exp(-e^nu)
    theta_log = torch.log((max_phase * u2).clamp(min=1e-30))               # arg lambda = e^theta
    return nu_log.float(), theta_log.float()


def memory_horizon(modulus, eps: float = 0.01) -> torch.Tensor:
    """The lag ``k`` at which ``|lambda|^k = eps``: ``ln(eps) / ln|lambda|`` (``inf`` at 1)."""
    eps = check_float(eps, "eps", minimum=0.0, strict_min=True)
    if eps >= 1:
        raise ValueError(f"eps must be below 1, got {eps}")
    try:
        r = torch.as_tensor(modulus)
    except (TypeError, ValueError, RuntimeError):
        r = None
    if r is None or r.is_complex() or r.dtype == torch.bool:
        raise TypeError("modulus must be a real number or a list, array or tensor of them, got "
                        f"{describe(modulus)}")
    r = r.to(torch.float64)
    if torch.any((r < 0) | (r > 1)):
        raise ValueError("modulus must hold numbers in [0, 1], got values outside it")
    k = math.log(eps) / torch.log(r)                                       # same shape as r
    return torch.where(r == 1, math.inf, k)                                # 1 never forgets


class LinearRecurrentCell(nn.Module):
    """``h_t = lambda * h_{t-1} + gamma * (B x_t)`` with ``N`` complex units; state ``(B, 2N)``."""

    def __init__(self, input_size: int, state_size: int, *, r_min: float = 0.9,
                 r_max: float = 0.999, max_phase: float = 2 * math.pi, seed: int = 0):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.state_size = check_int(state_size, "state_size", minimum=1)
        self.hidden_size = 2 * state_size                       # [Re h, Im h] as real numbers
        g = make_generator(seed)
        nu_log, theta_log = ring_init(state_size, r_min, r_max, max_phase, generator=g)
        self.nu_log = nn.Parameter(nu_log)                      # (N,)
        self.theta_log = nn.Parameter(theta_log)                # (N,)
        modulus = torch.exp(-torch.exp(nu_log))
        self.gamma_log = nn.Parameter(0.5 * torch.log(1 - modulus ** 2))  # (N,): sqrt(1 - |l|^2)
        scale = 1 / math.sqrt(2 * input_size)                   # E|B x|^2 = |x|^2 / D
        self.B_re = nn.Parameter(torch.randn(state_size, input_size, generator=g) * scale)
        self.B_im = nn.Parameter(torch.randn(state_size, input_size, generator=g) * scale)

    def eigenvalues(self) -> torch.Tensor:
        """``lambda = exp(-exp(nu_log) + i exp(theta_log))``, complex ``(N,)``."""
        return torch.exp(torch.complex(-torch.exp(self.nu_log), torch.exp(self.theta_log)))

    def input_part(self, x: torch.Tensor) -> torch.Tensor:
        """``gamma * (B x)`` for ``x (..., D)``: complex ``(..., N)``."""
        gamma = torch.exp(self.gamma_log).unsqueeze(1)          # (N, 1): scales B's rows
        return torch.complex(x @ (gamma * self.B_re).T, x @ (gamma * self.B_im).T)  # (..., N)

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero state ``(B, 2N)``."""
        return torch.zeros(batch_size, self.hidden_size, device=device or self.nu_log.device,
                           dtype=dtype or self.nu_log.dtype)

    @staticmethod
    def hidden(state: torch.Tensor) -> torch.Tensor:
        """The state is the output: ``[Re h, Im h]``."""
        return state

    def forward(self, x_t: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        """One step: ``x_t (B, D)``, ``state (B, 2N)`` -> ``state (B, 2N)``."""
        h_prev = torch.complex(*state.chunk(2, dim=1))          # (B, N) complex
        h = self.eigenvalues() * h_prev + self.input_part(x_t)  # (B, N): lambda h + gamma B x
        return torch.cat([h.real, h.imag], dim=1)               # (B, 2N)


class LinearRecurrentLayer(nn.Module):
    """Run a :class:`LinearRecurrentCell` over ``x (B, T, D)``: ``(outputs (B, T, 2N), state)``.

    ``method="scan"`` computes all steps by the parallel prefix scan, ``"loop"`` one after
    another; both give the same numbers up to rounding.
    """

    def __init__(self, input_size: int, state_size: int, *, method: str = "scan", **ring):
        super().__init__()
        self.cell = LinearRecurrentCell(input_size, state_size, **ring)
        self.method = check_choice(method, "method", list(METHODS))

    def _recurrence(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple:
        """``(lambda, gamma B x_t, h0)``, the inputs of the scan, for ``x (B, T, D)`` and an
        optional ``state (B, 2N)`` (``h0``: complex ``(B, N)``, or None), both checked."""
        cell = self.cell
        check_steps(check_tensor(x, "x", shape=("B", "T", cell.input_size)), "x")
        h0 = None
        if state is not None:
            check_state(state, "state", x.shape[0], cell.hidden_size)
            h0 = torch.complex(*state.chunk(2, dim=1))          # (B, N)
        return cell.eigenvalues(), cell.input_part(x), h0       # (N,), (B, T, N), (B, N)

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        h = METHODS[self.method](*self._recurrence(x, state))   # (B, T, N)
        outputs = torch.cat([h.real, h.imag], dim=-1)           # (B, T, 2N)
        return outputs, outputs[:, -1]

    def final_state(self, x: torch.Tensor, state: torch.Tensor | None = None) -> torch.Tensor:
        """Only the last state ``(B, 2N)``, by the parallel reduction of :mod:`rnnlab.scan`."""
        h = recurrence_reduce(*self._recurrence(x, state))     # (B, N)
        return torch.cat([h.real, h.imag], dim=-1)              # (B, 2N)


class LinearRNN(nn.Module):
    """Encoder ``u_t = relu(W_in x_t + b_in)`` at every step, a recurrence, and a read-out MLP:
    ``y = W_2 gelu(W_1 h + b_1) + b_2`` on the last step (``head="last"``) or every step
    (``head="all"``). Only the recurrence mixes time steps.

    ``core="lru"`` (default): the linear recurrence with ``state_size`` complex units,
    ``h = [Re h, Im h]``, and ``ring`` for :class:`LinearRecurrentCell` (``r_min``, ``r_max``,
    ``max_phase``, ``seed``); ``method`` is ``"scan"``, ``"loop"`` or, with ``head="last"``,
    ``"reduce"``: the last state alone, by :meth:`LinearRecurrentLayer.final_state`.
    ``core="mingru"`` (scan or loop) or ``"lstm"`` (PyTorch's fused layer): ``2 * state_size``
    real units, the same number of numbers in the state; with ``max_lag`` the LSTM's input and
    forget biases get the chrono initialisation (:func:`rnnlab.init.chrono_init_`) and the
    minGRU's keep gate ``z`` the same forget bias, ``b_z = log U[1, max_lag - 1]``, drawn
    from ``seed`` (in ``ring``; 0 if absent)."""

    def __init__(self, input_size: int, hidden_size: int, state_size: int, output_size: int, *,
                 head: str = "last", method: str = "scan", core: str = "lru",
                 max_lag: int | None = None, **ring):
        super().__init__()
        self.head = check_choice(head, "head", ["last", "all"])  # sizes: the layers check them
        self.core = check_choice(core, "core", list(CORES))
        self.method = check_choice(method, "method", [*METHODS, "reduce"])
        if method == "reduce" and (head != "last" or core != "lru"):
            raise ValueError(f"method='reduce' computes the last state of the LRU only; it needs "
                             f"head='last' and core='lru', got head={head!r}, core={core!r}")
        if core != "lru" and set(ring) - {"seed"}:
            raise ValueError(f"{sorted(set(ring) - {'seed'})} set the LRU's ring; "
                             f"core={core!r} has none")
        if max_lag is not None and core == "lru":
            raise ValueError("max_lag sets a gate's bias; core='lru' has no gate (its ring does "
                             "that: r_min, r_max)")
        self.encoder = nn.Sequential(nn.Linear(input_size, hidden_size), nn.ReLU())
        if core == "lru":
            self.layer = LinearRecurrentLayer(hidden_size, state_size, method="scan"
                                              if method == "reduce" else method, **ring)
        elif core == "mingru":
            self.layer = MinGRULayer(hidden_size, 2 * state_size, method=method)
        else:
            self.layer = nn.LSTM(hidden_size, 2 * state_size, batch_first=True)
        if max_lag is not None:
            g = make_generator(ring.get("seed", 0))
            if core == "lstm":
                chrono_init_(self.layer, max_lag, generator=g)
            else:
                b_z = chrono_bias(2 * state_size, max_lag, generator=g)[1]   # (2N,)
                with torch.no_grad():
                    self.layer.cell.b[:2 * state_size] = b_z         # rows of z, then n
        self.readout = nn.Sequential(nn.Linear(2 * state_size, hidden_size), nn.GELU(),
                                     nn.Linear(hidden_size, output_size))

    @property
    def input_size(self) -> int:
        return self.encoder[0].in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        u = self.encoder(x)                                     # (B, T, H)
        if self.method == "reduce":
            return self.readout(self.layer.final_state(u))      # (B, O)
        h = self.layer(u)[0]                                    # (B, T, 2N)
        return self.readout(h[:, -1] if self.head == "last" else h)  # (B, O) or (B, T, O)


class MinGRUCell(nn.Module):
    """The minGRU step of Feng et al. (2024) in chapter 4's convention (``z`` weights the old
    state): ``z = sigmoid(W_xz x_t + b_z)``, ``n = W_xn x_t + b_n``,
    ``h = (1 - z) * n + z * h_prev``. Rows of ``W_x (2H, D)`` and ``b (2H,)``: ``z``, ``n``."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", minimum=1)
        bound = 1.0 / math.sqrt(hidden_size)                    # PyTorch's GRU initialisation
        self.W_x = nn.Parameter(torch.empty(2 * hidden_size, input_size).uniform_(-bound, bound))
        self.b = nn.Parameter(torch.empty(2 * hidden_size).uniform_(-bound, bound))

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        return torch.zeros(batch_size, self.hidden_size, device=device or self.W_x.device,
                           dtype=dtype or self.W_x.dtype)

    @staticmethod
    def hidden(state: torch.Tensor) -> torch.Tensor:
        return state

    def gates(self, x: torch.Tensor) -> tuple:
        """``(z, n)`` for inputs ``x (..., D)``: both depend on the input only."""
        a_xz, a_xn = (x @ self.W_x.T + self.b).chunk(2, dim=-1)  # (..., H) each
        return torch.sigmoid(a_xz), a_xn

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        """One step: ``x_t (B, D)``, ``h_prev (B, H)`` -> ``h (B, H)``."""
        a_xz, a_xn = (x_t @ self.W_x.T + self.b).chunk(2, dim=1)  # (B, H) each: input parts only
        z = torch.sigmoid(a_xz)                                  # update gate: reads x_t only
        n = a_xn                                                 # candidate: reads x_t only
        h = (1 - z) * n + z * h_prev                             # (B, H): the GRU's last line
        return h


class MinGRULayer(nn.Module):
    """Run a :class:`MinGRUCell` over ``x (B, T, D)``: ``h_t = z_t h_{t-1} + (1 - z_t) n_t``
    is the recurrence of :mod:`rnnlab.scan` with ``a = z`` and ``b = (1 - z) n``."""

    def __init__(self, input_size: int, hidden_size: int, *, method: str = "scan"):
        super().__init__()
        self.cell = MinGRUCell(input_size, hidden_size)
        self.method = check_choice(method, "method", list(METHODS))

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None):
        check_steps(check_tensor(x, "x", shape=("B", "T", self.cell.input_size)), "x")
        if state is not None:
            check_state(state, "state", x.shape[0], self.cell.hidden_size)
        z, n = self.cell.gates(x)                               # (B, T, H) each, all steps
        h = METHODS[self.method](z, (1 - z) * n, state)         # (B, T, H)
        return h, h[:, -1]
