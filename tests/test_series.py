"""Unit tests of rnnlab.series: the generated series, windows, baselines, forecaster, errors."""
import math

import pytest
import torch

from rnnlab import series


def test_make_series_components():
    s = series.make_series(480, period=24, trend=0.0, noise=0.0)
    assert s.shape == (480,) and s.dtype == torch.float32
    assert torch.allclose(s[24:], s[:-24], atol=1e-4)           # purely seasonal: period 24
    t = series.make_series(100, trend=0.5, amplitude=0.0, noise=0.0)
    assert torch.allclose(t, 0.5 * torch.arange(100.0))
    a, b = series.make_series(50, seed=1), series.make_series(50, seed=1)
    assert torch.equal(a, b) and not torch.equal(a, series.make_series(50, seed=2))
    noise = series.make_series(20000, amplitude=0.0, trend=0.0, noise=0.3)
    assert float(noise.std()) == pytest.approx(0.3, rel=0.03)


def test_make_series_bad_inputs():
    with pytest.raises(ValueError, match="period"):
        series.make_series(10, period=1)


def test_make_windows():
    s = torch.arange(10.0)
    X, Y = series.make_windows(s, 4, 2)
    assert X.shape == (5, 4, 1) and Y.shape == (5, 2)
    assert X[1, :, 0].tolist() == [1, 2, 3, 4] and Y[1].tolist() == [5, 6]
    X, _ = series.make_windows(s, 4, 2, stride=3)
    assert X[:, 0, 0].tolist() == [0, 3]
    with pytest.raises(ValueError, match="at least 12 values"):
        series.make_windows(s, 8, 4)                              # window longer than the data
    with pytest.raises(ValueError, match="1 dimensions|one"):
        series.make_windows(s.view(2, 5), 2, 1)


def test_naive_and_seasonal_naive():
    s = torch.arange(12.0)
    X = s[:8].view(1, 8, 1)
    assert series.naive_forecast(X, 3).tolist() == [[7.0, 7.0, 7.0]]
    # period 4: the next values repeat the last season 4 5 6 7, wrapping past the period
    assert series.seasonal_naive_forecast(X, 6, 4).tolist() == [[4, 5, 6, 7, 4, 5]]
    per = series.make_series(200, period=10, trend=0.0, noise=0.0)
    X, Y = series.make_windows(per, 20, 15)
    assert torch.allclose(series.seasonal_naive_forecast(X, 15, 10), Y, atol=1e-4)
    with pytest.raises(ValueError, match="at least one period"):
        series.seasonal_naive_forecast(X[:, :5], 3, 10)
    with pytest.raises(ValueError, match="size 1 on axis 2"):
        series.naive_forecast(torch.zeros(2, 5, 3), 2)
    with pytest.raises(ValueError, match="horizon"):
        series.naive_forecast(X, 0)


def test_forecaster_is_shift_equivariant():
    torch.manual_seed(0)
    model = series.Forecaster(8, 3, cell="gru")
    X = torch.randn(4, 10, 1)
    with torch.no_grad():
        a, b = model(X), model(X + 100.0)
    assert a.shape == (4, 3)
    assert torch.allclose(b, a + 100.0, atol=1e-3)               # levels it never saw: just shifted
    with pytest.raises(ValueError, match="size 1 on axis 2"):
        model(torch.zeros(2, 5, 2))
    with pytest.raises(ValueError, match="cell"):
        series.Forecaster(8, 3, cell="cnn")


def test_forecaster_on_standardised_levels():
    torch.manual_seed(0)
    model = series.Forecaster(8, 3, levels=(10.0, 2.0))
    X = torch.randn(4, 10, 1)
    with torch.no_grad():
        out = model(X)
        h = model.rnn((X - 10.0) / 2.0)[0][:, -1]                  # reads standardised levels
        assert torch.allclose(out, 10.0 + 2.0 * model.readout(h), atol=1e-6)
        assert not torch.allclose(model(X + 100.0), out + 100.0, atol=1e-2)   # no shift rule
    with pytest.raises(ValueError, match="std"):
        series.Forecaster(8, 3, levels=(10.0, 0.0))


def test_mae_by_horizon():
    Y = torch.zeros(4, 3)
    Y_hat = torch.tensor([[1.0, -2.0, 0.0]]).expand(4, -1)
    assert series.mae_by_horizon(Y, Y_hat).tolist() == [1.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="size 4 on axis 0"):
        series.mae_by_horizon(Y, Y_hat[:2])


def test_noise_floor_formula():
    """The docstring's floor: the best one-step forecast, the series without its noise, has a
    mean absolute error of noise * sqrt(2/pi) (E|sigma eps| for a standard normal eps)."""
    noisy = series.make_series(200_000, noise=0.3)
    best = series.make_series(200_000, noise=0.0)                # the same trend and season
    mae = series.mae_by_horizon(noisy.view(-1, 1), best.view(-1, 1))
    assert float(mae) == pytest.approx(0.3 * math.sqrt(2 / math.pi), rel=0.01)
