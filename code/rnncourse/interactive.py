"""The book's interactive figures drawn offline (issue 26): a Sphinx extension, a MyST-NB plugin.

A chapter's interactive figure is a cell output of type ``application/vnd.vegalite.v5+json``
(made by :mod:`rnnlab.explore`), with a PNG of its default view beside it. JupyterLab draws the
spec with the Vega renderer it ships. For the book:

* :class:`VegaLiteRender`, registered as a ``myst_nb.mime_renderers`` entry point in
  ``code/pyproject.toml``, ranks the spec first for the HTML builder and writes it into the page
  as a ``<div class="rnn-vega">`` and the spec as inline JSON. Other builders (the PDF) never
  rank it, so they take the PNG.
* :func:`setup` serves Vega 5.33.0, Vega-Lite 5.6.1 and Vega-Embed 6.21.3 (the versions
  JupyterLab 4.6 ships, so one spec is drawn by one library version everywhere) from the
  book's own ``_static/vega/``, and adds them, with ``rnn-vega.js`` that draws each figure
  and ``rnn-vega.css``, only to the pages that have one: the book makes no request to a CDN,
  and the other pages do not carry 0.8 MB of JavaScript.

The bundles are the packages' own minified builds from the npm registry, unchanged, with their
BSD-3-Clause licences beside them (``code/rnncourse/static/vega/``).
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from docutils import nodes

__all__ = ["VEGALITE_MIME", "VegaLiteRender", "figure_html", "setup", "SCRIPTS", "STYLE"]

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
#: The folder whose contents the book serves under ``_static/``.
STATIC = Path(__file__).parent / "static"
#: The scripts a page with an interactive figure loads, in order.
SCRIPTS = ("vega/vega.min.js", "vega/vega-lite.min.js", "vega/vega-embed.min.js",
           "vega/rnn-vega.js")
#: The style sheet of those pages (the figure's width, the slider's place).
STYLE = "vega/rnn-vega.css"
#: What marks a figure in a page's HTML.
MARK = 'class="rnn-vega"'


def figure_html(spec) -> str:
    """One figure's HTML: a container holding the spec as inline JSON, which rnn-vega.js reads."""
    if isinstance(spec, str):
        spec = json.loads(spec)
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a Vega-Lite spec (a dict), got {type(spec).__name__}")
    # the text column's width at any window size (a notebook client keeps the spec's pixels)
    spec = {**spec, "width": "container", "autosize": {"type": "fit", "contains": "padding"}}
    label = html.escape(str(spec.get("description", "interactive figure")), quote=True)
    # "</" cannot end the script early once escaped; JSON reads "<\/" as "</".
    data = json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")
    return (f'<div {MARK} role="figure" aria-label="{label}">'
            f'<script type="application/json">{data}</script></div>')


class VegaLiteRender:
    """MyST-NB mime renderer: a Vega-Lite output becomes a figure the page draws itself."""

    mime_priority_overrides = [("html", VEGALITE_MIME, 5)]

    @staticmethod
    def handle_mime(renderer, data, inline) -> list | None:
        if data.mime_type != VEGALITE_MIME or inline:
            return None
        return [nodes.raw(text=figure_html(data.content), format="html",
                          classes=["output", "vegalite"])]


def _add_static(app) -> None:
    path = str(STATIC)
    if path not in app.config.html_static_path:
        app.config.html_static_path.append(path)


def _add_scripts(app, pagename, templatename, context, doctree) -> None:
    if MARK in context.get("body", ""):
        for script in SCRIPTS:
            app.add_js_file(script)
        app.add_css_file(STYLE)


def setup(app):
    app.connect("builder-inited", _add_static)
    app.connect("html-page-context", _add_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
