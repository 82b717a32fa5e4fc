"""The learner edition: each chapter as a notebook that reads as well as the book (issue 23).

``python -m rnncourse.learner OUT_DIR [--source chapters] [--build _build]`` (or
``make learner``) writes one notebook per chapter into ``OUT_DIR`` (``learner/``), made from
the student edition (:mod:`rnncourse.student`: solutions removed, starters and checks kept) and
the numbers of the built book (:mod:`rnncourse.booknumbers`, from ``make book``):

* every Markdown cell is CommonMark plus HTML (:mod:`rnncourse.learner_markdown`):
  references, equation numbers, citations as the book shows them, exercises and admonitions
  as boxes; a References cell at the end holds the entries the chapter cites;
* under each figure's cell, a Markdown cell with its number and caption (the book takes them
  from the cell's ``mystnb.figure`` metadata, which notebook clients do not show);
* claim cells (tagged ``hide-cell``, checking the text with ``rnnlab.claims``) stay, folded
  the way JupyterLab and Notebook 7 (``jupyter.source_hidden``, ``jupyter.outputs_hidden``),
  classic Notebook (``collapsed``) and Colab (``cellView: "form"`` under a ``# @title`` line)
  fold a cell; the title says what they are and what "headroom" means. ``hide-input`` and
  ``hide-output`` cells fold their source or their output in the same ways;
* after the setup cell, ``report_failures()``: a wrong answer prints ``NOT YET`` and its
  hint, and "Run all" goes on (:mod:`rnnlab.checks._core`). Nothing after the first exercise
  needs an exercise's result (each is followed only by starters and checks: tested);
* a short "how this notebook works" cell after the title.

The chapters in ``chapters/`` are not changed: nbval, nbgrader and the book keep every claim.
"""
from __future__ import annotations

import argparse
import copy
import shutil
import sys
from pathlib import Path

from . import notebooks as nbt
from . import student
from .booknumbers import BookNumbers, BookNumbersError, from_build
from .learner_markdown import (
    LABELLED_MATH,
    LearnerMarkdownError,
    bare_labels,
    box,
    to_commonmark,
)

__all__ = ["LearnerEditionError", "CLAIM_TITLE", "HOW_TO", "REPORT_SOURCE", "FOLDED",
           "is_claim_cell", "fold", "check_numbering", "learner_notebook",
           "write_learner_edition", "main"]

#: The first line of every claim cell in the learner edition (Colab shows it as the form title).
CLAIM_TITLE = ("# @title Checks of the claims above (headroom: how far a value is from "
               "failing its threshold, as a share of the threshold)")
#: The cell inserted after the setup cell.
REPORT_SOURCE = ("from rnnlab.checks import report_failures\n\n"
                 "report_failures()  # a wrong answer prints NOT YET and a hint; the notebook "
                 "goes on")
#: The metadata that folds a cell's source and output in each client.
FOLDED = {"jupyter": {"source_hidden": True, "outputs_hidden": True}, "collapsed": True,
          "cellView": "form"}
HOW_TO = box("note", "**How this notebook works**", """\
This is the learner edition of the chapter: the book's text and code, with the exercises'
solutions taken out. Run it from top to bottom ("Run All" works).

- Each code exercise has a starter cell to fill in and a check cell after it. The check prints
  `PASSED`, `TODO` (not attempted yet) or `NOT YET` with a hint; a wrong answer does not stop
  the notebook.
- Folded cells titled *Checks of the claims above* test each statement of the text on the
  numbers just computed, as the book does. Each line prints the value, the threshold and the
  *headroom*: how far the value is from failing, as a share of the threshold.
- Figures, equations, exercises and citations carry the book's numbers; the cited works are
  listed under *References* at the end.""")


class LearnerEditionError(ValueError):
    """A chapter or a destination that the learner edition cannot be made from or into."""


def is_claim_cell(cell: dict) -> bool:
    """A code cell tagged ``hide-cell`` that checks the text with ``rnnlab.claims``."""
    return (cell["cell_type"] == "code" and "hide-cell" in nbt.tags(cell)
            and "claims." in nbt.source(cell))


def fold(cell: dict, *, source: bool = True, outputs: bool = True, title: str = "") -> dict:
    """``cell`` folded in JupyterLab, classic Notebook and Colab (in place; returned)."""
    meta = cell.setdefault("metadata", {})
    jupyter = meta.setdefault("jupyter", {})
    if source:
        jupyter["source_hidden"] = True
        meta["cellView"] = "form"
        if title:
            cell["source"] = f"{title}\n{nbt.source(cell)}"
    if outputs:
        jupyter["outputs_hidden"] = True
        meta["collapsed"] = True
    return cell


def _markdown(text: str, cell_id: str) -> dict:
    """A new Markdown cell; its id (nbformat 4.5) says that the learner edition added it."""
    return {"cell_type": "markdown", "id": f"learner-{cell_id}"[:64], "metadata": {},
            "source": text}


def _caption(cell: dict, numbers: BookNumbers, cited: list[str]) -> dict | None:
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure")
    if not figure:
        return None
    name = figure.get("name", "")
    if name not in numbers.figures:
        raise LearnerEditionError(f"figure {name!r} has no number in the book build (build the "
                                  "book with execution, make book, after the last change)")
    caption = to_commonmark(bare_labels(figure.get("caption", ""), numbers), numbers, cited)
    return _markdown(f"**Fig. {numbers.figures[name]}** {caption}".strip(), name)


def _setup_index(cells: list[dict]) -> int:
    """The setup cell: the first code cell that is not removed from the book (the install cell
    is)."""
    for i, cell in enumerate(cells):
        if cell["cell_type"] == "code" and "remove-cell" not in nbt.tags(cell):
            return i
    raise LearnerEditionError("no setup code cell")


def _references(cited: list[str], numbers: BookNumbers) -> dict:
    items = [f"- {numbers.entries[key]}" for key in numbers.entries if key in cited]
    return _markdown("## References\n\n" + "\n".join(items), "references")


def check_numbering(nb: dict, numbers: BookNumbers, name: str = "notebook") -> None:
    """Raise unless the build numbers the equations, figures and exercises of ``nb`` N.1, N.2,
    ... in the order the chapter has them now. A build older than the chapter (an equation
    added, a figure moved) would otherwise lend the learner edition shifted numbers."""
    cells = nb["cells"]
    found = {
        "equation": ([m.group(2) for c in cells if c["cell_type"] == "markdown"
                      for m in LABELLED_MATH.finditer(nbt.source(c))], numbers.equations),
        "figure": ([c["metadata"]["mystnb"]["figure"].get("name", "") for c in cells
                    if c.get("metadata", {}).get("mystnb", {}).get("figure")], numbers.figures),
        "exercise": ([ex.label for ex in nbt.exercises(nb)], numbers.exercises)}
    for what, (labels, table) in found.items():
        got = [table.get(label, "none") for label in labels]
        chapter = got[0].split(".")[0] if got else ""
        if got != [f"{chapter}.{k}" for k in range(1, len(got) + 1)]:
            raise LearnerEditionError(
                f"{name}: the book build numbers its {what}s {', '.join(got)} in the order the "
                f"chapter has them now ({', '.join(labels)}): the build is older than the "
                "chapter, or failed to execute it (no figures); rebuild the book (make book), "
                "then the learner edition")


def learner_notebook(nb: dict, numbers: BookNumbers, name: str = "notebook") -> dict:
    """The learner edition of the chapter ``nb`` (a new dict; ``nb`` is not changed), after
    :func:`check_numbering`."""
    check_numbering(nb, numbers, name)
    out, _ = student.student_notebook(nb, name)
    cells, cited = [], []
    setup = _setup_index(out["cells"])
    for i, cell in enumerate(out["cells"]):
        cell = copy.deepcopy(cell)
        if cell["cell_type"] == "markdown":
            try:
                cell["source"] = to_commonmark(nbt.source(cell), numbers, cited)
            except (LearnerMarkdownError, BookNumbersError) as exc:
                raise LearnerEditionError(f"{name}, cell {i}: {exc}") from None
            cells.append(cell)
            if i == 0:
                cells.append(_markdown(HOW_TO, "how-to"))
            continue
        if cell["cell_type"] == "code":
            cell["source"] = bare_labels(nbt.source(cell), numbers)
            tags = nbt.tags(cell)
            if is_claim_cell(cell):
                fold(cell, title=CLAIM_TITLE)
            elif "hide-cell" in tags:
                fold(cell, title="# @title Code the book folds (click to show)")
            elif "hide-input" in tags:
                fold(cell, outputs=False, title="# @title Code the book folds (click to show)")
            elif "hide-output" in tags:
                fold(cell, source=False)
        cells.append(cell)
        caption = _caption(cell, numbers, cited) if cell["cell_type"] == "code" else None
        if caption:
            cells.append(caption)
        if i == setup:
            cells.append({"cell_type": "code", "id": "learner-report-failures",
                          "execution_count": None, "metadata": {}, "outputs": [],
                          "source": REPORT_SOURCE})
    if cited:
        cells.append(_references(cited, numbers))
    out["cells"] = cells
    return nbt.strip(out)


def write_learner_edition(out_dir, source="chapters", build="_build") -> list[Path]:
    """Write the learner edition of every chapter of ``source`` into ``out_dir``, with the
    numbers of the book built into ``build``; every notebook is made before any is written.
    Returns the paths written."""
    out, source = Path(out_dir), Path(source)
    paths = student.chapter_notebooks(source)
    if not paths:
        raise LearnerEditionError(f"no chapter notebooks ({nbt.CHAPTER_GLOB}) in {source}")
    numbers = from_build(build)
    made, files = [], set()
    for path in paths:
        nb = nbt.read(path)
        made.append((path.name, learner_notebook(nb, numbers, path.name)))
        files.update(student.needed_files(nb, source))
    student._check_destination(out, source, paths + [source / f for f in files])
    out.mkdir(parents=True, exist_ok=True)
    for filename, nb in made:
        nbt.write(nb, out / filename)
    for rel in sorted(files):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, out / rel)
    return [out / filename for filename, _ in made]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.learner",
        description="Write the learner edition of the chapters: the book's text as CommonMark, "
                    "solutions removed, claim cells folded, checks that report.")
    parser.add_argument("out_dir", help="folder to write into (created if missing), e.g. learner")
    parser.add_argument("--source", default="chapters",
                        help="folder with the chapter notebooks NN_*.ipynb (default: chapters)")
    parser.add_argument("--build", default="_build",
                        help="the book's build folder, for its numbers (default: _build)")
    args = parser.parse_args(argv)
    try:
        written = write_learner_edition(args.out_dir, args.source, args.build)
    except (LearnerEditionError, BookNumbersError, student.StudentEditionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print(f"learner edition: {len(written)} notebooks in {args.out_dir} (numbers from the book "
          f"built in {args.build}); open them with make lab")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
