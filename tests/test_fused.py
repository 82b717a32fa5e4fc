"""Unit tests of rnnlab.fused: FusedSequenceModel and its copy on the course's cells."""
import pytest
import torch
import torch.nn.functional as F

from rnnlab import tasks, train
from rnnlab.fused import FusedSequenceModel, fit_together
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


def _seed_model(seed, kind):
    torch.manual_seed(seed)
    if kind == "gru":
        return FusedSequenceModel(2, H, 1, cell="gru").double()
    return FusedSequenceModel(2, H, 1, cell="rnn", nonlinearity=kind).double()


def _batches(seed):
    g = torch.Generator().manual_seed(seed)
    return lambda step: tuple(t.double() for t in tasks.adding_problem(B, T, generator=g))


def test_seeds_trained_together_follow_their_runs_alone(subtests):
    # seed 1 stops after its third step (its callback says so), seed 2 runs all four
    stop_after = {1: 2, 2: None}
    for kind in ("tanh", "relu", "gru"):
        with subtests.test(kind=kind):
            together = [_seed_model(s, kind) for s in stop_after]
            histories = fit_together(
                together, [_batches(s) for s in stop_after], F.mse_loss, steps=4, lr=0.05,
                clip_norm=0.5, callbacks=[lambda step, h, k=k: step == k
                                          for k in stop_after.values()])
            for (s, k), model, history in zip(stop_after.items(), together, histories):
                alone = _seed_model(s, kind)
                want = train.fit(alone, _batches(s), F.mse_loss, steps=4 if k is None else k + 1,
                                 lr=0.05, clip_norm=0.5, progress=False)
                assert history["step"] == want["step"]
                assert max(abs(a - b) for a, b in zip(history["grad_norm"], want["grad_norm"])) \
                    < 1e-10
                for p, q in zip(model.parameters(), alone.parameters()):
                    assert _rel(p, q) < 1e-10


BAD_INPUTS = [                      # (what, call, error, message)
    ("model cell='cho'", lambda: FusedSequenceModel(D, H, 1, cell="cho"),
     ValueError, "cell must be one of"),
    ("model head='first'", lambda: FusedSequenceModel(D, H, 1, head="first"),
     ValueError, "head must be one of"),
    ("model gru with forget_bias", lambda: FusedSequenceModel(D, H, 1, cell="gru", forget_bias=1.0),
     ValueError, "forget_bias applies to cell='lstm'"),
    ("model input of the wrong size", lambda: FusedSequenceModel(D, H, 1)(torch.zeros(B, T, D + 1)),
     ValueError, "size 3 on axis 2"),
    ("together: an LSTM", lambda: fit_together(
        [FusedSequenceModel(D, H, 1)], [None], F.mse_loss, steps=1, lr=0.1),
     ValueError, "cell='rnn' or 'gru', head='last'"),
    ("together: not a model", lambda: fit_together([SequenceModel], [None], F.mse_loss,
                                                       steps=1, lr=0.1),
     TypeError, "a model of models must be a rnnlab.fused.FusedSequenceModel"),
    ("together: two sizes", lambda: fit_together(
        [FusedSequenceModel(D, H, 1, cell="rnn"), FusedSequenceModel(D, H + 1, 1, cell="rnn")],
        [None, None], F.mse_loss, steps=1, lr=0.1),
     ValueError, "of one kind, sizes and nonlinearity"),
    ("together: a batch function short", lambda: fit_together(
        [FusedSequenceModel(D, H, 1, cell="rnn")] * 2, [None], F.mse_loss, steps=1, lr=0.1),
     ValueError, "2 models, 1 batch functions"),
    ("together: clip_norm 0", lambda: fit_together(
        [FusedSequenceModel(D, H, 1, cell="rnn")], [None], F.mse_loss, steps=1, lr=0.1,
        clip_norm=0.0),
     ValueError, "clip_norm must be > 0"),
]


def test_bad_inputs_are_named(subtests):
    for what, call, exc, match in BAD_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                call()
