"""Unit tests of rnnlab.plot (drawn with the non-interactive Agg backend)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnnlab import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_smooth_is_a_trailing_mean():
    v = np.array([1.0, 3.0, 5.0, 7.0])
    assert np.allclose(plot.smooth(v, window=2), [1.0, 2.0, 4.0, 6.0])
    assert np.allclose(plot.smooth(v, window=1), v)
    assert np.allclose(plot.smooth(v, window=10), [1.0, 2.0, 3.0, 4.0])
    assert np.allclose(plot.smooth([2, 2, 2]), [2, 2, 2])
    assert plot.smooth([], window=3).shape == (0,)


def test_smooth_rejects_bad_input():
    with pytest.raises(ValueError, match="window must be >= 1"):
        plot.smooth([1.0], window=0)
    with pytest.raises(TypeError, match="window must be an int"):
        plot.smooth([1.0], window=2.0)
    with pytest.raises(ValueError, match=r"one-dimensional, got shape \(2, 2\)"):
        plot.smooth(np.zeros((2, 2)))


def _hist(n=30, scale=1.0):
    return {"step": list(range(n)), "loss": [scale / (k + 1) for k in range(n)],
            "grad_norm": [1.0] * n}


def test_plot_history_returns_axes_with_one_line_per_history():
    ax = plot.plot_history({"a": _hist(), "b": _hist(scale=2.0)}, baseline=0.5, logy=True,
                           window=5)
    assert isinstance(ax, matplotlib.axes.Axes)
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["a", "b", "baseline"]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "optimisation step"
    assert np.allclose(ax.get_lines()[0].get_ydata(), plot.smooth(_hist()["loss"], 5))


def test_plot_history_on_a_given_axes_and_key():
    fig, ax = plt.subplots()
    out = plot.plot_history({"run": _hist()}, key="grad_norm", ax=ax)
    assert out is ax and ax.get_ylabel() == "grad norm"


def test_draw_unrolled_rnn_returns_axes(subtests):
    for steps in (1, 8):        # no copy to link, and the most copies the figure allows
        with subtests.test(steps=steps):
            ax = plot.draw_unrolled_rnn(steps)
            assert isinstance(ax, matplotlib.axes.Axes)
            texts = [t.get_text() for t in ax.texts]
            assert "$h_{t}$" in texts and "$h_0$" in texts
            # one on the loop, steps-1 between copies
            assert sum(t == "$W_{hh}$" for t in texts) == steps


def test_draw_unrolled_rnn_rejects_bad_steps():
    with pytest.raises(ValueError, match="steps must be <= 8"):
        plot.draw_unrolled_rnn(9)
    with pytest.raises(ValueError, match="steps must be >= 1"):
        plot.draw_unrolled_rnn(0)


def test_use_style_and_colors():
    with matplotlib.rc_context():            # the style is not left to the tests that follow
        plot.use_style()
        assert matplotlib.rcParams["axes.spines.top"] is False
        assert matplotlib.rcParams["axes.prop_cycle"].by_key()["color"] == plot.COLORS
    assert len(plot.COLORS) == 8 and all(c.startswith("#") for c in plot.COLORS)
