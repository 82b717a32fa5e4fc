"""Unit tests of rnnlab.train: fit, fit_adding, fit_adding_together, fit_together and
global_grad_norm."""
import numpy as np
import pytest
import torch
from torch import nn

from rnnlab import train
from rnnlab.cells import RNNCell
from rnnlab.models import SequenceModel
from rnnlab.train import OPTIMIZERS, fit, global_grad_norm


def _sum_task(step):
    """Tiny task that needs memory: the target is the sum of a short input sequence."""
    g = torch.Generator().manual_seed(step)
    x = torch.rand(16, 5, 1, generator=g)  # (B, T, 1)
    return x, x.sum(dim=1)                  # (B, 1)


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def test_fit_lowers_the_loss_and_records_history():
    torch.manual_seed(0)
    model = SequenceModel(RNNCell(1, 8), 1)
    hist = fit(model, _sum_task, nn.functional.mse_loss, steps=150, lr=1e-2, progress=False)
    assert set(hist) == {"step", "loss", "grad_norm"}
    assert all(len(v) == 150 for v in hist.values())
    assert hist["step"] == list(range(150))
    assert all(isinstance(v, float) and v >= 0 for v in hist["grad_norm"])
    first, last = sum(hist["loss"][:10]) / 10, sum(hist["loss"][-10:]) / 10
    assert last < 0.2 * first
    assert not model.training  # fit leaves the model in eval mode


def test_fit_is_reproducible_with_the_same_seed():
    runs = []
    for _ in range(2):
        torch.manual_seed(3)
        model = SequenceModel(RNNCell(1, 4), 1)
        runs.append(fit(model, _sum_task, nn.functional.mse_loss, steps=20, progress=False))
    assert runs[0]["loss"] == runs[1]["loss"]


def test_grad_norm_is_before_clipping_and_the_step_is_clipped():
    torch.manual_seed(1)
    model = SequenceModel(RNNCell(1, 4), 1)
    before = _flat(model)
    hist = fit(model, _sum_task, nn.functional.mse_loss, steps=1, lr=1.0, optimizer="sgd",
               clip_norm=0.01, progress=False)
    assert hist["grad_norm"][0] > 0.01                       # the raw norm is recorded
    assert global_grad_norm(model.parameters()) == pytest.approx(0.01, rel=1e-4)
    step = torch.linalg.vector_norm(_flat(model) - before)  # SGD, lr=1: step = clipped gradient
    assert float(step) == pytest.approx(0.01, rel=1e-4)


def test_without_clipping_the_step_is_the_raw_gradient():
    torch.manual_seed(1)
    model = SequenceModel(RNNCell(1, 4), 1)
    before = _flat(model)
    hist = fit(model, _sum_task, nn.functional.mse_loss, steps=1, lr=1.0, optimizer="sgd",
               progress=False)
    step = float(torch.linalg.vector_norm(_flat(model) - before))
    assert step == pytest.approx(hist["grad_norm"][0], rel=1e-4)


def test_callback_runs_every_step():
    seen = []
    fit(SequenceModel(RNNCell(1, 3), 1), _sum_task, nn.functional.mse_loss, steps=5, progress=False,
        callback=lambda step, hist: seen.append((step, len(hist["loss"]))))
    assert seen == [(k, k + 1) for k in range(5)]


def test_every_optimizer_runs(subtests):
    for name in sorted(OPTIMIZERS):
        with subtests.test(optimizer=name):
            hist = fit(SequenceModel(RNNCell(1, 3), 1), _sum_task, nn.functional.mse_loss, steps=2,
                       optimizer=name, lr=1e-3, progress=False)
            assert len(hist["loss"]) == 2


def test_device_argument_is_handed_to_the_model_and_the_batches_follow_it():
    calls = []

    class Spy(SequenceModel):
        def to(self, *args, **kwargs):
            calls.append(args)
            return super().to(*args, **kwargs)

        def forward(self, x, *args, **kwargs):
            assert x.device == next(self.parameters()).device
            return super().forward(x, *args, **kwargs)

    fit(Spy(RNNCell(1, 3), 1), _sum_task, nn.functional.mse_loss, steps=1, device="cpu",
        progress=False)
    assert calls == [("cpu",)]


def test_diverging_loss_raises():
    with pytest.raises(FloatingPointError, match="lower lr or clip"):
        fit(SequenceModel(RNNCell(1, 3), 1), _sum_task, lambda y, t: y.sum() * float("nan"),
            steps=3, progress=False)


def test_global_grad_norm():
    a = nn.Parameter(torch.zeros(2))
    b = nn.Parameter(torch.zeros(1))
    assert global_grad_norm([a, b]) == 0.0  # no gradients yet
    a.grad, b.grad = torch.tensor([3.0, 0.0]), torch.tensor([4.0])
    assert global_grad_norm([a, b]) == pytest.approx(5.0)


FIT_BAD_ARGUMENTS = [                       # (what, kwargs, error, message)
    ("steps 0", dict(steps=0), ValueError, "steps must be >= 1"),
    ("steps 2.5", dict(steps=2.5), TypeError, "steps must be an int"),
    ("lr 0", dict(steps=2, lr=0.0), ValueError, "lr must be > 0"),
    ("lr 'fast'", dict(steps=2, lr="fast"), TypeError, "lr must be a number"),
    ("optimizer 'lbfgs'", dict(steps=2, optimizer="lbfgs"), ValueError,
     "optimizer must be one of"),
    ("clip_norm -1", dict(steps=2, clip_norm=-1.0), ValueError, "clip_norm must be > 0"),
    ("clip_norm inf", dict(steps=2, clip_norm=float("inf")), ValueError,
     "clip_norm must be finite"),
]


def test_fit_rejects_bad_arguments(subtests):
    for what, kwargs, exc, match in FIT_BAD_ARGUMENTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                fit(SequenceModel(RNNCell(1, 3), 1), _sum_task, nn.functional.mse_loss,
                    progress=False, **kwargs)


def test_fit_rejects_a_bad_model():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        fit(lambda x: x, _sum_task, nn.functional.mse_loss, steps=1, progress=False)
    with pytest.raises(TypeError, match="model must be a torch.nn.Module with parameters"):
        fit(nn.Identity(), _sum_task, nn.functional.mse_loss, steps=1, progress=False)


def test_global_grad_norm_accepts_a_model_or_its_parameters():
    model = nn.Linear(2, 2)
    model(torch.ones(1, 2)).sum().backward()
    want = float(torch.cat([p.grad.flatten() for p in model.parameters()]).norm())
    assert train.global_grad_norm(model) == pytest.approx(want)
    assert train.global_grad_norm(model.parameters()) == pytest.approx(want)


UPDATE_HELPER_BAD_ARGUMENTS = [             # (what, call(model, opt), error, message)
    ("global_grad_norm of an int", lambda m, o: train.global_grad_norm(3), TypeError,
     "model or an iterable of parameters, got int"),
    ("optimizer_step, loss a float", lambda m, o: train.optimizer_step(m, o, 1.0), TypeError,
     "loss must be a scalar tensor .*got float"),
    ("optimizer_step, loss of shape (3,)",
     lambda m, o: train.optimizer_step(m, o, torch.ones(3)), ValueError,
     r"loss must be a scalar tensor .*got torch.Tensor of shape \(3,\)"),
]


def test_update_helpers_reject_bad_arguments(subtests):
    for what, call, error, match in UPDATE_HELPER_BAD_ARGUMENTS:
        with subtests.test(what):
            model = nn.Linear(2, 2)
            with pytest.raises(error, match=match):
                call(model, torch.optim.SGD(model.parameters(), lr=0.1))


def test_a_callback_that_returns_true_stops_training_at_that_step():
    seen = []

    def stop_at_3(step, history):
        seen.append(step)
        return step == 3

    hist = fit(SequenceModel(RNNCell(1, 3), 1), _sum_task, nn.functional.mse_loss, steps=10,
               progress=False, callback=stop_at_3)
    assert seen == [0, 1, 2, 3] and hist["step"] == [0, 1, 2, 3]


def test_fit_together_trains_each_model_as_fit_alone_would():
    from rnnlab import tasks

    def make(seed):
        torch.manual_seed(seed)
        return SequenceModel(RNNCell(2, 5), 1).double()

    streams = [tasks.batches(tasks.adding_problem, 8, 6, seed=s) for s in (0, 1)]

    def stacked(step):
        pairs = [stream(step) for stream in streams]
        return (torch.stack([x for x, _ in pairs]).double(),
                torch.stack([y for _, y in pairs]).double())

    losses, norms, params, buffers = train.fit_together(
        [make(0), make(1)], stacked, nn.functional.mse_loss, steps=5, lr=0.05, clip_norm=0.5)
    assert losses.shape == norms.shape == (2, 5)
    for k in (0, 1):
        alone = make(k)
        stream = tasks.batches(tasks.adding_problem, 8, 6, seed=k)
        hist = fit(alone, lambda s, st=stream: tuple(t.double() for t in st(s)),
                   nn.functional.mse_loss, steps=5, lr=0.05, clip_norm=0.5, progress=False)
        assert np.allclose(losses[k], hist["loss"], rtol=1e-9)
        assert np.allclose(norms[k], hist["grad_norm"], rtol=1e-9)
        together = train.one_of(make(0), params, buffers, k)
        for a, b in zip(together.parameters(), alone.parameters()):
            assert torch.allclose(a, b, atol=1e-9)


def test_fit_together_stops_early_and_rejects_bad_arguments():
    models = [SequenceModel(RNNCell(1, 3), 1) for _ in range(2)]
    batch = lambda s: (torch.zeros(2, 4, 5, 1), torch.zeros(2, 4, 1))  # noqa: E731
    losses, *_ = train.fit_together(models, batch, nn.functional.mse_loss, steps=9,
                                    stop=lambda l: l.shape[1] == 3)
    assert losses.shape == (2, 3)
    with pytest.raises(TypeError, match="non-empty list"):
        train.fit_together([], batch, nn.functional.mse_loss, steps=1)
    with pytest.raises(TypeError, match="same class"):
        train.fit_together([models[0], nn.Linear(1, 1)], batch, nn.functional.mse_loss, steps=1)
    with pytest.raises(ValueError, match="i must be <= 1"):
        train.one_of(models[0], *train.fit_together(models, batch, nn.functional.mse_loss,
                                                     steps=1)[2:], 2)


def _adding_model(T, seed=0):
    """A small model of the adding problem that does not depend on rnnlab's models."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(2 * T, 1))       # (B, T, 2) -> (B, 1)


def test_fit_adding_is_fit_on_the_seeds_adding_batches_then_the_test_mse():
    from rnnlab import tasks
    T = 6
    test = tasks.adding_problem(50, T, seed=9)
    seen = []
    run = train.fit_adding(_adding_model(T), T, seed=3, steps=4, batch_size=8, lr=0.1,
                           test=test, clip_norm=1.0, progress=False,
                           callback=lambda step, history: seen.append(step))
    model = _adding_model(T)
    history = fit(model, tasks.batches(tasks.adding_problem, 8, T, seed=3), nn.functional.mse_loss,
                  steps=4, lr=0.1, clip_norm=1.0, progress=False)
    with torch.no_grad():
        mse = nn.functional.mse_loss(model(test[0]), test[1]).item()
    assert run["history"] == history and run["mse"] == mse and seen == [0, 1, 2, 3]
    other = train.fit_adding(_adding_model(T), T, seed=3, steps=4, batch_size=8, lr=0.1,
                             test=test, clip_norm=1.0, progress=False,
                             task=tasks.last_marked_value)
    model = _adding_model(T)
    history = fit(model, tasks.batches(tasks.last_marked_value, 8, T, seed=3),
                  nn.functional.mse_loss, steps=4, lr=0.1, clip_norm=1.0, progress=False)
    assert other["history"] == history                         # task= draws that task's batches


FIT_ADDING_BAD_TESTS = [                       # (what, test set of T = 6, error, message)
    ("another length", (torch.zeros(4, 5, 2), torch.zeros(4, 1)), ValueError,
     "test.0. must have size 6 on axis 1"),
    ("targets of another batch", (torch.zeros(4, 6, 2), torch.zeros(3, 1)), ValueError,
     "test.1. must have size 4 on axis 0"),
]


def test_fit_adding_rejects_a_bad_test_set(subtests):
    for what, test, exc, match in FIT_ADDING_BAD_TESTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                train.fit_adding(_adding_model(6), 6, seed=0, steps=1, batch_size=4, lr=0.1,
                                 test=test, progress=False)


def test_fit_adding_together_gives_each_seed_its_fit_adding_run():
    from rnnlab import tasks
    T, test = 6, tasks.last_marked_value(40, 6, seed=9)
    runs = train.fit_adding_together([_adding_model(T, seed=s) for s in (3, 5)], T, seeds=(3, 5),
                                     steps=4, batch_size=8, lr=0.1, test=test, clip_norm=0.5,
                                     task=tasks.last_marked_value)
    assert list(runs) == [3, 5]
    for seed, run in runs.items():
        alone = train.fit_adding(_adding_model(T, seed=seed), T, seed=seed, steps=4,
                                 batch_size=8, lr=0.1, test=test, clip_norm=0.5,
                                 progress=False, task=tasks.last_marked_value)
        assert run["history"]["step"] == alone["history"]["step"] == [0, 1, 2, 3]
        for key in ("loss", "grad_norm"):                      # float32: rounding only
            assert np.allclose(run["history"][key], alone["history"][key], rtol=1e-5)
        assert run["mse"] == pytest.approx(alone["mse"], rel=1e-5)


def test_fit_adding_together_rejects_bad_arguments(subtests):
    models = [_adding_model(6), _adding_model(6, seed=1)]
    for what, seeds, test, match in [
            ("one seed for two models", (0,), (torch.zeros(4, 6, 2), torch.zeros(4, 1)),
             "one seed per model"),
            *((what, (0, 1), test, match) for what, test, _, match in FIT_ADDING_BAD_TESTS)]:
        with subtests.test(what):
            with pytest.raises(ValueError, match=match):
                train.fit_adding_together(models, 6, seeds=seeds, steps=1, batch_size=4, lr=0.1,
                                          test=test)


def test_clip_each_clips_every_seed_as_clip_grad_norm_clips_one_model():
    torch.manual_seed(0)
    grads = [torch.randn(3, 4, 5), torch.randn(3, 7)]               # (S, ...), three seeds
    alone = [[g[s].clone() for g in grads] for s in range(3)]
    norms = train.clip_each_(grads, 1.0)
    for s in range(3):
        params = [torch.nn.Parameter(torch.zeros_like(g)) for g in alone[s]]
        for p, g in zip(params, alone[s]):
            p.grad = g
        expected = torch.nn.utils.clip_grad_norm_(params, 1.0)
        assert torch.allclose(norms[s], expected)
        for p, g in zip(params, grads):
            assert torch.allclose(g[s], p.grad, rtol=1e-6, atol=0)
    before = [g.clone() for g in grads]
    assert torch.allclose(train.clip_each_(grads, None), norms.clamp(max=1.0), atol=1e-5)
    assert all(torch.equal(a, b) for a, b in zip(before, grads))      # None: no clipping
