"""Gated recurrent cells written from scratch: LSTM and GRU (chapter 4).

They live apart from :mod:`rnnlab.cells` only because one module would pass the course's
~300-line limit; :mod:`rnnlab.cells` imports this module at its end, which registers ``"lstm"``
and ``"gru"``, so ``SequenceModel(..., cell="lstm")`` works.

Weights are stacked by gate in PyTorch's order, so one matrix product serves every gate:
``W_x (GH, D)``, ``W_h (GH, H)``, ``b (GH,)`` with rows ``i, f, g, o`` (LSTM, G = 4) or
``r, z, n`` (GRU, G = 3; the GRU adds ``b_hn (H,)``). ``cell.weights("f")`` gives the views
``(W_xf, W_hf, b_f)`` of one gate. With ``*`` the elementwise product::

    LSTM  i, f, o = sigmoid(W_x. x_t + W_h. h_prev + b_.)   g = tanh(W_xg x_t + W_hg h_prev + b_g)
          c = f * c_prev + i * g                            h = o * tanh(c)
    GRU   r, z = sigmoid(W_x. x_t + W_h. h_prev + b_.)
          n = tanh(W_xn x_t + b_n + r * (W_hn h_prev + b_hn))     h = (1 - z) * n + z * h_prev

The GRU above is PyTorch's form (``n`` is the candidate, often written h~); :class:`ChoGRUCell`
is Cho et al. (2014)'s, with the reset gate inside the product: ``W_hn (r * h_prev)``.
PyTorch keeps two biases per gate; only their sum matters (except the GRU's ``b_hn``), so the
LSTM has one ``b`` and loading sums them.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from ._validate import check_choice, check_float, check_int, check_tensor
from .cells import register_cell

__all__ = ["LSTMCell", "GRUCell", "ChoGRUCell", "cells_from_torch", "cells_to_torch",
           "FusedSequenceModel"]


class _GatedCell(nn.Module):
    """What the LSTM and GRU cells share: stacked weights, projections, loading, unrolling."""
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
        rows = slice(self.GATES.index(gate) * self.hidden_size,
                     (self.GATES.index(gate) + 1) * self.hidden_size)
        return self.W_x[rows], self.W_h[rows], self.b[rows]

    def init_state(self, batch_size: int, device=None, dtype=None) -> torch.Tensor:
        """Zero ``h`` ``(B, H)``, on the parameters' device and dtype by default."""
        return torch.zeros(batch_size, self.hidden_size, device=device or self.W_h.device,
                           dtype=dtype or self.W_h.dtype)

    @staticmethod
    def hidden(state):
        """The output ``h`` of a state (the whole state of a GRU)."""
        return state

    @staticmethod
    def _state_of(values: dict):
        return values["h"]

    def step(self, a_x: torch.Tensor, state):
        """One step from the projected input ``a_x = W_x x_t + b`` ``(B, GH)``."""
        return self._state_of(self._gates(a_x, state))

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The input part of every gate, ``x W_x^T + b``: ``(..., D) -> (..., GH)``."""
        return x @ self.W_x.T + self.b  # (..., GH)

    def _check_step(self, x_t, state):
        check_tensor(x_t, "x_t", shape=("B", self.input_size))
        for i, s in enumerate(state if isinstance(state, tuple) else (state,)):
            check_tensor(s, f"state[{i}]", shape=(x_t.shape[0], self.hidden_size))

    def forward(self, x_t: torch.Tensor, state):
        self._check_step(x_t, state)
        return self.step(self.project(x_t), state)

    def unroll(self, x: torch.Tensor, state=None):
        """``(outputs (B, T, H), final state)``, like ``RecurrentLayer(cell)(x, state)`` but with
        the input projection of all steps done in one matrix product before the loop."""
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        if state is None:
            state = self.init_state(x.shape[0], device=x.device, dtype=x.dtype)
        self._check_step(x[:, 0], state)
        outputs = []
        for a_x in self.project(x).unbind(1):      # T tensors (B, GH)
            state = self.step(a_x, state)
            outputs.append(self.hidden(state))     # (B, H)
        return torch.stack(outputs, 1), state      # (B, T, H)

    @torch.no_grad()
    def gate_activity(self, x: torch.Tensor) -> dict:
        """Gates, candidate and state of every step along ``x`` ``(B, T, D)`` from the zero state:
        name -> ``(B, T, H)``."""
        check_tensor(x, "x", shape=("B", "T", self.input_size))
        state, trace = self.init_state(x.shape[0], device=x.device, dtype=x.dtype), []
        for x_t in x.unbind(1):  # step by step, exactly as forward computes them
            trace.append(self._gates(self.project(x_t), state))
            state = self._state_of(trace[-1])
        return {k: torch.stack([v[k] for v in trace], 1) for k in trace[0]}  # (B, T, H) each

    # -- weights from and to PyTorch ------------------------------------------------------
    @classmethod
    def _torch_params(cls, module, layer):
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of one layer of a PyTorch module."""
        if not isinstance(module, cls.TORCH_TYPES):
            raise TypeError(f"module must be torch.nn.{cls.TORCH_TYPES[0].__name__} or "
                            f"{cls.TORCH_TYPES[1].__name__}, got {type(module).__name__}")
        is_layer = not isinstance(module, cls.TORCH_TYPES[1])
        layer = check_int(layer, "layer", minimum=0, maximum=module.num_layers - 1 if is_layer else 0)
        if not module.bias or (is_layer and (module.bidirectional or getattr(module, "proj_size", 0))):
            raise ValueError("only biased, unidirectional modules without projection are supported")
        sfx = f"_l{layer}" if is_layer else ""
        return tuple(getattr(module, n + sfx) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def load_from_torch(self, module: nn.Module, layer: int = 0):
        """Copy layer ``layer`` of a ``torch.nn.LSTM``/``GRU`` (or an ``LSTMCell``/``GRUCell``)."""
        W_ih, W_hh, b_ih, b_hh = self._torch_params(module, layer)
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
    def from_torch(cls, module: nn.Module, layer: int = 0):
        """A new cell with the sizes, dtype, device and weights of ``module``'s layer ``layer``."""
        W_ih = cls._torch_params(module, layer)[0]
        return cls(W_ih.shape[1], module.hidden_size).to(W_ih).load_from_torch(module, layer)

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
        self.forget_bias = None if forget_bias is None else check_float(forget_bias, "forget_bias")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        if getattr(self, "forget_bias", None) is not None:
            with torch.no_grad():
                self.weights("f")[2].fill_(self.forget_bias)

    def init_state(self, batch_size: int, device=None, dtype=None) -> tuple:
        """Zero ``(h, c)``, each ``(B, H)``."""
        h = super().init_state(batch_size, device=device, dtype=dtype)
        return h, torch.zeros_like(h)

    @staticmethod
    def hidden(state: tuple) -> torch.Tensor:
        return state[0]

    @staticmethod
    def _state_of(values: dict) -> tuple:
        return values["h"], values["c"]

    def _gates(self, a_x: torch.Tensor, state: tuple) -> dict:
        h_prev, c_prev = state
        a = a_x + h_prev @ self.W_h.T                   # (B, 4H)
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)          # (B, H) each
        i, f, g, o = torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)
        c = f * c_prev + i * g                          # (B, H)
        return {"i": i, "f": f, "g": g, "o": o, "c": c, "h": o * torch.tanh(c)}

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

    def _gates(self, a_x: torch.Tensor, h_prev: torch.Tensor) -> dict:
        H = self.hidden_size
        a_h = h_prev @ self.W_h.T                                  # (B, 3H): r, z and n at once
        r, z = torch.sigmoid(a_x[:, :2 * H] + a_h[:, :2 * H]).chunk(2, dim=1)  # (B, H) each
        n = torch.tanh(a_x[:, 2 * H:] + r * (a_h[:, 2 * H:] + self.b_hn))     # (B, H)
        return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h_prev}

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

    def _gates(self, a_x: torch.Tensor, h_prev: torch.Tensor) -> dict:
        H = self.hidden_size
        a_h = h_prev @ self.W_h[:2 * H].T                          # (B, 2H): r and z only
        r, z = torch.sigmoid(a_x[:, :2 * H] + a_h).chunk(2, dim=1)  # (B, H) each
        a_n = (r * h_prev) @ self.W_h[2 * H:].T                    # (B, H): a second product, after r
        n = torch.tanh(a_x[:, 2 * H:] + a_n + self.b_hn)           # (B, H)
        return {"r": r, "z": z, "n": n, "h": (1 - z) * n + z * h_prev}


register_cell("lstm", LSTMCell)
register_cell("gru", GRUCell)


def cells_from_torch(module: nn.Module) -> list:
    """One scratch cell per layer of a ``torch.nn.LSTM`` or ``torch.nn.GRU``, bottom first."""
    kinds = {nn.LSTM: LSTMCell, nn.GRU: GRUCell}
    if type(module) not in kinds:
        raise TypeError(f"module must be torch.nn.LSTM or torch.nn.GRU, got {type(module).__name__}")
    return [kinds[type(module)].from_torch(module, layer) for layer in range(module.num_layers)]


def cells_to_torch(cells) -> nn.Module:
    """A batch-first ``torch.nn.LSTM`` / ``GRU`` whose layer ``l`` has the weights of ``cells[l]``."""
    if not isinstance(cells, (list, tuple)) or not cells:
        raise TypeError(f"cells must be a non-empty list of cells, got {type(cells).__name__}")
    kind = type(cells[0])
    if kind not in (LSTMCell, GRUCell) or any(type(c) is not kind for c in cells):
        raise TypeError("cells must all be LSTMCell or all be GRUCell (PyTorch has no layer "
                        f"for {type(cells[0]).__name__})")
    for below, above in zip(cells, cells[1:]):
        if above.input_size != below.hidden_size or above.hidden_size != below.hidden_size:
            raise ValueError("stacked cells need input_size == hidden_size == the first's hidden_size")
    module = (nn.LSTM if kind is LSTMCell else nn.GRU)(
        cells[0].input_size, cells[0].hidden_size, num_layers=len(cells), batch_first=True)
    with torch.no_grad():
        for l, cell in enumerate(cells):
            for name, value in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"),
                                   (cell.W_x, cell.W_h, *cell._torch_biases())):
                getattr(module, f"{name}_l{l}").copy_(value)
    return module.to(cells[0].W_h)


class FusedSequenceModel(nn.Module):
    """:class:`rnnlab.models.SequenceModel`'s twin on PyTorch's fused layers, for fast training.

    ``cell`` is ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``; ``head`` ``"last"`` or ``"all"``.
    :meth:`to_scratch` returns the same function as a ``SequenceModel`` on our cells.
    """
    LAYERS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "lstm", head: str = "last", forget_bias: float | None = None):
        super().__init__()
        self.sizes = (input_size, hidden_size, output_size)
        self.kind = check_choice(cell, "cell", list(self.LAYERS))
        self.head = check_choice(head, "head", ["last", "all"])
        self._scratch_model()                                    # validates the sizes
        self.layer = self.LAYERS[cell](input_size, hidden_size, batch_first=True)
        self.readout = nn.Linear(hidden_size, output_size)
        if forget_bias is not None:
            if cell != "lstm":
                raise ValueError(f"forget_bias applies to cell='lstm', got cell={cell!r}")
            with torch.no_grad():
                H, fb = hidden_size, check_float(forget_bias, "forget_bias")
                self.layer.bias_ih_l0[H:2 * H] = fb
                self.layer.bias_hh_l0[H:2 * H] = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.layer(x)                               # (B, T, H)
        return self.readout(outputs[:, -1] if self.head == "last" else outputs)

    def _scratch_model(self) -> nn.Module:
        from .models import SequenceModel  # models imports cells, which imports this module
        return SequenceModel(*self.sizes, cell=self.kind, head=self.head)

    def to_scratch(self) -> nn.Module:
        """A ``SequenceModel`` on our cells with exactly these weights."""
        model = self._scratch_model().to(self.readout.weight)
        model.cell.load_from_torch(self.layer)
        model.readout.load_state_dict(self.readout.state_dict())
        return model
