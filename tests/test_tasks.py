"""Unit tests of rnnlab.tasks: shapes, determinism, the structure of each task, baselines."""
import math

import pytest
import torch

from rnnlab import tasks
from rnnlab.runtime import make_generator


def test_adding_problem_shapes_and_targets():
    x, y = tasks.adding_problem(256, 20, seed=3)
    assert x.shape == (256, 20, 2) and y.shape == (256, 1)
    assert x.dtype == torch.float32 and y.dtype == torch.float32
    values, markers = x[..., 0], x[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    assert torch.all(markers.sum(dim=1) == 2)
    assert set(markers.unique().tolist()) == {0.0, 1.0}
    torch.testing.assert_close(y[:, 0], (values * markers).sum(dim=1))
    first = markers.argmax(dim=1)                       # first one in the sequence
    second = 19 - markers.flip(1).argmax(dim=1)         # last one
    assert torch.all(first < 10) and torch.all(second >= 10)


def test_adding_problem_shortest_sequence():
    x, y = tasks.adding_problem(8, 2)
    assert torch.all(x[..., 1] == 1)                    # both steps are marked
    torch.testing.assert_close(y[:, 0], x[..., 0].sum(dim=1))


def test_adding_baseline_is_one_sixth_by_monte_carlo():
    _, y = tasks.adding_problem(200_000, 4, seed=0)
    mse_of_mean = float(((y - 1.0) ** 2).mean())
    assert tasks.adding_baseline_mse() == pytest.approx(1 / 6)
    assert abs(mse_of_mean - 1 / 6) < 3e-3             # standard error about 4e-4
    assert abs(y.mean().item() - 1.0) < 5e-3            # the mean is the best constant


def test_seed_and_generator_make_reproducible_data():
    a = tasks.adding_problem(4, 6, seed=7)
    b = tasks.adding_problem(4, 6, seed=7)
    c = tasks.adding_problem(4, 6, seed=8)
    assert torch.equal(a[0], b[0]) and not torch.equal(a[0], c[0])
    g1, g2 = make_generator(1), make_generator(1)
    assert torch.equal(tasks.adding_problem(4, 6, generator=g1)[0],
                       tasks.adding_problem(4, 6, generator=g2)[0])
    # a generator advances: two draws differ
    assert not torch.equal(tasks.adding_problem(4, 6, generator=g1)[0],
                           tasks.adding_problem(4, 6, generator=make_generator(1))[0])


def test_copy_memory_structure_and_baseline():
    T = 15
    x, y = tasks.copy_memory(32, T, seed=0)
    assert x.shape == y.shape == (32, T + 20) and x.dtype == torch.long
    symbols = x[:, :10]
    assert torch.all((symbols >= 1) & (symbols <= 8))
    assert torch.all(x[:, 10:10 + T - 1] == 0)
    assert torch.all(x[:, 10 + T - 1] == 9)             # the cue
    assert torch.all(x[:, 10 + T:] == 0)
    assert torch.all(y[:, :T + 10] == 0)
    assert torch.equal(y[:, -10:], symbols)
    assert tasks.copy_memory_baseline(T) == pytest.approx(10 * math.log(8) / (T + 20))
    # the memoryless strategy: certain blanks, then uniform over the 8 symbols
    logits = torch.full((32, T + 20, 10), -1e9)
    logits[:, :T + 10, 0] = 0.0
    logits[:, T + 10:, 1:9] = 0.0
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 10), y.reshape(-1))
    assert float(ce) == pytest.approx(tasks.copy_memory_baseline(T), rel=1e-5)


def test_copy_memory_shortest_delay():
    x, y = tasks.copy_memory(2, 1)
    assert x.shape == (2, 21) and torch.all(x[:, 10] == 9)


def test_temporal_order_structure():
    T, n = 50, 4
    x, y = tasks.temporal_order(500, T, seed=0, n_distractors=n)
    assert x.shape == (500, T, n + 2) and y.shape == (500,)
    assert torch.all(x.sum(dim=-1) == 1)                # one-hot
    sym = x.argmax(dim=-1)                              # (B, T)
    relevant = sym >= n
    assert torch.all(relevant.sum(dim=1) == 2)
    pos = relevant.nonzero()[:, 1].reshape(500, 2)
    assert torch.all((pos[:, 0] >= T // 10) & (pos[:, 0] < T // 5))
    assert torch.all((pos[:, 1] >= T // 2) & (pos[:, 1] < 6 * T // 10))
    first = sym.gather(1, pos[:, :1])[:, 0] - n         # 0 = X, 1 = Y
    second = sym.gather(1, pos[:, 1:])[:, 0] - n
    assert torch.equal(y, 2 * first + second)
    # each class's name spells its two relevant symbols in order (all four classes occur)
    assert ([tasks.TEMPORAL_ORDER_CLASSES[c] for c in y.tolist()]
            == ["XY"[f] + "XY"[s] for f, s in zip(first.tolist(), second.tolist())])
    counts = torch.bincount(y, minlength=4).float() / 500
    assert torch.all((counts > 0.18) & (counts < 0.32))  # chance accuracy is 1/4


def test_batches_draws_fresh_reproducible_batches():
    fn = tasks.batches(tasks.adding_problem, 8, 12, seed=5)
    x0, y0 = fn(0)
    x1, _ = fn(1)
    assert x0.shape == (8, 12, 2) and y0.shape == (8, 1)
    assert not torch.equal(x0, x1)
    again = tasks.batches(tasks.adding_problem, 8, 12, seed=5)
    assert torch.equal(again(0)[0], x0)


def test_bad_inputs():
    with pytest.raises(TypeError, match="batch_size must be an int"):
        tasks.adding_problem(2.5, 10)
    with pytest.raises(ValueError, match="length must be >= 2"):
        tasks.adding_problem(4, 1)
    with pytest.raises(TypeError, match="torch.Generator"):
        tasks.adding_problem(4, 10, generator=3)
    with pytest.raises(ValueError, match="delay must be >= 1"):
        tasks.copy_memory(4, 0)
    with pytest.raises(ValueError, match="delay must be >= 1"):
        tasks.copy_memory_baseline(0)
    with pytest.raises(ValueError, match="length must be >= 10"):
        tasks.temporal_order(4, 5)
    with pytest.raises(ValueError, match="n_distractors must be >= 1"):
        tasks.temporal_order(4, 20, n_distractors=0)
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        tasks.batches(tasks.adding_problem, 0, 10)(0)         # checked by the task itself


def test_bag_of_symbols_ignores_order():
    bag = tasks.BagOfSymbols(6, 4)
    x, _ = tasks.temporal_order(8, 20, seed=0)
    shuffled = x[:, torch.randperm(20, generator=torch.Generator().manual_seed(0))]
    assert torch.allclose(bag(x), bag(shuffled), atol=1e-6)
    assert bag(x).shape == (8, 4)
    with pytest.raises(ValueError, match="size 6 on axis 2"):
        bag(torch.zeros(2, 5, 3))


def test_accuracy_counts_correct_arg_max():
    scores = torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert tasks.accuracy(scores, torch.tensor([0, 1, 1])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="size 3 on axis 0"):
        tasks.accuracy(scores, torch.tensor([0, 1]))
    with pytest.raises(TypeError, match="torch.Tensor"):
        tasks.accuracy(scores, [0, 1, 1])


def test_last_marked_value_structure_and_baseline():
    x, y = tasks.last_marked_value(4000, 40, seed=3)
    assert x.shape == (4000, 40, 2) and y.shape == (4000, 1)
    markers = x[..., 1]
    counts = markers.sum(1)
    assert set(counts.unique().tolist()) == {1.0, 2.0, 3.0}           # 1..3 markers, all used
    assert markers[:, 20:].sum() == 0                                # all in the first half
    last = 39 - markers.flip(1).argmax(1)                             # (B,): last marked step
    torch.testing.assert_close(y[:, 0], x[torch.arange(4000), last, 0])
    _, y_big = tasks.last_marked_value(200_000, 6, seed=0)
    mse = ((y_big - 0.5) ** 2).mean().item()
    assert mse == pytest.approx(tasks.last_marked_baseline_mse(), rel=0.02)


def test_last_marked_value_edges(subtests):
    for name, (T, K) in {"one marker": (10, 1), "every first-half step": (6, 3),
                         "shortest": (2, 1)}.items():
        with subtests.test(case=name):
            x, y = tasks.last_marked_value(50, T, seed=1, max_markers=K)
            assert x[..., 1].sum(1).max() <= K and x[..., 1].sum(1).min() >= 1
            last = T - 1 - x[..., 1].flip(1).argmax(1)
            torch.testing.assert_close(y[:, 0], x[torch.arange(50), last, 0])
    with subtests.test(case="more markers than the first half"):
        with pytest.raises(ValueError):
            tasks.last_marked_value(4, 6, max_markers=4)
