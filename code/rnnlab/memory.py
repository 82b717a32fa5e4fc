"""What backpropagation through time keeps in memory, and two ways to keep less (chapter 2).

* :class:`SavedTensorMeter` counts the numbers autograd keeps for the backward pass: every
  tensor an operation saves (through ``torch.autograd.graph.saved_tensors_hooks``), each
  storage counted once while it is alive, plus the tensors an algorithm keeps itself
  (:meth:`~SavedTensorMeter.keep`). Its ``peak`` is the largest number alive at any moment.
* :func:`backward_entries` counts the gradient entries the backward pass computes, the work it
  does: linear in ``T`` for a loop that reads its steps with ``unbind``, quadratic for one
  that indexes a whole-sequence tensor at every step, ``x[:, t]`` (chapter 4).
* :func:`graph_nodes` counts the operations autograd recorded for a result, the size of the
  graph the backward pass walks: per step for the LSTM (chapter 4), the loop against the
  parallel scan (chapter 7).
* :func:`bptt_gradients` computes the gradient of the mean squared error of a recurrent layer
  and a read-out over a sequence in one of three ways, and measures that peak:

  - ``"full"``: ordinary BPTT; every step's activations are kept until the backward pass.
  - ``"truncated"``: chunks of ``chunk`` steps, the state detached between them (the
    ``h.detach()`` loop); only one chunk is kept at a time, and the gradient changes.
  - ``"checkpointed"``: a first pass without a graph keeps only the states at the chunk
    boundaries; the backward pass then recomputes each chunk from its boundary state, last
    chunk first, and backpropagates through it, handing ``dL/dh`` at its start to the chunk
    before (Chen et al. 2016; Gruslys et al. 2016). The gradient is the full one, for one
    extra forward pass over all but the last chunk.

The layer is any batch-first recurrent layer ``layer(x (B, T, D), state) -> (outputs
(B, T, H), state)``: ``torch.nn.RNN``/``GRU``/``LSTM`` with ``batch_first=True``, or
:class:`rnnlab.models.RecurrentLayer`.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from ._validate import check_choice, check_int, check_tensor

__all__ = ["MODES", "SavedTensorMeter", "graph_nodes", "BPTTResult", "bptt_gradients",
           "detach_state", "backward_entries"]

#: The three ways :func:`bptt_gradients` computes a gradient.
MODES = ("full", "truncated", "checkpointed")


class _Held:
    """What the pack hook hands to autograd: the tensor, and a release when autograd drops it."""
    __slots__ = ("meter", "key", "tensor")

    def __init__(self, meter, key, tensor):
        self.meter, self.key, self.tensor = meter, key, tensor

    def __del__(self):
        self.meter._release(self.key)


class SavedTensorMeter:
    """Count the numbers (tensor elements) kept for the backward pass, alive and at the peak.

    Use as a context manager around the forward *and* the backward pass. Storages of the
    tensors in ``exclude`` (the parameters, the data) are not counted; a storage shared by
    several saved tensors (views of one input, a weight used at every step) counts once.
    """

    def __init__(self, exclude=()):
        self._excluded = {self._key(t) for t in exclude}
        self._refs: dict[int, int] = {}
        self._size: dict[int, int] = {}
        self._kept: list = []
        self.live = 0
        self.peak = 0

    @staticmethod
    def _key(t: torch.Tensor) -> int:
        return t.untyped_storage().data_ptr()

    def _pack(self, t: torch.Tensor):
        key = self._key(t)
        if key in self._excluded or t.untyped_storage().nbytes() == 0:
            return t
        if self._refs.get(key, 0) == 0:
            self._size[key] = t.untyped_storage().nbytes() // t.element_size()
            self.live += self._size[key]
            self.peak = max(self.peak, self.live)
        self._refs[key] = self._refs.get(key, 0) + 1
        return _Held(self, key, t)

    @staticmethod
    def _unpack(held):
        return held.tensor if isinstance(held, _Held) else held

    def _release(self, key: int) -> None:
        self._refs[key] -= 1
        if self._refs[key] == 0:
            self.live -= self._size.pop(key)
            del self._refs[key]

    def keep(self, tensor: torch.Tensor) -> torch.Tensor:
        """Count ``tensor`` as kept (until the meter closes) and return it."""
        self._kept.append(self._pack(tensor))
        return tensor

    def __enter__(self):
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, self._unpack)
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc):
        self._hooks.__exit__(*exc)
        self._kept.clear()
        return False


def graph_nodes(tensor: torch.Tensor) -> int:
    """The number of autograd nodes reachable from ``tensor.grad_fn`` (chapters 4 and 7): every
    operation the backward pass from ``tensor`` runs, each counted once."""
    return len(_reachable_nodes(tensor))


def _reachable_nodes(tensor: torch.Tensor) -> set:
    """The autograd nodes reachable from ``tensor.grad_fn``, each once."""
    if tensor.grad_fn is None:
        raise ValueError("tensor must be the result of operations recorded by autograd (a "
                         f"grad_fn), got a leaf with requires_grad={tensor.requires_grad}")
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    return seen


def backward_entries(tensor: torch.Tensor) -> int:
    """The number of gradient entries the backward pass from ``tensor`` computes (chapter 4):
    the sizes of the gradients that every autograd node behind ``tensor`` returns, summed.

    The backward pass of ``tensor.sum()`` runs once, through ``torch.autograd.grad``, so no
    ``.grad`` changes; the graph is freed. An index ``x[:, t]`` into ``x (B, T, D)`` returns a
    whole ``(B, T, D)`` gradient, mostly zeros: read at every step, that is ``T`` such
    gradients, ``B T^2 D`` entries, where ``x.unbind(1)`` returns ``B T D`` once.
    """
    nodes = _reachable_nodes(tensor)          # refuses a tensor autograd did not record
    leaves = [node.variable for node in nodes if hasattr(node, "variable")]  # AccumulateGrad
    entries = []

    def count(grad_inputs, grad_outputs):         # the gradients a node returns
        entries.extend(g.numel() for g in grad_inputs if g is not None)

    handles = [node.register_hook(count) for node in nodes]
    try:
        torch.autograd.grad(tensor.sum(), leaves)
    finally:
        for handle in handles:
            handle.remove()
    return sum(entries)


@dataclass
class BPTTResult:
    """What :func:`bptt_gradients` returns: the loss, ``{parameter name: gradient}`` of the
    layer's and the read-out's parameters (named ``layer.<name>``, ``readout.<name>``), and
    the peak number of elements kept for the backward pass (parameters and data excluded;
    ``None`` when not measured)."""
    loss: float
    grads: dict
    peak: int | None


def _flat(state) -> list:
    if state is None:
        return []
    return [state] if isinstance(state, torch.Tensor) else list(state)


def _leaf(state):
    """A copy of ``state`` cut from any graph, as leaves that collect their gradient."""
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach().requires_grad_(True)
    return tuple(s.detach().requires_grad_(True) for s in state)


def detach_state(state):
    """The same state cut from the autograd graph (``None``, a tensor, or a tuple of them).

    Truncated BPTT carries the *values* of the state into the next chunk but not the graph, so
    gradients stop at the chunk boundary (here and in :func:`rnnlab.lm.fit_tbptt`).
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    raise TypeError("state must be None, a tensor or a tuple of tensors, got "
                    f"{type(state).__name__}")


def bptt_gradients(layer: nn.Module, readout: nn.Module, x: torch.Tensor, target: torch.Tensor,
                   *, mode: str = "full", chunk: int | None = None,
                   measure: bool = True) -> BPTTResult:
    """The gradient of ``L = mean((readout(layer(x)) - target)^2)`` over the whole sequence,
    computed in ``mode`` (one of :data:`MODES`; ``chunk`` steps per chunk for the two chunked
    modes), with the peak number of elements kept for the backward pass. ``measure=False``
    leaves the meter out (its hooks cost time; use it to time the modes) and reports
    ``peak=None``.

    ``x`` is (B, T, D) and ``target`` (B, T, O); the state starts at the layer's default (zeros).
    The gradients of ``layer`` and ``readout`` are reset first, then hold this gradient.
    """
    check_choice(mode, "mode", list(MODES))
    B, T, _ = check_tensor(x, "x", ndim=3).shape
    check_tensor(target, "target", shape=(B, T, "O"))
    if mode == "full":
        if chunk is not None:
            raise ValueError(f"chunk applies to the chunked modes, got chunk={chunk} with "
                             "mode='full'")
    else:
        chunk = check_int(chunk, "chunk", minimum=1)
    params = {f"layer.{n}": p for n, p in layer.named_parameters()}
    params.update({f"readout.{n}": p for n, p in readout.named_parameters()})
    for p in params.values():
        p.grad = None
    n_total = target.numel()

    def part(outputs, y):                  # this chunk's share of L (a sum over its steps)
        return (readout(outputs) - y).pow(2).sum() / n_total

    loss = 0.0
    meter = SavedTensorMeter([x, target, *params.values()])
    with meter if measure else contextlib.nullcontext():
        if mode == "full":
            outputs, _ = layer(x)                                   # (B, T, H)
            total = part(outputs, target)
            total.backward()
            loss = total.item()
        elif mode == "truncated":
            state = None
            for s in range(0, T, chunk):
                outputs, state = layer(x[:, s:s + chunk], state)    # (B, k, H)
                piece = part(outputs, target[:, s:s + chunk])
                piece.backward()                                   # frees this chunk's graph
                loss += piece.item()
                state = detach_state(state)
        else:
            starts = list(range(0, T, chunk))
            boundary = [None]                                       # state entering each chunk
            with torch.no_grad():
                state = None
                for s in starts[:-1]:
                    _, state = layer(x[:, s:s + chunk], state)
                    boundary.append(state)
                    for t in _flat(state) if measure else ():
                        meter.keep(t)
            grad_out = None                                          # dL/d(state leaving chunk)
            for s, state_in in zip(reversed(starts), reversed(boundary)):
                leaf = _leaf(state_in)
                outputs, state_out = layer(x[:, s:s + chunk], leaf)  # recomputed, with a graph
                piece = part(outputs, target[:, s:s + chunk])
                if grad_out is None:
                    piece.backward()
                else:
                    torch.autograd.backward([piece, *_flat(state_out)],
                                            [torch.ones_like(piece), *grad_out])
                loss += piece.item()
                grad_out = [t.grad for t in _flat(leaf)]
    grads = {n: (p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p))
             for n, p in params.items()}
    return BPTTResult(loss=loss, grads=grads, peak=meter.peak if measure else None)
