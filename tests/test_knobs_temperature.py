"""rnnlab.knobs.temperature: chapter 6's slider data (temperature -> the distribution sampled)."""
import math

import numpy as np
import pytest
import torch

from rnnlab import lm, runtime, text
from rnnlab.knobs import temperature as knob


def _log_probs(N=50, V=7):
    gen = torch.Generator().manual_seed(0)
    return torch.log_softmax(3 * torch.randn(N, V, generator=gen), dim=1)        # (N, V)


def test_sweep_matches_direct_computation_at_two_temperatures(subtests):
    log_p = _log_probs()
    ranks = [1, 2, 4, 7]
    curves = knob.sorted_probs_by_temperature(log_p, [0.5, 1.0, 1.5], ranks=ranks)
    assert sorted(curves) == [0.5, 1.0, 1.5]
    own = torch.softmax(log_p.double(), dim=1).sort(dim=1, descending=True).values.mean(0)
    for tau in (0.5, 1.5):
        with subtests.test(tau=tau):
            z = log_p.double() + 5.0                  # scores: log-probs up to a constant
            direct = torch.softmax(z / tau, dim=1).sort(dim=1, descending=True).values.mean(0)
            r, p = curves[tau][knob.SERIES[0]]
            assert np.array_equal(r, ranks)
            assert np.allclose(p, direct[np.array(ranks) - 1].numpy(), rtol=1e-12, atol=0)
            assert np.allclose(curves[tau][knob.SERIES[1]][1], own[np.array(ranks) - 1].numpy(),
                               rtol=1e-12, atol=0)
            assert np.allclose(curves[tau][knob.SERIES[2]][1], 1 / 7)
            q = torch.softmax(z / tau, dim=1)
            assert math.isclose(knob.mean_entropy(log_p, tau),
                                float(-(q * q.log()).sum(1).mean()), rel_tol=1e-12)
    assert np.allclose(curves[1.0][knob.SERIES[0]][1], curves[1.0][knob.SERIES[1]][1])


def test_samples_match_lm_sample_at_two_temperatures(subtests):
    vocab = text.Vocab.from_text("abc de\n")
    torch.manual_seed(0)
    model = lm.CharLM(len(vocab), 4, embedding_size=3)
    samples = knob.samples_by_temperature(model, vocab, [0.5, 2.0], n_chars=12, prime="a",
                                          seed=3)
    for tau in (0.5, 2.0):
        with subtests.test(tau=tau):
            direct = lm.sample(model, vocab, 12, prime="a", temperature=tau,
                               generator=runtime.make_generator(3))
            assert samples[tau] == direct and len(direct) == 12


def test_bad_input_is_named(subtests):
    log_p = _log_probs()
    cases = [
        ("temperature 0", lambda: knob.sorted_probs_by_temperature(log_p, [0.0, 1.0]),
         ValueError, "temperature must be > 0"),
        ("rank 0", lambda: knob.sorted_probs_by_temperature(log_p, [1.0], ranks=[0, 1]),
         ValueError, r"ranks must increase within 1\.\.V = 1\.\.7"),
        ("rank above V", lambda: knob.sorted_probs_by_temperature(log_p, [1.0], ranks=[1, 8]),
         ValueError, "ranks must increase"),
        ("float ranks", lambda: knob.sorted_probs_by_temperature(log_p, [1.0], ranks=[1.0, 2.0]),
         TypeError, "ranks must be a 1-D sequence of at least 2 ints"),
        ("1-D log_probs", lambda: knob.mean_entropy(log_p[0], 1.0), ValueError, "log_probs"),
        ("n_chars 0", lambda: knob.samples_by_temperature(None, None, [1.0], n_chars=0),
         ValueError, "n_chars must be >= 1"),
    ]
    for name, call, error, message in cases:
        with subtests.test(name):
            with pytest.raises(error, match=message):
                call()
