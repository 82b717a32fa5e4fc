"""A Sphinx extension for the PDF (``make pdf``): the bibliography stays on the References page.

Sphinx's LaTeX builder gathers every entry of every ``{bibliography}`` directive into one list
at the very end of the document, a chapter of its own named "Bibliography". The PDF then had a
"References" chapter of one sentence (``chapters/references.md``: its directive left nothing
behind) and, pages later, the list the citations link to. This extension puts the list back
where the directive stands, so the References chapter holds it, as the HTML book's page does.
How the list looks (author-year: no numbers, a hanging indent, no chapter heading of its own)
is LaTeX's part: ``_static/latex/rnnbook.sty``. Other builders (the HTML book) are left alone.

Listed in ``_config.yml`` (``sphinx.extra_extensions``).
"""
from __future__ import annotations

from docutils import nodes
from sphinx.builders.latex.nodes import thebibliography
from sphinx.builders.latex.transforms import BibliographyTransform
from sphinx.transforms.post_transforms import SphinxPostTransform

__all__ = ["setup", "MarkBibliography", "PlaceBibliography"]

HOME = "rnncourse-bibliography"   # the class that marks where a bibliography directive stood


class MarkBibliography(SphinxPostTransform):
    """Marks the container that sphinxcontrib-bibtex made of a bibliography directive's
    entries (its own post-transform has priority 5), before Sphinx empties it."""

    default_priority = 6
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        for citation in self.document.findall(nodes.citation):
            home = citation.parent
            if isinstance(home, nodes.container) and HOME not in home["classes"]:
                home["classes"].append(HOME)


class PlaceBibliography(SphinxPostTransform):
    """Moves the list that Sphinx built at the end of the document (``thebibliography``)
    to the first marked place; any later marked place, now empty, is dropped."""

    default_priority = BibliographyTransform.default_priority + 1
    formats = ("latex",)

    def run(self, **kwargs) -> None:
        homes = [node for node in self.document.findall(nodes.container)
                 if HOME in node["classes"]]
        entries = next(iter(self.document.findall(thebibliography)), None)
        if entries is None or not homes:
            return
        entries.parent.remove(entries)
        homes[0].replace_self(entries)
        for home in homes[1:]:
            home.parent.remove(home)


def setup(app):
    app.setup_extension("sphinxcontrib.bibtex")
    app.add_post_transform(MarkBibliography)
    app.add_post_transform(PlaceBibliography)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
