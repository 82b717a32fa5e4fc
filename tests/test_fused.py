"""Unit tests of rnnlab.fused: FusedSequenceModel and its scratch twin, fused layers by name,
state detaching."""
import pytest
import torch
from torch import nn

from rnnlab import fused
from rnnlab.fused import FusedSequenceModel
from rnnlab.models import SequenceModel

D, H, O, B, T = 3, 5, 2, 4, 7


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _rel(a, b):
    a, b = a.detach(), b.detach()
    return float((a - b).abs().max() / b.abs().max().clamp_min(1.0))


def test_built_fused_model_and_its_scratch_copy_are_one_function(subtests):
    for kind, head in [("rnn", "last"), ("lstm", "all"), ("gru", "last")]:
        with subtests.test(kind=kind, head=head):
            torch.manual_seed(6)
            model = FusedSequenceModel(D, H, O, cell=kind, head=head,
                                       forget_bias=1.0 if kind == "lstm" else None).double()
            scratch = model.to_scratch()
            x = _x(B, T, D)
            assert isinstance(scratch, SequenceModel) and scratch.head == head
            assert _rel(scratch(x), model(x)) < 1e-12
            if kind == "lstm":
                assert torch.all(scratch.cell.weights("f")[2] == 1.0)


SCRATCH_OPTIONS = [dict(nonlinearity="tanh"), dict(nonlinearity="relu", head="all"),
                   dict(cell="lstm", forget_bias=1.0), dict(cell="gru")]


def test_from_scratch_twin_computes_and_trains_like_the_scratch_model(subtests):
    for options in SCRATCH_OPTIONS:
        with subtests.test(**options):
            torch.manual_seed(1)
            scratch = SequenceModel(D, H, O, **options).double()
            twin = FusedSequenceModel.from_scratch(scratch)
            x = _x(B, T, D)
            y = _x(B, T, O, seed=1) if options.get("head") == "all" else _x(B, O, seed=1)
            assert _rel(twin(x), scratch(x)) < 1e-12
            n_scratch = sum(p.numel() for p in scratch.parameters())
            n_twin = sum(p.numel() for p in twin.parameters() if p.requires_grad)
            if options.get("cell") != "gru":  # the GRU's second bias keeps its n rows trainable
                assert n_twin == n_scratch
            for model in (scratch, twin):     # Adam treats the redundant bias exactly as absent
                opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                       lr=0.05)
                for _ in range(4):
                    opt.zero_grad()
                    ((model(x) - y) ** 2).mean().backward()
                    opt.step()
            assert _rel(twin.to_scratch()(x), scratch(x)) < 1e-9


def test_make_rnn_builds_batch_first_layers(subtests):
    for cell, kind in [("rnn", nn.RNN), ("lstm", nn.LSTM), ("gru", nn.GRU)]:
        with subtests.test(cell=cell):
            layer = fused.make_rnn(cell, 3, 5, num_layers=2)
            assert isinstance(layer, kind) and layer.batch_first and layer.num_layers == 2
            out, _ = layer(torch.zeros(2, 7, 3))
            assert out.shape == (2, 7, 5)
    assert fused.make_rnn("rnn", 3, 5, nonlinearity="relu").nonlinearity == "relu"


def test_detach_state_keeps_values_and_cuts_the_graph():
    h = torch.ones(1, 2, 3, requires_grad=True) * 2
    cut = fused.detach_state(h)
    assert torch.equal(cut, h) and not cut.requires_grad
    hc = fused.detach_state((h, h))
    assert isinstance(hc, tuple) and not any(s.requires_grad for s in hc)
    assert fused.detach_state(None) is None


BAD_INPUTS = [                      # (what, call, error, message)
    ("model cell='cho'", lambda: FusedSequenceModel(D, H, 1, cell="cho"),
     ValueError, "cell must be one of"),
    ("model head='first'", lambda: FusedSequenceModel(D, H, 1, head="first"),
     ValueError, "head must be one of"),
    ("model gru with forget_bias", lambda: FusedSequenceModel(D, H, 1, cell="gru", forget_bias=1.0),
     ValueError, "forget_bias applies to cell='lstm'"),
    ("model output_size=0", lambda: FusedSequenceModel(D, H, 0),
     ValueError, "output_size must be >= 1"),
    ("model input of the wrong size", lambda: FusedSequenceModel(D, H, 1)(torch.zeros(B, T, D + 1)),
     ValueError, "size 3 on axis 2"),
    ("from_scratch of rnn_ln",
     lambda: FusedSequenceModel.from_scratch(SequenceModel(D, H, 1, cell="rnn_ln")),
     TypeError, "rnn, lstm or gru cell, got LayerNormRNNCell"),
    ("from_scratch of a Linear", lambda: FusedSequenceModel.from_scratch(nn.Linear(2, 2)),
     TypeError, "SequenceModel"),
    ("from_scratch of a sigmoid rnn",
     lambda: FusedSequenceModel.from_scratch(SequenceModel(D, H, 1, nonlinearity="sigmoid")),
     ValueError, "supports tanh and relu"),
    ("make_rnn('transformer')", lambda: fused.make_rnn("transformer", 3, 5),
     ValueError, "cell must be one of"),
    ("make_rnn(nn.LSTM)", lambda: fused.make_rnn(nn.LSTM, 3, 5),
     TypeError, "cell must be a string"),
    ("make_rnn hidden_size=0", lambda: fused.make_rnn("gru", 3, 0),
     ValueError, "hidden_size must be >= 1"),
    ("make_rnn gru with nonlinearity", lambda: fused.make_rnn("gru", 3, 5, nonlinearity="relu"),
     ValueError, "applies to cell='rnn'"),
    ("detach_state of a list", lambda: fused.detach_state([torch.zeros(1)]),
     TypeError, "state must be"),
]


def test_bad_inputs_are_named(subtests):
    for what, call, exc, match in BAD_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                call()
