"""rnnlab.knobs.truncation: chapter 2's slider data (window k -> what truncation keeps by lag)."""
import numpy as np
import pytest

from rnnlab import numpy_rnn as nr
from rnnlab.knobs import truncation

T = 7


def _draw(seed=0, B=3, T=T):
    params = nr.init_params(2, 5, 1, seed=seed)
    rng = np.random.default_rng(seed + 1)
    y, cache = nr.forward(params, rng.normal(size=(B, T, 2)))
    _, dy = nr.mse_loss(y, rng.normal(size=(B, T, 1)))
    return params, cache, dy


def _norms(parts):
    return np.linalg.norm(parts.reshape(parts.shape[0], -1), axis=1)


def test_parts_sum_to_the_truncated_gradient(subtests):
    params, cache, dy = _draw()
    for k in (1, 3, T, T + 2):                     # one step, a chunk left over, k = T, k > T
        for variant in ("sliding", "chunked"):
            for name in ("W_xh", "W_hh", "b_h"):
                with subtests.test(k=k, truncation=variant, name=name):
                    parts = truncation.parts_by_lag(params, cache, dy, k, truncation=variant,
                                                    name=name)
                    want = nr.backward(params, cache, dy, truncate=k, truncation=variant)[name]
                    assert parts.shape == (T, *params[name].shape)
                    assert np.allclose(parts.sum(axis=0), want, rtol=1e-12, atol=1e-15)
                    assert np.all(parts[min(k, T):] == 0)        # no lag reaches past k - 1


def test_sweep_matches_direct_computation_at_two_windows(subtests):
    draws = [_draw(seed) for seed in (0, 1, 2)]
    curves = truncation.kept_by_window(draws, [1, 2, 3, 4])
    assert sorted(curves) == [1, 2, 3, 4]
    full = [_norms(nr.grads_by_lag(*d)["W_xh"]) for d in draws]
    for k in (2, 4):
        for series, variant in (("sliding window", "sliding"), ("chunks", "chunked")):
            with subtests.test(k=k, series=series):
                lags, kept = curves[k][series]
                direct = np.median([_norms(truncation.parts_by_lag(*d, k, truncation=variant))
                                    / f.max() for d, f in zip(draws, full)], axis=0)
                assert np.array_equal(lags, np.arange(T))
                assert np.allclose(kept, direct, rtol=1e-12, atol=0)
        lags, whole = curves[k]["full BPTT"]
        assert np.allclose(whole, np.median([f / f.max() for f in full], axis=0))
        assert np.allclose(curves[k]["sliding window"][1][:k], whole[:k])  # lags < k: whole
        assert np.allclose(curves[k]["chunks"][1][0], whole[0])           # lag 0: always kept


def test_bad_input_is_named():
    params, cache, dy = _draw()
    with pytest.raises(ValueError, match="truncation must be one of"):
        truncation.parts_by_lag(params, cache, dy, 2, truncation="window")
    with pytest.raises(ValueError, match="name must be one of"):
        truncation.parts_by_lag(params, cache, dy, 2, name="W_hy")
    with pytest.raises(ValueError, match="k must be >= 1"):
        truncation.parts_by_lag(params, cache, dy, 0)
    with pytest.raises(ValueError, match="truncation must be one of"):
        truncation.kept_pairs(T, 2, "window")
    with pytest.raises(TypeError, match="draws must be a list"):
        truncation.kept_by_window((d for d in [(params, cache, dy)]), [1])
    with pytest.raises(ValueError, match="draws must hold at least one"):
        truncation.kept_by_window([], [1])
