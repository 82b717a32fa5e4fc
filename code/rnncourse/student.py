"""The student edition of the chapters: solutions out, starters and checks in (instructors' guide).

``python -m rnncourse.student OUT_DIR [--source chapters]`` (or ``make student``) writes one student
notebook per chapter notebook ``NN_*.ipynb`` of the source folder into ``OUT_DIR``:

* every cell from a ``solution-start`` markdown cell to its ``solution-end`` cell (both
  included) is removed, and so is every cell tagged ``solution``;
* starters (``# starter: ex-NN-k``) and check cells (``checks.<name>(...)``) are kept, and
  every other cell is unchanged except that outputs and execution counts are stripped;
* files the notebooks refer to by a relative path inside the source folder (an image, a data
  file) are copied beside them; nothing else is (the notebooks import the installed ``rnnlab``).

It refuses to write into the source folder, into a folder inside it or into a parent of it,
and it checks every notebook before writing any: each exercise that has a starter must have a
check cell (kept in the edition) after the starter and before the next exercise, and no starter
may sit inside a solution (the edition would lose it). What counts as an exercise, a solution, a
starter and a check is decided in :mod:`rnncourse.notebooks`.
"""
from __future__ import annotations

import argparse
import copy
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from . import notebooks as nbt
from .notebooks import CHAPTER_GLOB

__all__ = ["CHAPTER_GLOB", "StudentEditionError", "Edition", "chapter_notebooks",
           "removed_cells", "exercise_of_cells", "exercise_kinds", "check_notebook",
           "student_notebook", "paste_solutions", "needed_files", "write_student_edition", "main"]

_PATH_TOKEN = re.compile(r"[\w][\w./-]*\.\w+")


class StudentEditionError(ValueError):
    """A notebook or a destination that the student edition cannot be made from or into."""


@dataclass(frozen=True)
class Edition:
    """What the student edition of one notebook contains."""

    name: str
    exercises: int
    solutions: int       # gated solution blocks removed
    cells_removed: int   # cells removed in all (blocks and cells tagged ``solution``)
    starters: int
    checks: int

    def line(self) -> str:
        return (f"{self.name}: {self.exercises} exercises, {self.solutions} solutions removed "
                f"({self.cells_removed} cells), {self.starters} starters and "
                f"{self.checks} checks kept")


def chapter_notebooks(source) -> list[Path]:
    """The chapter notebooks ``NN_*.ipynb`` of the folder ``source``, sorted by name."""
    source = Path(source)
    if not source.is_dir():
        raise StudentEditionError(f"source folder {source} does not exist (run from the "
                                  "repository root or pass --source)")
    return sorted(source.glob(CHAPTER_GLOB))


def removed_cells(nb: dict) -> list[int]:
    """Indices of the cells the student edition drops: solution blocks and ``solution`` cells."""
    spans = nbt.solution_spans(nb)
    inside = {i for first, last in spans.values() for i in range(first, last + 1)}
    tagged = {i for i, c in enumerate(nb["cells"]) if "solution" in nbt.tags(c)}
    return sorted(inside | tagged)


def exercise_of_cells(nb: dict) -> list[str | None]:
    """For each cell, the label of the exercise it belongs to (``None`` before the first one).

    A cell belongs to the last exercise whose ``{exercise}`` directive opened at or before it.
    """
    opened = {ex.cell: ex.label for ex in nbt.exercises(nb)}  # the last one of a cell wins
    owner, current = [], None
    for i in range(len(nb["cells"])):
        current = opened.get(i, current)
        owner.append(current)
    return owner


def exercise_kinds(nb: dict) -> dict[str, str]:
    """For each exercise label, what the student hands in.

    ``"code, checked: checks.<name>"`` when it has a starter and a check, ``"code"`` when its
    solution holds code but there is no starter to fill, ``"pen and paper"`` otherwise.
    """
    spans, owner = nbt.solution_spans(nb), exercise_of_cells(nb)
    kinds = {}
    for ex in nbt.exercises(nb):
        cells = [(i, c) for i, c in enumerate(nb["cells"]) if owner[i] == ex.label]
        first, last = spans.get(ex.label, (0, -1))
        names = [m for i, c in cells if nbt.is_check(c) and not first <= i <= last
                 for m in re.findall(r"checks\.(\w+)\(", nbt.source(c))]
        if any(nbt.starter_label(c) == ex.label for _, c in cells) and names:
            kinds[ex.label] = "code, checked: " + ", ".join(f"checks.{n}" for n in names)
        elif any(c["cell_type"] == "code" for c in nb["cells"][first:last + 1]):
            kinds[ex.label] = "code"
        else:
            kinds[ex.label] = "pen and paper"
    return kinds


def check_notebook(nb: dict, name: str = "notebook") -> None:
    """Raise :class:`StudentEditionError` unless a student edition of ``nb`` keeps what it must.

    Checked: solution blocks are well formed and name known exercises; starters name known
    exercises and are not removed with a solution; every exercise with a starter keeps a check
    cell after the starter, before the next exercise.
    """
    try:
        spans = nbt.solution_spans(nb)
    except ValueError as exc:
        raise StudentEditionError(f"{name}: {exc}") from None
    labels = [ex.label for ex in nbt.exercises(nb)]
    for label, (first, _) in spans.items():
        if label not in labels:
            raise StudentEditionError(f"{name}: cell {first} opens a solution of {label}, but no "
                                      f"exercise has that label (exercises: {labels})")
    removed = set(removed_cells(nb))
    owner = exercise_of_cells(nb)
    cells = nb["cells"]
    for i, cell in enumerate(cells):
        label = nbt.starter_label(cell)
        if label is None:
            continue
        if i in removed:
            raise StudentEditionError(f"{name}: cell {i} is the starter of {label} but sits "
                                      "inside a solution (or is tagged solution), so the student "
                                      "edition would lose it; move it before the solution")
        if label not in labels:
            raise StudentEditionError(f"{name}: cell {i} is a starter of {label}, but no "
                                      f"exercise has that label (exercises: {labels})")
        later = range(i + 1, len(cells))
        if not any(nbt.is_check(cells[j]) and j not in removed and owner[j] == owner[i]
                   for j in later):
            raise StudentEditionError(f"{name}: {label} has a starter (cell {i}) but no check cell "
                                      "after it (a code cell calling checks.<name>(...)) before "
                                      "the next exercise")


def student_notebook(nb: dict, name: str = "notebook") -> tuple[dict, Edition]:
    """The student edition of ``nb`` (a new dict, outputs stripped) and what it contains."""
    check_notebook(nb, name)
    removed = set(removed_cells(nb))
    out = copy.deepcopy(nb)
    out["cells"] = [c for i, c in enumerate(out["cells"]) if i not in removed]
    nbt.strip(out)
    owner = exercise_of_cells(out)
    edition = Edition(
        name=name, exercises=len(nbt.exercises(nb)), solutions=len(nbt.solution_spans(nb)),
        cells_removed=len(removed),
        starters=sum(nbt.is_starter(c) for c in out["cells"]),
        checks=sum(nbt.is_check(c) and owner[i] is not None for i, c in enumerate(out["cells"])))
    return out, edition


def paste_solutions(student_nb: dict, source_nb: dict) -> dict:
    """``student_nb`` with each exercise's reference code pasted back right after its starter.

    The code cells of the solution block of ``ex-NN-k`` in ``source_nb`` go after the last
    starter of ``ex-NN-k``: the notebook a student who solved everything would hand in.
    Exercises without a starter (pen and paper) get nothing.
    """
    spans = nbt.solution_spans(source_nb)
    out = copy.deepcopy(student_nb)
    last_starter = {nbt.starter_label(c): i for i, c in enumerate(out["cells"])
                    if nbt.is_starter(c)}
    for label, i in sorted(last_starter.items(), key=lambda kv: -kv[1]):  # back to front
        if label not in spans:
            raise StudentEditionError(f"the starter of {label} has no solution in the source")
        first, last = spans[label]
        code = [copy.deepcopy(c) for c in source_nb["cells"][first:last + 1]
                if c["cell_type"] == "code"]
        out["cells"][i + 1:i + 1] = code
    return nbt.strip(out)


def needed_files(nb: dict, source_dir) -> list[Path]:
    """Files inside ``source_dir`` that ``nb`` names by a relative path (not notebooks or pages).

    Any word of a cell that looks like ``name.ext`` or ``sub/name.ext`` and is an existing file
    of ``source_dir`` counts, e.g. ``![](figures/gates.png)`` or ``open("data.csv")``.
    """
    root = Path(source_dir).resolve()
    found = set()
    for cell in nb["cells"]:
        for token in _PATH_TOKEN.findall(nbt.source(cell)):
            path = (root / token).resolve()
            if (path.is_file() and path.is_relative_to(root)
                    and path.suffix not in {".ipynb", ".md"}):
                found.add(path.relative_to(root))
    return sorted(found)


def _check_destination(out: Path, source: Path, sources: list[Path]) -> None:
    out_r, src_r = out.resolve(), source.resolve()
    if out_r == src_r or src_r.is_relative_to(out_r):
        raise StudentEditionError(f"refusing to write the student edition into {out}: it is the "
                                  f"source folder {source} or a parent of it, so the chapters "
                                  "(with their solutions) would be overwritten or mixed in; "
                                  "choose a separate folder, e.g. student/")
    if out_r.is_relative_to(src_r):
        raise StudentEditionError(f"refusing to write the student edition into {out}: it is "
                                  f"inside the source folder {source}; choose a folder outside "
                                  "it, e.g. student/")
    if out.exists() and not out.is_dir():
        raise StudentEditionError(f"{out} exists and is not a folder")
    for path in sources:
        if (out / path.name).resolve() == path.resolve():
            raise StudentEditionError(f"refusing to overwrite the source {path} "
                                      f"({out / path.name} points to it)")


def write_student_edition(out_dir, source="chapters") -> tuple[list[Edition], list[Path]]:
    """Write the student edition of every chapter notebook of ``source`` into ``out_dir``.

    Every notebook is checked before any file is written. Returns what each notebook contains
    and the files copied beside them (paths relative to ``out_dir``).
    """
    out, source = Path(out_dir), Path(source)
    paths = chapter_notebooks(source)
    if not paths:
        raise StudentEditionError(f"no chapter notebooks ({CHAPTER_GLOB}) in {source}")
    editions, files = [], set()
    for path in paths:
        try:
            nb = nbt.read(path)
        except ValueError as exc:
            raise StudentEditionError(f"{path} is not a readable notebook: {exc}") from None
        student, edition = student_notebook(nb, path.name)
        editions.append((path, student, edition))
        files.update(needed_files(nb, source))
    _check_destination(out, source, paths + [source / f for f in files])
    out.mkdir(parents=True, exist_ok=True)
    for path, student, _ in editions:
        nbt.write(student, out / path.name)
    for rel in sorted(files):
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / rel, out / rel)
    return [edition for _, _, edition in editions], sorted(files)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnncourse.student",
        description="Write the student edition of the chapters: solutions removed, starters "
                    "and checks kept.")
    parser.add_argument("out_dir", help="folder to write into (created if missing), e.g. student")
    parser.add_argument("--source", default="chapters",
                        help="folder with the chapter notebooks NN_*.ipynb (default: chapters)")
    args = parser.parse_args(argv)
    try:
        editions, files = write_student_edition(args.out_dir, args.source)
    except StudentEditionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out_dir)
    for edition in editions:
        print(f"wrote {out / edition.line()}")
    for rel in files:
        print(f"copied {out / rel} (the notebooks refer to it)")
    total = sum(e.solutions for e in editions)
    print(f"student edition: {len(editions)} notebooks in {out}, {total} solutions removed; "
          "students run the check cell after each starter to test their answers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
