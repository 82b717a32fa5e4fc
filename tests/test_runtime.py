"""Unit tests of rnnlab.runtime: seeding, device, private generators and timing."""
import os
import random
import subprocess
import sys
import time

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
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled())
    torch.use_deterministic_algorithms(False)    # off, so that the call below must turn them on
    try:
        runtime.seed_everything(0, deterministic=True)
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])


# (the bad seed, the error and what it says)
BAD_SEEDS = [
    (-1, ValueError, "seed must be >= 0"),
    (2**32, ValueError, "seed must be <= "),
    (1.0, TypeError, "seed must be an int"),
    (True, TypeError, "seed must be an int"),
]


def test_seed_everything_rejects_bad_seeds(subtests):
    for seed, exc, match in BAD_SEEDS:
        with subtests.test(seed=seed):
            with pytest.raises(exc, match=match):
                runtime.seed_everything(seed)


def test_default_device_is_cuda_exactly_when_torch_sees_a_gpu(monkeypatch, subtests):
    for cuda in (True, False):
        with subtests.test(cuda=cuda), monkeypatch.context() as mp:
            mp.setattr(torch.cuda, "is_available", lambda cuda=cuda: cuda)
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


def test_make_generator_rejects_bad_seeds(subtests):
    for seed, exc, match in ((-3, ValueError, "seed must be >= 0, got -3"),
                             ("0", TypeError, "seed must be an int, got str")):
        with subtests.test(seed=seed):
            with pytest.raises(exc, match=match):
                runtime.make_generator(seed)


def test_best_times_warms_up_then_takes_turns_in_rounds():
    calls = []
    times = runtime.best_times({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")},
                               rounds=2, inner=3)
    assert calls == ["a", "b"] + (["a"] * 3 + ["b"] * 3) * 2        # warm-up, then the rounds
    assert list(times) == ["a", "b"] and all(t >= 0 for t in times.values())


def test_best_times_measures_cpu_time_in_milliseconds_on_one_thread():
    threads = []

    def busy():                                # 20 ms of this process's CPU time
        threads.append(torch.get_num_threads())
        start = time.process_time()
        while time.process_time() - start < 0.02:
            pass

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        times = runtime.best_times({"busy": busy, "asleep": lambda: time.sleep(0.02)}, rounds=1)
        assert torch.get_num_threads() == 2                           # restored
    finally:
        torch.set_num_threads(before)
    assert set(threads) == {1}
    assert times["busy"] >= 19.0 and times["asleep"] < 5.0    # sleeping costs no CPU time


# (what, fns, keyword arguments, error, message)
BEST_TIMES_BAD_ARGUMENTS = [
    ("rounds 0", {"a": int}, {"rounds": 0}, ValueError, "rounds must be >= 1"),
    ("inner 1.5", {"a": int}, {"inner": 1.5}, TypeError, "inner must be an int"),
]


def test_best_times_rejects_bad_arguments(subtests):
    for what, fns, kwargs, exc, match in BEST_TIMES_BAD_ARGUMENTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                runtime.best_times(fns, **kwargs)


def test_profiled_ops_names_the_operators_quietly():
    # in a fresh interpreter, where the profiler's log level is read for the first time
    code = ("import torch; from rnnlab import runtime; "
            "print(runtime.profiled_ops(lambda: torch.ones(3) @ torch.ones(3)))")
    env = {k: v for k, v in os.environ.items() if k != "KINETO_LOG_LEVEL"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          check=True)
    assert "aten::matmul" in done.stdout
    assert "USDT" not in done.stderr, done.stderr
