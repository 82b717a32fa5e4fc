"""Unit tests of rnnlab.runtime: seeding, device and private generators."""
import random

import numpy as np
import pytest
import torch

from rnnlab import runtime


def _draw():
    return random.random(), float(np.random.rand()), torch.rand(3).tolist()


def test_seed_everything_makes_runs_identical():
    assert runtime.seed_everything(7) == 7
    a = _draw()
    runtime.seed_everything(7)
    b = _draw()
    runtime.seed_everything(8)
    c = _draw()
    assert a == b
    assert a[0] != c[0] and a[1] != c[1] and a[2] != c[2]


def test_seed_everything_makes_a_model_identical():
    runtime.seed_everything(1)
    w1 = torch.nn.RNN(2, 3).weight_hh_l0.detach().clone()
    runtime.seed_everything(1)
    w2 = torch.nn.RNN(2, 3).weight_hh_l0.detach().clone()
    assert torch.equal(w1, w2)


def test_seed_everything_turns_on_deterministic_algorithms():
    runtime.seed_everything(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert torch.is_deterministic_algorithms_warn_only_enabled()


@pytest.mark.parametrize("seed, exc, match", [
    (-1, ValueError, "seed must be >= 0"),
    (2**32, ValueError, "seed must be <= "),
    (1.0, TypeError, "seed must be an int"),
    (True, TypeError, "seed must be an int"),
])
def test_seed_everything_rejects_bad_seeds(seed, exc, match):
    with pytest.raises(exc, match=match):
        runtime.seed_everything(seed)


@pytest.mark.parametrize("cuda", [True, False])
def test_default_device_is_cuda_exactly_when_torch_sees_a_gpu(monkeypatch, cuda):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert runtime.default_device() == torch.device("cuda" if cuda else "cpu")


def test_make_generator_is_private_and_repeatable():
    g1, g2 = runtime.make_generator(5), runtime.make_generator(5)
    torch.manual_seed(0)
    a = torch.rand(4, generator=g1)
    torch.rand(100)  # global draws do not disturb a private generator
    torch.manual_seed(123)
    b = torch.rand(4, generator=g2)
    assert torch.equal(a, b)
    assert not torch.equal(torch.rand(4, generator=runtime.make_generator(6)), a)
    assert runtime.make_generator(0, "cpu").device.type == "cpu"


@pytest.mark.parametrize("seed, exc", [(-3, ValueError), ("0", TypeError)])
def test_make_generator_rejects_bad_seeds(seed, exc):
    with pytest.raises(exc, match="seed"):
        runtime.make_generator(seed)
