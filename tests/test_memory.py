"""Unit tests of rnnlab.memory: what BPTT keeps, truncation and checkpointing."""
import itertools

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab import memory
from rnnlab import numpy_rnn as nr
from rnnlab.cells import RNNCell
from rnnlab.models import RecurrentLayer

B, D, H, O = 3, 2, 4, 2  # noqa: E741


def _data(T, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, T, D, generator=g, dtype=torch.float64)
    return x, torch.randn(B, T, O, generator=g, dtype=torch.float64)


def _rnn(cell="rnn", seed=0):
    torch.manual_seed(seed)
    kinds = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
    return kinds[cell](D, H, batch_first=True).double(), nn.Linear(H, O).double()


def _rel(a, b):
    return float((a - b).norm() / (a.norm() + b.norm()))


# (T, chunk): chunks that divide T, a shorter last chunk, one step a chunk, one chunk (chunk = T;
# a chunk longer than T is the same single chunk)
CHECKPOINT_CHUNKS = [(12, 4), (13, 5), (5, 1), (6, 6)]


def test_checkpointed_gives_the_full_gradient(subtests):
    for cell, (T, chunk) in itertools.product(["rnn", "gru", "lstm"], CHECKPOINT_CHUNKS):
        with subtests.test(cell=cell, T=T, chunk=chunk):
            layer, readout = _rnn(cell)
            x, y = _data(T)
            full = memory.bptt_gradients(layer, readout, x, y)
            ckpt = memory.bptt_gradients(layer, readout, x, y, mode="checkpointed", chunk=chunk)
            assert set(full.grads) == set(ckpt.grads) and len(full.grads) == 6
            assert abs(full.loss - ckpt.loss) < 1e-12
            for name, g in full.grads.items():
                assert _rel(g, ckpt.grads[name]) < 1e-12, name


def test_full_gradient_is_autograd_of_the_mse_and_leaves_it_in_grad():
    layer, readout = _rnn()
    x, y = _data(7)
    res = memory.bptt_gradients(layer, readout, x, y)
    assert torch.equal(layer.weight_hh_l0.grad, res.grads["layer.weight_hh_l0"])
    loss = nn.functional.mse_loss(readout(layer(x)[0]), y)
    grads = torch.autograd.grad(loss, list(layer.parameters()) + list(readout.parameters()))
    assert abs(res.loss - loss.item()) < 1e-14
    for got, want in zip(res.grads.values(), grads):
        assert torch.allclose(got, want, atol=1e-14)


def test_truncated_equals_the_chunked_numpy_bptt(subtests):
    for T, chunk in [(12, 4), (10, 3)]:           # chunks that divide T, a shorter last chunk
        with subtests.test(T=T, chunk=chunk):
            layer, readout = _rnn()
            x, y = _data(T)
            res = memory.bptt_gradients(layer, readout, x, y, mode="truncated", chunk=chunk)
            params = nr.from_torch_rnn(layer, W_hy=readout.weight.detach().numpy(),
                                       b_y=readout.bias.detach().numpy())
            _, want = nr.loss_and_grads(params, x.numpy(), y.numpy(), truncate=chunk,
                                        truncation="chunked")
            got_hh = res.grads["layer.weight_hh_l0"].numpy()
            assert np.max(np.abs(got_hh - want["W_hh"])) < 1e-12
            assert np.max(np.abs(res.grads["readout.weight"].numpy() - want["W_hy"])) < 1e-12
            full = memory.bptt_gradients(layer, readout, x, y)
            assert _rel(full.grads["layer.weight_hh_l0"], res.grads["layer.weight_hh_l0"]) > 1e-3


def test_scratch_layer_works_and_its_peak_grows_with_T():
    torch.manual_seed(0)
    layer = RecurrentLayer(RNNCell(D, H)).double()
    readout = nn.Linear(H, O).double()
    peaks = {}
    for T in (8, 32):
        x, y = _data(T)
        full = memory.bptt_gradients(layer, readout, x, y)
        ckpt = memory.bptt_gradients(layer, readout, x, y, mode="checkpointed", chunk=4)
        for name, g in full.grads.items():
            assert _rel(g, ckpt.grads[name]) < 1e-12, name
        peaks[T] = (full.peak, ckpt.peak)
    assert 3.5 < peaks[32][0] / peaks[8][0] < 4.5          # full: in proportion to T
    assert peaks[32][1] < peaks[32][0] / 3                    # checkpointed: far less


def test_peaks_of_the_three_modes_on_torch_rnn():
    layer, readout = _rnn()
    x, y = _data(64)
    peak = {m: memory.bptt_gradients(layer, readout, x, y, mode=m,
                                     chunk=None if m == "full" else 8).peak for m in memory.MODES}
    x2, y2 = _data(128)
    full2 = memory.bptt_gradients(layer, readout, x2, y2).peak
    assert 1.9 < full2 / peak["full"] < 2.1
    assert peak["truncated"] < peak["checkpointed"] < peak["full"] / 3
    # checkpointing adds the boundary states: 7 states of (B, H) before the last chunk
    assert peak["checkpointed"] - peak["truncated"] == 7 * B * H


def test_meter_counts_a_storage_once_and_releases_it():
    w = torch.randn(5, 5, requires_grad=True)
    with memory.SavedTensorMeter([w]) as meter:
        h = torch.tanh(w @ torch.ones(5, 3))     # tanh saves its output: 15 numbers
        y = (h * h).sum()                        # mul saves h twice: the same storage
        assert meter.live == 15 + 15              # matmul's ones(5, 3), tanh's output
        y.backward()
        kept = meter.keep(torch.zeros(4))
        assert meter.live == 4 and kept.shape == (4,)
    assert meter.peak == 30


BAD_ARGUMENTS = [                   # (kwargs, error, message)
    ({"mode": "sliding"}, ValueError, "mode must be one of"),
    ({"mode": "truncated"}, TypeError, "chunk must be an int"),
    ({"mode": "checkpointed", "chunk": 0}, ValueError, "chunk must be >= 1"),
    ({"mode": "full", "chunk": 4}, ValueError, "chunk applies to the chunked modes"),
]


def test_bad_arguments(subtests):
    for kwargs, error, match in BAD_ARGUMENTS:
        with subtests.test(**kwargs):
            layer, readout = _rnn()
            x, y = _data(6)
            with pytest.raises(error, match=match):
                memory.bptt_gradients(layer, readout, x, y, **kwargs)


def test_bad_inputs():
    layer, readout = _rnn()
    x, y = _data(6)
    with pytest.raises(ValueError, match="target must have size 6 on axis 1"):
        memory.bptt_gradients(layer, readout, x, y[:, :5])
    with pytest.raises(ValueError, match="x must have 3 dimensions"):
        memory.bptt_gradients(layer, readout, x[0], y)


def test_measure_false_gives_the_same_gradient_and_no_peak():
    layer, readout = _rnn()
    x, y = _data(10)
    for mode, chunk in (("full", None), ("truncated", 3), ("checkpointed", 3)):
        a = memory.bptt_gradients(layer, readout, x, y, mode=mode, chunk=chunk)
        b = memory.bptt_gradients(layer, readout, x, y, mode=mode, chunk=chunk, measure=False)
        assert a.peak > 0 and b.peak is None and a.loss == b.loss
        assert all(torch.equal(a.grads[n], b.grads[n]) for n in a.grads)


def test_graph_nodes_counts_each_operation_once_and_grows_with_the_steps():
    x = torch.ones(3, requires_grad=True)
    assert memory.graph_nodes((x * 2).sum()) == 3            # sum, mul, x's AccumulateGrad
    z = x * 2
    assert memory.graph_nodes((z + z).sum()) == 4            # z is reached twice, counted once

    def unrolled(T):
        W, h = torch.eye(3, requires_grad=True), torch.zeros(1, 3)
        for _ in range(T):
            h = torch.tanh(h @ W + 1)                         # three operations per step
        return memory.graph_nodes(h.sum())

    assert unrolled(20) - unrolled(10) == 10 * 3


GRAPH_NODES_BAD_INPUTS = [                 # (what, value, error, message)
    ("a leaf", torch.ones(3, requires_grad=True), ValueError, "requires_grad=True"),
    ("no grad", torch.ones(3) * 2, ValueError, "requires_grad=False"),
]


def test_graph_nodes_rejects_what_has_no_graph(subtests):
    for what, value, exc, match in GRAPH_NODES_BAD_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                memory.graph_nodes(value)


def test_detach_state_keeps_values_and_cuts_the_graph(subtests):
    h = torch.ones(1, 2, 3, requires_grad=True) * 2
    with subtests.test("a tensor"):
        cut = memory.detach_state(h)
        assert torch.equal(cut, h) and not cut.requires_grad
    with subtests.test("an (h, c) tuple"):
        hc = memory.detach_state((h, h))
        assert isinstance(hc, tuple) and not any(s.requires_grad for s in hc)
    with subtests.test("None"):
        assert memory.detach_state(None) is None
    with subtests.test("a list"), pytest.raises(TypeError, match="state must be None, a tensor"):
        memory.detach_state([torch.zeros(1)])


def test_backward_entries_counts_the_gradients_every_node_returns():
    x = torch.zeros(2, 3, 4, requires_grad=True)
    assert memory.backward_entries(x[:, 1] * 3) == 8 + 24       # mul: (2, 4); select: all of x
    # three steps read by index return three whole (2, 3, 4) gradients; unbind returns one
    assert memory.backward_entries(torch.stack([x[:, t] for t in range(3)], 1)) == 24 + 3 * 24
    assert memory.backward_entries(torch.stack(x.unbind(1), 1)) == 24 + 24
    assert x.grad is None                                        # no .grad written


BACKWARD_ENTRIES_BAD_INPUTS = [            # (what, value, error, message)
    ("a leaf", torch.ones(3, requires_grad=True), ValueError, "requires_grad=True"),
    ("no grad", torch.ones(3) * 2, ValueError, "requires_grad=False"),
]


def test_backward_entries_rejects_what_has_no_backward(subtests):
    for what, value, exc, match in BACKWARD_ENTRIES_BAD_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                memory.backward_entries(value)
