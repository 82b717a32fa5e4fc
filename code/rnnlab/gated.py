"""Gated recurrent cells written from scratch: LSTM and GRU (chapter 4).

Each cell's :meth:`forward` is one time step written as the chapter's equations, one line each,
with ``*`` the elementwise product::

    LSTM  i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o)    g = tanh(a_g)
          c = f * c_prev + i * g                                 h = o * tanh(c)
    GRU   r, z = sigmoid(a_r), sigmoid(a_z)     n = tanh(a_xn + r * (a_hn + b_hn))
          h = (1 - z) * n + z * h_prev

where every ``a`` is the gate's input ``W_x. x_t + W_h. h_prev + b.``. The GRU is PyTorch's form
(``n`` is the candidate, often written h~); :class:`ChoGRUCell` is Cho et al. (2014)'s, with the
reset gate inside the product: ``W_hn (r * h_prev)``.

The weights are stacked by gate in PyTorch's order, so one matrix product serves every gate:
``W_x (GH, D)``, ``W_h (GH, H)``, ``b (GH,)`` with rows ``i, f, g, o`` (LSTM, G = 4) or
``r, z, n`` (GRU, G = 3, plus ``b_hn (H,)``); ``cell.weights("f")`` gives the views
``(W_xf, W_hf, b_f)`` of one gate. PyTorch keeps two biases per gate; only their sum matters
(except the GRU's ``b_hn``), so loading sums them.

:meth:`unroll` is the fast path over a whole sequence: it computes the input part
``W_x x_t + b`` of every step in one matrix product before the loop and hands it to the same
:meth:`forward` (its ``x_proj`` argument). Arguments are checked once, by :meth:`unroll` and by
:class:`rnnlab.models.RecurrentLayer`, never inside the per-step loop.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_int, check_state, check_tensor

__all__ = ["LSTMCell", "GRUCell", "ChoGRUCell", "cells_from_torch", "cells_to_torch"]


class _GatedCell(nn.Module):
    """What the LSTM and GRU cells share: stacked weights, zero state, loading, unrolling.
    The step itself, :meth:`forward`, is written out in each cell."""
    GATES: tuple = ()
    TORCH_TYPES: tuple = ()

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.input_size = check_int(input_size, "input_size", minimum=1)
        self.hidden_size = check_int(hidden_size, "hidden_size", minimum=1)
        G, H = len(self.GATES), hidden_size
        self.W_x = nn.Parameter(torch.empty(G * H, input_size))  # (GH, D)
        self.W_h = nn.Parameter(torch.empty(G * H, H))           # (GH, H)
        self.b = nn.Parameter(torch.empty(G * H))                # (GH,)

    def reset_parameters(self) -> None:
        """PyTorch's initialisation: every entry uniform in ``(-1/sqrt(H), 1/sqrt(H))``."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def weights(self, gate: str) -> tuple:
        """Views ``(W_x<gate>, W_h<gate>, b_<gate>)`` of one gate's rows, e.g. ``weights("f")``."""
        if gate not in self.GATES:
            raise ValueError(f"gate must be one of {list(self.GATES)}, got {gate!r}")
        k, H = self.GATES.index(gate), self.hidden_size
        rows = slice(k * H, (k + 1) * H)
        return self.W_x[rows], self.W_h[rows], self.b[rows]

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero ``h`` ``(B, H)``, on the parameters' device and dtype by default."""
        return torch.zeros(batch_size, self.hidden_size, device=device or self.W_h.device,
                           dtype=dtype or self.W_h.dtype)

    @staticmethod
    def hidden(state):
        """The output ``h`` of a state (the whole state of a GRU)."""
        return state

    @torch.no_grad()
    def gate_activity(self, x: torch.Tensor) -> dict:
        """What :meth:`forward` records at every step along ``x (B, T, D)`` from the zero state,
        each ``(B, T, H)``: ``{"i", "f", "g", "o", "c", "h"}`` (LSTM), ``{"r", "z", "n", "h"}``
        (GRU)."""
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        state = self.init_state(x.shape[0], device=x.device, dtype=x.dtype)
        trace = {}
        for x_t in x.unbind(1):
            step = {}
            state = self(x_t, state, record=step)
            for name, value in step.items():
                trace.setdefault(name, []).append(value)     # (B, H)
        return {name: torch.stack(v, 1) for name, v in trace.items()}   # (B, T, H) each

    def unroll(self, x: torch.Tensor, state=None):
        """``(outputs (B, T, H), final state)`` over ``x (B, T, D)``, like
        ``RecurrentLayer(cell)(x, state)``, with the input part of every step computed first."""
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        if state is None:
            state = self.init_state(x.shape[0], device=x.device, dtype=x.dtype)
        check_state(state, "state", x.shape[0], self.hidden_size)
        x_proj = x @ self.W_x.T + self.b                     # (B, T, GH): W_x x_t + b, all steps
        outputs = []
        # unbind, not x_proj[:, t]: the backward of an index writes a whole (B, T, GH) gradient
        # at every step, T^2 work; unbind's backward stacks the T step gradients once
        for x_t, x_proj_t in zip(x.unbind(1), x_proj.unbind(1)):   # (B, D), (B, GH): step t
            state = self(x_t, state, x_proj=x_proj_t)
            outputs.append(self.hidden(state))               # (B, H)
        return torch.stack(outputs, 1), state                # (B, T, H)

    # -- weights from and to PyTorch ------------------------------------------------------
    @classmethod
    def _torch_params(cls, module, layer, reverse=False):
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer (and direction) of a PyTorch
        module."""
        if not isinstance(module, cls.TORCH_TYPES):
            raise TypeError(f"module must be torch.nn.{cls.TORCH_TYPES[0].__name__} or "
                            f"{cls.TORCH_TYPES[1].__name__}, got {type(module).__name__}")
        is_layer = not isinstance(module, cls.TORCH_TYPES[1])
        if reverse and not (is_layer and module.bidirectional):
            raise ValueError("reverse=True needs a bidirectional module (bidirectional=True)")
        if not module.bias or (is_layer and getattr(module, "proj_size", 0)):
            raise ValueError("only biased modules without projection are supported")
        sfx = (f"_l{layer}" if is_layer else "") + ("_reverse" if reverse else "")
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        return tuple(getattr(module, n + sfx) for n in names)

    def load_from_torch(self, module: nn.Module, layer: int = 0, *, reverse: bool = False):
        """Copy layer ``layer`` of a ``torch.nn.LSTM``/``GRU`` (or an ``LSTMCell``/``GRUCell``);
        ``reverse=True`` copies the backward direction of a bidirectional module."""
        W_ih, W_hh, b_ih, b_hh = self._torch_params(module, layer, reverse)
        if W_ih.shape != self.W_x.shape or W_hh.shape != self.W_h.shape:
            raise ValueError(f"shape mismatch: the module's layer {layer} has weight_ih "
                             f"{tuple(W_ih.shape)} and weight_hh {tuple(W_hh.shape)}, this cell "
                             f"W_x {tuple(self.W_x.shape)} and W_h {tuple(self.W_h.shape)}")
        with torch.no_grad():
            self.W_x.copy_(W_ih)
            self.W_h.copy_(W_hh)
            self._load_biases(b_ih, b_hh)
        return self

    @classmethod
    def from_torch(cls, module: nn.Module, layer: int = 0, *, reverse: bool = False):
        """A new cell with the sizes, dtype, device and weights of ``module``'s layer ``layer``
        (its backward direction with ``reverse=True``)."""
        W_ih = cls._torch_params(module, layer, reverse)[0]
        cell = cls(W_ih.shape[1], module.hidden_size).to(W_ih)
        return cell.load_from_torch(module, layer, reverse=reverse)

    def to_torch(self) -> nn.Module:
        """A one-layer, batch-first PyTorch layer with this cell's weights."""
        return cells_to_torch([self])


class LSTMCell(_GatedCell):
    """Long short-term memory cell (Hochreiter & Schmidhuber 1997, with the forget gate of
    Gers et al. 2000). State ``(h, c)``; ``forget_bias`` (e.g. 1.0) overwrites ``b_f`` after
    PyTorch's initialisation, ``None`` keeps it."""
    GATES = ("i", "f", "g", "o")
    TORCH_TYPES = (nn.LSTM, nn.LSTMCell)

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float | None = None):
        super().__init__(input_size, hidden_size)
        self.forget_bias = forget_bias                     # fill_ names a bad value
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if getattr(self, "forget_bias", None) is not None:
            with torch.no_grad():
                self.weights("f")[2].fill_(self.forget_bias)

    def forward(self, x_t: torch.Tensor, state: tuple, *, x_proj: torch.Tensor | None = None,
                record: dict | None = None):
        """One step of eq-04-lstm: ``x_t (B, D)``, ``state = (h_prev, c_prev)`` -> ``(h, c)``.
        ``x_proj``, when :meth:`unroll` gives it, is ``W_x x_t + b`` computed for all steps;
        ``record``, when :meth:`gate_activity` gives it, receives the step's named values."""
        h_prev, c_prev = state                                   # (B, H) each
        if x_proj is None:
            x_proj = x_t @ self.W_x.T + self.b                   # (B, 4H)
        a = x_proj + h_prev @ self.W_h.T                         # (B, 4H): every gate's input
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)                   # (B, H) each
        i = torch.sigmoid(a_i)                                   # input gate
        f = torch.sigmoid(a_f)                                   # forget gate
        g = torch.tanh(a_g)                                      # candidate
        o = torch.sigmoid(a_o)                                   # output gate
        c = f * c_prev + i * g                                   # (B, H): the memory cell
        h = o * torch.tanh(c)                                    # (B, H): the output
        if record is not None:
            record.update(i=i, f=f, g=g, o=o, c=c, h=h)
        return h, c

    def init_state(self, batch_size: int, device=None, dtype=None) -> tuple:
        """Zero ``(h, c)``, each ``(B, H)``."""
        h = super().init_state(batch_size, device=device, dtype=dtype)
        return h, torch.zeros_like(h)

    @staticmethod
    def hidden(state: tuple) -> torch.Tensor:
        return state[0]

    def _load_biases(self, b_ih, b_hh):
        self.b.copy_(b_ih + b_hh)

    def _torch_biases(self) -> tuple:
        return self.b, torch.zeros_like(self.b)

    def torch_grads(self) -> dict:
        """This cell's gradients laid out as PyTorch's parameters (``weight_ih``, ``weight_hh``,
        ``bias_ih``, ``bias_hh``); ``b = b_ih + b_hh``, so both biases get ``dL/db``."""
        return {"weight_ih": self.W_x.grad, "weight_hh": self.W_h.grad,
                "bias_ih": self.b.grad, "bias_hh": self.b.grad}


class GRUCell(_GatedCell):
    """Gated recurrent unit in PyTorch's form (reset gate after the product ``W_hn h_prev``)."""
    GATES = ("r", "z", "n")
    TORCH_TYPES = (nn.GRU, nn.GRUCell)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__(input_size, hidden_size)
        self.b_hn = nn.Parameter(torch.empty(hidden_size))  # (H,)
        self.reset_parameters()

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor, *,
                x_proj: torch.Tensor | None = None, record: dict | None = None) -> torch.Tensor:
        """One step of eq-04-gru: ``x_t (B, D)``, ``h_prev (B, H)`` -> ``h (B, H)``.
        ``x_proj`` and ``record`` as in :meth:`LSTMCell.forward`."""
        if x_proj is None:
            x_proj = x_t @ self.W_x.T + self.b                   # (B, 3H)
        a_xr, a_xz, a_xn = x_proj.chunk(3, dim=1)                # (B, H) each: input parts
        a_hr, a_hz, a_hn = (h_prev @ self.W_h.T).chunk(3, dim=1) # (B, H) each: one product
        r = torch.sigmoid(a_xr + a_hr)                           # reset gate
        z = torch.sigmoid(a_xz + a_hz)                           # update gate
        n = torch.tanh(a_xn + r * (a_hn + self.b_hn))            # candidate
        h = (1 - z) * n + z * h_prev                             # (B, H)
        if record is not None:
            record.update(r=r, z=z, n=n, h=h)
        return h

    def _load_biases(self, b_ih, b_hh):
        H = self.hidden_size
        self.b.copy_(torch.cat([b_ih[:2 * H] + b_hh[:2 * H], b_ih[2 * H:]]))
        self.b_hn.copy_(b_hh[2 * H:])

    def _torch_biases(self) -> tuple:
        return self.b, torch.cat([torch.zeros_like(self.b[:2 * self.hidden_size]), self.b_hn])

    def torch_grads(self) -> dict:
        """This cell's gradients laid out as PyTorch's parameters (see LSTMCell.torch_grads)."""
        H, g = self.hidden_size, self.b.grad
        return {"weight_ih": self.W_x.grad, "weight_hh": self.W_h.grad, "bias_ih": g,
                "bias_hh": None if g is None else torch.cat([g[:2 * H], self.b_hn.grad])}


class ChoGRUCell(GRUCell):
    """The GRU as Cho et al. (2014) wrote it: the reset gate acts on ``h_prev`` *before* the
    product, ``n = tanh(W_xn x_t + W_hn (r * h_prev) + b_n + b_hn)``. Same parameters as
    :class:`GRUCell` (here ``b_hn`` is just a second bias), a different function."""

    def forward(self, x_t: torch.Tensor, h_prev: torch.Tensor, *,
                x_proj: torch.Tensor | None = None, record: dict | None = None) -> torch.Tensor:
        """One step of eq-04-cho: ``x_t (B, D)``, ``h_prev (B, H)`` -> ``h (B, H)``."""
        if x_proj is None:
            x_proj = x_t @ self.W_x.T + self.b                   # (B, 3H)
        a_xr, a_xz, a_xn = x_proj.chunk(3, dim=1)                # (B, H) each: input parts
        W_hr, W_hz, W_hn = self.W_h.chunk(3, dim=0)              # (H, H) each
        r = torch.sigmoid(a_xr + h_prev @ W_hr.T)                # reset gate
        z = torch.sigmoid(a_xz + h_prev @ W_hz.T)                # update gate
        n = torch.tanh(a_xn + (r * h_prev) @ W_hn.T + self.b_hn) # candidate: r before W_hn
        h = (1 - z) * n + z * h_prev                             # (B, H)
        if record is not None:
            record.update(r=r, z=z, n=n, h=h)
        return h


def cells_from_torch(module: nn.Module) -> list:
    """One scratch cell per layer of a ``torch.nn.LSTM`` or ``torch.nn.GRU``, bottom first."""
    kinds = {nn.LSTM: LSTMCell, nn.GRU: GRUCell}
    if type(module) in kinds and module.bidirectional:
        raise ValueError("module is bidirectional: load each direction with "
                         "Cell.from_torch(module, layer, reverse=...)")
    if type(module) not in kinds:
        raise TypeError("module must be torch.nn.LSTM or torch.nn.GRU, got "
                        f"{type(module).__name__}")
    return [kinds[type(module)].from_torch(module, layer) for layer in range(module.num_layers)]


def cells_to_torch(cells) -> nn.Module:
    """A batch-first ``torch.nn.LSTM`` / ``GRU`` whose layer ``l`` has the weights of
    ``cells[l]``."""
    kind = type(cells[0])
    if kind not in (LSTMCell, GRUCell) or any(type(c) is not kind for c in cells):
        raise TypeError("cells must all be LSTMCell or all be GRUCell (PyTorch has no layer "
                        f"for {type(cells[0]).__name__})")
    module = (nn.LSTM if kind is LSTMCell else nn.GRU)(
        cells[0].input_size, cells[0].hidden_size, num_layers=len(cells), batch_first=True)
    with torch.no_grad():
        for layer, cell in enumerate(cells):
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                   (cell.W_x, cell.W_h, *cell._torch_biases())):
                getattr(module, f"{name}_l{layer}").copy_(value)
    return module.to(cells[0].W_h)
