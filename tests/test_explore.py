"""Unit tests of rnnlab.explore (interactive figures) and rnncourse.interactive (their HTML)."""
import base64
import json

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from rnncourse import interactive  # noqa: E402
from rnnlab import explore  # noqa: E402

LAGS = np.arange(5)


def _curves(knobs=(0.5, 0.75, 1.0)):
    return {k: {"measured": (LAGS, k ** LAGS + 0.1), "bound": (LAGS, k ** LAGS)} for k in knobs}


def _figure(**kw):
    args = dict(knob="ρ", x="lag", y="ratio", alt="a slider moves rho", dashed=("bound",))
    args.update(kw)
    return explore.slider_figure(_curves(), **args)


def test_curve_returns_what_was_given_to_four_digits():
    fig = _figure()
    for k in (0.5, 1.0):
        x, y = fig.curve(k, "measured")
        assert np.array_equal(x, LAGS)
        assert np.allclose(y, k ** LAGS + 0.1, rtol=5e-4, atol=0)
    assert fig.knobs == (0.5, 0.75, 1.0) and fig.value == 0.75        # default: the middle
    assert fig.series == ("measured", "bound")


def test_spec_has_one_slider_over_the_grid_and_fixed_axes():
    spec = _figure(log_y=True).spec()
    (param,) = spec["params"]
    assert param["value"] == 0.75
    assert param["bind"] == {"input": "range", "min": 0.5, "max": 1.0, "step": 0.25, "name": "ρ "}
    lines = spec["layer"][0]
    assert lines["transform"] == [{"filter": "abs(datum.k - knob) < 0.125"}]
    y = lines["encoding"]["y"]["scale"]
    assert y["type"] == "log"
    assert y["domain"] == [min(r["y"] for r in spec["data"]["values"]),
                           max(r["y"] for r in spec["data"]["values"])]
    assert lines["encoding"]["strokeDash"]["scale"]["range"] == [[1, 0], [5, 3]]
    assert len(spec["data"]["values"]) == 3 * 2 * len(LAGS)
    assert spec["description"] == "a slider moves rho"
    assert spec["width"] == explore.WIDTH       # fixed pixels in a notebook client


def test_filter_selects_exactly_one_knob_value():
    fig = _figure()
    half = (fig.knobs[1] - fig.knobs[0]) / 2
    for k in fig.knobs:
        chosen = {r["k"] for r in fig.rows if abs(r["k"] - k) < half}
        assert chosen == {k}


def test_mimebundle_has_spec_png_and_text():
    bundle = _figure(notes={0.5: "a", 0.75: "b", 1.0: "c"})._repr_mimebundle_()
    assert set(bundle) == {explore.VEGALITE_MIME, "image/png", "text/plain"}
    assert base64.b64decode(bundle["image/png"])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "3 values from 0.5 to 1" in bundle["text/plain"]
    notes = bundle[explore.VEGALITE_MIME]["layer"][1]
    assert notes["data"]["values"] == [{"k": 0.5, "note": "a"}, {"k": 0.75, "note": "b"},
                                       {"k": 1.0, "note": "c"}]
    json.dumps(bundle)                                                   # serialisable


#: Bad arguments of slider_figure, each with the error it must raise.
BAD = [
    (dict(curves={0.5: {"a": (LAGS, LAGS)}}), ValueError, "at least 2 knob values"),
    (dict(curves={0.1: {"a": (LAGS, LAGS)}, 0.2: {"a": (LAGS, LAGS)},
                  0.5: {"a": (LAGS, LAGS)}}), ValueError, "evenly spaced"),
    (dict(curves={0.1: {"a": (LAGS, LAGS)}, 0.2: {"b": (LAGS, LAGS)}}), ValueError,
     "same series"),
    (dict(curves={0.1: {"a": (LAGS, LAGS[:3])}, 0.2: {"a": (LAGS, LAGS)}}), ValueError,
     r"shapes \(5,\) and \(3,\)"),
    (dict(curves={0.1: {"a": (LAGS, LAGS * np.nan)}, 0.2: {"a": (LAGS, LAGS)}}), ValueError,
     "not finite"),
    (dict(curves={0.1: {"a": [LAGS, LAGS]}, 0.2: {"a": (LAGS, LAGS)}}), TypeError,
     r"must be a pair \(x, y\)"),
    (dict(log_y=True), ValueError, "log_y needs positive values"),
    (dict(value=0.6), ValueError, "value must be one of the knob values"),
    (dict(dashed=("nope",)), ValueError, "dashed names series that are not in curves"),
    (dict(alt=" "), ValueError, "alt must describe the figure"),
    (dict(notes={0.1: "x"}), ValueError, "notes must have a line for every knob value"),
    (dict(y_range=(1.0, 0.0)), ValueError, "low < high"),
]


def test_bad_input_is_named(subtests):
    for kw, error, match in BAD:
        with subtests.test(match=match):
            args = dict(curves={0.1: {"a": (LAGS, LAGS - 1.0)}, 0.2: {"a": (LAGS, LAGS + 1.0)}},
                        knob="k", x="x", y="y", alt="alt")
            args.update(kw)
            with pytest.raises(error, match=match):
                explore.slider_figure(**args)


def test_curve_rejects_values_off_the_grid():
    with pytest.raises(ValueError, match="knob must be one of the grid's values"):
        _figure().curve(0.6, "bound")
    with pytest.raises(ValueError, match="series must be one of"):
        _figure().curve(0.5, "nope")


def test_figure_html_escapes_the_spec_and_labels_it():
    spec = {"description": 'say "</script>"', "data": {"values": [{"s": "</script>"}]}}
    out = interactive.figure_html(spec)
    assert out.count("</script>") == 1                       # only the tag's own end
    assert 'aria-label="say &quot;&lt;/script&gt;&quot;"' in out
    inner = out.split('<script type="application/json">')[1].split("</script>")[0]
    assert json.loads(inner) == {**spec, "width": "container",      # the book fits the column
                                 "autosize": {"type": "fit", "contains": "padding"}}


def test_renderer_takes_vegalite_only_and_ranks_it_first_in_html():
    class Data:
        mime_type, content = explore.VEGALITE_MIME, {"description": "d"}
    (node,) = interactive.VegaLiteRender.handle_mime(None, Data, False)
    assert interactive.MARK in node.astext()
    Data.mime_type = "image/png"
    assert interactive.VegaLiteRender.handle_mime(None, Data, False) is None
    assert interactive.VegaLiteRender.mime_priority_overrides == [
        ("html", explore.VEGALITE_MIME, 5)]
    served = (*interactive.SCRIPTS, interactive.STYLE)
    assert all((interactive.STATIC / s).is_file() for s in served)


def test_the_book_draws_the_spec_in_html_and_the_png_in_the_pdf():
    from myst_nb.core.render import get_mime_priority

    html, latex = get_mime_priority("html", []), get_mime_priority("latex", [])
    assert html.index(explore.VEGALITE_MIME) < html.index("image/png")
    assert explore.VEGALITE_MIME not in latex and "image/png" in latex


def test_static_view_draws_the_default_curves_and_its_note():
    import matplotlib.pyplot as plt

    fig = _figure(notes={0.5: "a", 0.75: "horizon 12 steps", 1.0: "c"})
    ax = fig.draw()
    (measured, bound) = ax.get_lines()
    assert np.allclose(measured.get_ydata(), fig.curve(0.75, "measured")[1])
    assert bound.get_linestyle() == "--"
    assert [t.get_text() for t in ax.texts] == ["horizon 12 steps"]
    plt.close("all")
