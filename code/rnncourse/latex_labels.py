"""A Sphinx extension for the PDF (``make pdf``): links from one page to an exercise of another.

sphinx-exercise 1.x labels an exercise in LaTeX as ``exercise:LABEL`` and rewrites the links
to it from its own page to match, but a link from another page (the instructor's guide lists
every exercise) keeps Sphinx's form ``DOCNAME:LABEL``. LaTeX then finds no such label, warns
"Hyper reference ... undefined" and the link in the PDF leads nowhere. This extension writes
that second label beside sphinx-exercise's own, for every numbered exercise, so both forms
land on the exercise. Other builders (the HTML book) are left alone.

Listed in ``_config.yml`` (``sphinx.extra_extensions``).
"""
from __future__ import annotations

from docutils import nodes

__all__ = ["setup", "add_page_labels"]


def add_page_labels(app, doctree, docname: str) -> None:
    """Before each numbered exercise of ``doctree``, a LaTeX label ``DOCNAME:LABEL``, the name
    Sphinx gives a link to it from another page."""
    if app.builder.format != "latex":
        return
    from sphinx_exercise.nodes import exercise_enumerable_node

    for node in list(doctree.findall(exercise_enumerable_node)):
        label = node.get("label")
        home = app.env.sphinx_exercise_registry.get(label, {}).get("docname")
        if label and home:
            tex = rf"\phantomsection\label{{\detokenize{{{home}:{label}}}}}"
            node.parent.insert(node.parent.index(node), nodes.raw("", tex, format="latex"))


def setup(app):
    app.setup_extension("sphinx_exercise")
    app.connect("doctree-resolved", add_page_labels)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
