"""PyTorch's fused recurrent layers as a sequence model (chapters 3 to 7).

``torch.nn.RNN``, ``LSTM`` and ``GRU`` run the loop over time steps in one C++ call per
sequence instead of a Python loop, so the chapters that train many models train them on
these layers. They compute the functions of the course's cells: chapter 1 proves
:class:`rnnlab.cells.RNNCell` equal to ``torch.nn.RNN``, chapter 4 proves
:class:`rnnlab.gated.LSTMCell` and :class:`~rnnlab.gated.GRUCell` equal to ``torch.nn.LSTM``
and ``torch.nn.GRU``. Two differences remain: PyTorch keeps two biases per gate where the
equations have one (only their sum matters, except for the GRU's ``b_hn``), and it
initialises its weights itself.

* :class:`FusedSequenceModel`: a fused layer and a linear read-out, the counterpart of
  :class:`rnnlab.models.SequenceModel`; :meth:`~FusedSequenceModel.to_scratch` copies a trained
  one onto the course's own cell, to look inside it with the tools of the chapters.
* :func:`fit_together` (chapter 4): tanh networks or GRUs of several seeds trained at once, each
  as :func:`rnnlab.train.fit` would train it alone; ``nn.RNN`` and ``nn.GRU`` take one seed per
  call, and for networks this small a step costs about as much for five seeds as for one.
"""
from __future__ import annotations

import torch
from torch import nn

from ._validate import check_choice, check_float, check_instance, check_int, check_tensor
from .models import SequenceModel, make_cell, make_rnn

__all__ = ["FusedSequenceModel", "fit_together"]


class FusedSequenceModel(nn.Module):
    """A fused recurrent layer and a linear read-out: ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU``.

    ``cell`` is ``"rnn"`` (with ``nonlinearity`` ``"tanh"`` or ``"relu"``), ``"lstm"`` or
    ``"gru"``; ``head`` ``"last"`` or ``"all"``; ``forget_bias`` (LSTM only) sets ``b_f``.
    The layer has PyTorch's initialisation and its two biases per gate.
    """

    def __init__(self, input_size: int, hidden_size: int, output_size: int, *,
                 cell: str = "lstm", head: str = "last", nonlinearity: str = "tanh",
                 forget_bias: float | None = None):
        super().__init__()
        self.kind = cell
        self.head = check_choice(head, "head", ["last", "all"])
        self.layer = make_rnn(cell, input_size, hidden_size, nonlinearity=nonlinearity)
        self.readout = nn.Linear(hidden_size, output_size)
        if forget_bias is not None:
            if cell != "lstm":
                raise ValueError(f"forget_bias applies to cell='lstm', got cell={cell!r}")
            with torch.no_grad():
                H, fb = hidden_size, check_float(forget_bias, "forget_bias")
                self.layer.bias_ih_l0[H:2 * H] = fb
                self.layer.bias_hh_l0[H:2 * H] = 0.0

    @property
    def input_size(self) -> int:
        return self.layer.input_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor(x, "x", shape=("B", "T", self.layer.input_size))
        outputs, _ = self.layer(x)                               # (B, T, H)
        return self.readout(outputs[:, -1] if self.head == "last" else outputs)

    def to_scratch(self) -> SequenceModel:
        """A :class:`SequenceModel` on the course's own cell with exactly these weights."""
        layer = self.layer
        options = ({"nonlinearity": layer.nonlinearity, "bias": layer.bias}
                   if self.kind == "rnn" else {})
        cell = make_cell(self.kind, layer.input_size, layer.hidden_size, **options)
        model = SequenceModel(cell, self.readout.out_features, head=self.head)
        model = model.to(self.readout.weight)
        model.cell.load_from_torch(layer)
        model.readout.load_state_dict(self.readout.state_dict())
        return model



def _step_together(kind, act, x_t, h, W_hh, b_hh):
    """One step of ``nn.RNN`` or ``nn.GRU`` for every seed: ``x_t`` ``(S, B, G H)`` (input
    projection and ``b_ih`` included), ``h`` ``(S, B, H)``."""
    a_h = torch.baddbmm(b_hh.unsqueeze(1), h, W_hh.transpose(1, 2))          # (S, B, G H)
    if kind == "rnn":
        return act(x_t + a_h)                                                 # (S, B, H)
    x_r, x_z, x_n = x_t.chunk(3, dim=2)                                       # (S, B, H) each
    h_r, h_z, h_n = a_h.chunk(3, dim=2)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)
    return (1 - z) * n + z * h                                                # (S, B, H)


def fit_together(models, batch_fns, loss_fn, *, steps: int, lr: float,
                 clip_norm: float | None = None, callbacks=None) -> list[dict]:
    """Train ``FusedSequenceModel`` s of one architecture, one per seed, together (chapter 4).

    ``models`` are tanh (or ReLU) networks or GRUs with ``head="last"``. Each trains as
    :func:`rnnlab.train.fit` would train it alone (Adam, its own batches ``batch_fns[s](step)``,
    its own gradient clipped to ``clip_norm``, ``steps`` at most), up to rounding: the weights
    are stacked along a first axis of seeds, and each step runs the layer's equations for all
    of them at once, one batched product per time step (both biases kept: Adam updates them as
    two parameters). On the CPU ``nn.RNN`` and ``nn.GRU`` loop over time steps, one seed per
    call; for networks this small a step costs about as much for five seeds as for one.
    ``callbacks[s](step, history)`` runs after each step with model ``s`` holding its weights;
    when it returns ``True`` model ``s`` keeps the weights of that step (its training stops
    there). Returns one history per model, as :func:`~rnnlab.train.fit` returns it. It is the
    counterpart of :func:`rnnlab.train.fit_together` (chapter 5) for PyTorch's layers, which
    ``torch.func.vmap`` cannot batch.
    """
    from .train import check_clip_norm, clip_each_, make_optimizer

    models = list(models)
    for m in models:
        check_instance(m, "a model of models", FusedSequenceModel)
        if m.kind not in ("rnn", "gru") or m.head != "last":
            raise ValueError("models must be FusedSequenceModel(..., cell='rnn' or 'gru', "
                             f"head='last'), got cell={m.kind!r}, head={m.head!r}")
    if not models or len({(m.kind, m.input_size, m.layer.hidden_size,
                           getattr(m.layer, "nonlinearity", None)) for m in models}) != 1:
        raise ValueError("models must be one or more models of one kind, sizes and "
                         "nonlinearity")
    callbacks = [None] * len(models) if callbacks is None else list(callbacks)
    if len(batch_fns) != len(models) or len(callbacks) != len(models):
        raise ValueError(f"give one batch function and one callback per model: {len(models)} "
                         f"models, {len(batch_fns)} batch functions, {len(callbacks)} callbacks")
    steps = check_int(steps, "steps", minimum=1)
    clip_norm = check_clip_norm(clip_norm)
    kind = models[0].kind
    act = torch.relu if getattr(models[0].layer, "nonlinearity", "tanh") == "relu" else torch.tanh
    names = ("layer.weight_ih_l0", "layer.weight_hh_l0", "layer.bias_ih_l0", "layer.bias_hh_l0",
             "readout.weight", "readout.bias")
    own = [dict(m.named_parameters()) for m in models]
    stacked = nn.ParameterList([torch.stack([p[n].detach() for p in own]) for n in names])
    W_ih, W_hh, b_ih, b_hh, W_o, b_o = stacked      # (S, G H, D), (S, G H, H), (S, G H) x 2, ...
    opt = make_optimizer(stacked, "adam", lr)
    device = W_hh.device
    histories = [{"step": [], "loss": [], "grad_norm": []} for _ in models]
    active = list(range(len(models)))
    for step in range(steps):
        x, y = (torch.stack(t).to(device) for t in zip(*(fn(step) for fn in batch_fns)))
        x_proj = x @ W_ih.transpose(1, 2).unsqueeze(1) + b_ih[:, None, None]   # (S, B, T, G H)
        h = torch.zeros(x.shape[0], x.shape[1], W_hh.shape[2], dtype=x.dtype, device=device)
        for x_t in x_proj.unbind(2):                                           # (S, B, G H)
            h = _step_together(kind, act, x_t, h, W_hh, b_hh)                  # (S, B, H)
        out = torch.baddbmm(b_o.unsqueeze(1), h, W_o.transpose(1, 2))          # (S, B, O)
        losses = torch.stack([loss_fn(o, t) for o, t in zip(out, y)])          # (S,)
        opt.zero_grad(set_to_none=True)
        losses.sum().backward()                    # the sum: each seed gets its own gradient
        norms = clip_each_([p.grad for p in stacked], clip_norm)    # each seed on its own, (S,)
        opt.step()
        for s in list(active):
            with torch.no_grad():
                for n, p in zip(names, stacked):
                    own[s][n].copy_(p[s])
            history = histories[s]
            history["step"].append(step)
            history["loss"].append(losses[s].item())
            history["grad_norm"].append(norms[s].item())
            if callbacks[s] is not None and callbacks[s](step, history) is True:
                active.remove(s)
        if not active:
            break
    return histories
