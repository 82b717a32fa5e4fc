"""The numbers and texts the built book shows for its references, read from the build itself.

The learner edition (:mod:`rnncourse.learner`) writes "Fig. 3.5", "(3.4)", "Exercise 3.1",
"Bengio et al. [1994]" where a chapter says ``{numref}`fig-...```, ``{eq}`eq-...```,
``{ref}`ex-...``` or ``{cite:t}`...```. It does not number anything itself: every number comes
from the Sphinx environment that the book build left in ``_build/.doctrees`` (the pickle
``environment.pickle`` and one doctree per page), and every citation is formatted by the book's
own referencing style (sphinxcontrib-bibtex, ``bibtex_reference_style`` of ``_config.yml``), so
the learner reads what the page shows.

:func:`from_build` reads a build; :class:`BookNumbers` is plain data (tests make one by hand).
"""
from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BookNumbersError", "BookNumbers", "from_build", "ENVIRONMENT"]

#: Where a build keeps the Sphinx environment, relative to the build folder (``_build``).
ENVIRONMENT = Path(".doctrees") / "environment.pickle"


class BookNumbersError(ValueError):
    """The build cannot be read, or it lacks a number the learner edition needs."""


@dataclass(frozen=True)
class BookNumbers:
    """What the book shows for each label and citation key.

    ``refs``: the text of ``{ref}`label``` (a chapter: its title and "Chapter N"); ``numrefs``:
    of ``{numref}`label``` ("Fig. 3.5"); ``equations``: "3.4" for ``eq-...``; ``figures``:
    "3.5" for a figure's name; ``exercises``: "3.1" for ``ex-...``; ``entries``: each cited
    key's bibliography entry (HTML), in the order of the book's References page; ``cite``:
    ``cite(kind, keys)`` is the text of a citation, kind "p" (``{cite}``) or "t" (``{cite:t}``).
    """

    refs: dict[str, str] = field(default_factory=dict)
    numrefs: dict[str, str] = field(default_factory=dict)
    equations: dict[str, str] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    exercises: dict[str, str] = field(default_factory=dict)
    entries: dict[str, str] = field(default_factory=dict)
    cite: Callable[[str, tuple[str, ...]], str] = lambda kind, keys: ", ".join(keys)


def _number(parts) -> str:
    return ".".join(str(p) for p in parts)


def _load(build: Path):
    path = build / ENVIRONMENT
    if not path.is_file():
        raise BookNumbersError(f"no book build at {build} ({path} is missing): build the book "
                               "first (make book), or pass the build folder with --build")
    try:
        import sphinx  # noqa: F401  (the pickle holds Sphinx objects)
        with path.open("rb") as fh:
            return pickle.load(fh)
    except (ImportError, pickle.UnpicklingError, AttributeError, EOFError) as exc:
        raise BookNumbersError(f"cannot read the Sphinx environment {path}: {exc}") from None


def _section_numbers(env, build: Path) -> dict[str, str]:
    """``{ref}`` text of every label that points to a section: its title, and its number
    ("Chapter 3", "Section 4.5") where the book numbers it."""
    from docutils import nodes

    refs, doctrees = {}, {}
    fmt = env.config.numfig_format
    for label, (doc, anchor, title) in env.domaindata["std"]["labels"].items():
        if not title or doc not in env.all_docs:
            continue
        if doc not in doctrees:
            with (build / ".doctrees" / f"{doc}.doctree").open("rb") as fh:
                doctrees[doc] = pickle.load(fh)
        node = next((n for n in doctrees[doc].findall(nodes.section) if anchor in n["ids"]),
                    None)
        if node is None:
            continue
        secnumbers = env.toc_secnumbers.get(doc, {})
        top = isinstance(node.parent, nodes.document)
        parts = secnumbers.get("" if top else "#" + node["ids"][0])
        if parts and len(parts) == 1:
            refs[label] = f"*{title}* (Chapter {parts[0]})"
        elif parts:
            refs[label] = f"*{title}* ({fmt['section'] % _number(parts)})"
        else:
            refs[label] = f"*{title}*"
    return refs


def _citations(env):
    """``cite(kind, keys)`` through the book's referencing style, and the HTML entries."""
    import pybtex.plugin
    import pybtex_docutils
    from sphinxcontrib.bibtex.plugin import find_plugin
    from sphinxcontrib.bibtex.style.referencing import format_references
    from sphinxcontrib.bibtex.style.template import SphinxReferenceInfo

    domain = env.domaindata["cite"]
    citations = {c.key: c for c in domain["citations"]}
    style = find_plugin("sphinxcontrib.bibtex.style.referencing",
                        env.config.bibtex_reference_style)()

    class _Builder:   # the style links each citation; the learner edition keeps only its text
        name = "html"

        @staticmethod
        def get_relative_uri(fromdoc, todoc):
            return ""

    def cite(kind: str, keys: tuple[str, ...]) -> str:
        missing = [k for k in keys if k not in citations]
        if missing:
            raise BookNumbersError(f"citation keys not in the book's bibliography: {missing}")
        refs = [(citations[k].entry, citations[k].formatted_entry,
                 SphinxReferenceInfo(builder=_Builder(), fromdocname="", todocname="",
                                     citation_id="", title=None, pre_text="", post_text=""))
                for k in keys]
        text = format_references(style, kind, refs)
        return "".join(n.astext() for n in text.render(pybtex_docutils.Backend()))

    html = pybtex.plugin.find_plugin("pybtex.backends", "html")()
    order = sorted(citations.values(), key=lambda c: int(c.formatted_entry.label)
                   if str(c.formatted_entry.label).isdigit() else 0)
    entries = {c.key: " ".join(c.formatted_entry.text.render(html).split())
               .replace('<span class="bibtex-protected">', "").replace("</span>", "")
               for c in order}
    return cite, entries


def from_build(build="_build") -> BookNumbers:
    """The numbers of the book built into ``build`` (``python -m rnncourse.book``)."""
    build = Path(build)
    env = _load(build)
    fmt = env.config.numfig_format
    equations, figures, exercises, numrefs = {}, {}, {}, {}
    for kinds in env.toc_fignumbers.values():
        for anchor, parts in kinds.get("displaymath", {}).items():
            equations[anchor.removeprefix("equation-")] = _number(parts)
        for anchor, parts in kinds.get("figure", {}).items():
            figures[anchor] = _number(parts)
            numrefs[anchor] = fmt["figure"] % _number(parts)
        for anchor, parts in kinds.get("exercise", {}).items():
            exercises[anchor] = _number(parts)
            numrefs[anchor] = fmt["exercise"] % _number(parts)
    refs = _section_numbers(env, build)
    refs.update({label: fmt["exercise"] % n for label, n in exercises.items()})
    cite, entries = _citations(env)
    return BookNumbers(refs=refs, numrefs=numrefs, equations=equations, figures=figures,
                       exercises=exercises, entries=entries, cite=cite)
