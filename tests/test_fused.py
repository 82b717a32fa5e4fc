"""Unit tests of rnnlab.fused: FusedSequenceModel and its copy on the course's cells."""
import pytest
import torch

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


BAD_INPUTS = [                      # (what, call, error, message)
    ("model cell='cho'", lambda: FusedSequenceModel(D, H, 1, cell="cho"),
     ValueError, "cell must be one of"),
    ("model head='first'", lambda: FusedSequenceModel(D, H, 1, head="first"),
     ValueError, "head must be one of"),
    ("model gru with forget_bias", lambda: FusedSequenceModel(D, H, 1, cell="gru", forget_bias=1.0),
     ValueError, "forget_bias applies to cell='lstm'"),
    ("model input of the wrong size", lambda: FusedSequenceModel(D, H, 1)(torch.zeros(B, T, D + 1)),
     ValueError, "size 3 on axis 2"),
]


def test_bad_inputs_are_named(subtests):
    for what, call, exc, match in BAD_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                call()
