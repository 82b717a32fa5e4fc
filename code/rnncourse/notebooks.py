"""Reading, stripping and inspecting the chapter notebooks (tests, student edition, tooling).

``python -m rnncourse.notebooks strip chapters/*.ipynb`` removes outputs and execution counts in
place (what every committed notebook must look like). The helpers below are shared by the
hygiene tests and :mod:`rnncourse.student`, so "what is a solution cell" is decided in one place.
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHAPTER_GLOB", "read", "write", "strip", "source", "tags", "exercise_labels",
           "solution_spans",
           "is_starter", "starter_label", "is_check", "Exercise", "exercises", "title",
           "learning_goals"]

#: The chapter notebooks of a folder: ``01_recurrent_networks.ipynb`` and so on.
CHAPTER_GLOB = "[0-9][0-9]_*.ipynb"

_EXERCISE = re.compile(r"```+\{exercise\}[^\n]*\n(?:[^\n]*\n)*?:label:\s*(ex-\d\d-\d+)", re.M)
_SOL_START = re.compile(r"\{solution-start\}\s*(ex-\d\d-\d+)")
_SOL_END = re.compile(r"\{solution-end\}")
_STARTER = re.compile(r"\A#\s*starter:\s*(ex-\d\d-\d+)")


def read(path) -> dict:
    """The notebook at ``path`` as a JSON dict (nbformat 4)."""
    path = Path(path)
    if path.suffix != ".ipynb":
        raise ValueError(f"expected a .ipynb file, got {path}")
    return json.loads(path.read_text(encoding="utf-8"))


def write(nb: dict, path) -> None:
    """Write ``nb`` as Jupyter does (indent 1, trailing newline)."""
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def strip(nb: dict) -> dict:
    """Remove outputs, execution counts and volatile metadata in place; return ``nb``."""
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        meta = cell.get("metadata", {})
        for key in ("execution", "collapsed", "scrolled"):
            meta.pop(key, None)
    nb.get("metadata", {}).pop("widgets", None)
    return nb


def exercise_labels(nb: dict) -> list[str]:
    """Labels of the exercises (``ex-NN-n``) in order of appearance."""
    return [m for c in nb["cells"] if c["cell_type"] == "markdown"
            for m in _EXERCISE.findall(source(c))]


def solution_spans(nb: dict) -> dict[str, tuple[int, int]]:
    """``{label: (first, last)}`` cell indices of each gated solution, both ends included."""
    spans, open_label, start = {}, None, None
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "markdown":
            continue
        text = source(c)
        m = _SOL_START.search(text)
        if m:
            if open_label is not None:
                raise ValueError(f"solution of {open_label} (cell {start}) is not closed before "
                                 f"cell {i} opens {m.group(1)}")
            open_label, start = m.group(1), i
        if _SOL_END.search(text):
            if open_label is None:
                raise ValueError(f"cell {i} closes a solution that was never opened")
            spans[open_label] = (start, i)
            open_label = None
    if open_label is not None:
        raise ValueError(f"solution of {open_label} (cell {start}) is never closed")
    return spans


def starter_label(cell: dict) -> str | None:
    m = _STARTER.match(source(cell)) if cell.get("cell_type") == "code" else None
    return m.group(1) if m else None


def is_starter(cell: dict) -> bool:
    return starter_label(cell) is not None


def is_check(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and "checks." in source(cell)


@dataclass(frozen=True)
class Exercise:
    """One ``{exercise}`` directive: ``Title (★★, 15 min)`` with ``:label:`` and a goal."""

    label: str
    title: str            # without the difficulty and time in parentheses
    stars: int | None     # 1-3 (★, ★★, ★★★); None when the title has no mark
    minutes: int | None   # estimated student time (upper end of a range); None when absent
    goal: str             # the text after **Goal:**, first sentence; "" when absent
    cell: int             # index of the markdown cell that holds the directive


_DIRECTIVE = re.compile(r"^(`{3,}|:{3,})\{exercise\}[ \t]*([^\n]*)\n(.*?)^\1[ \t]*$", re.M | re.S)
_LABEL = re.compile(r"^:label:\s*(ex-\d\d-\d+)", re.M)
_PAREN = re.compile(r"\s*\(([^()]*)\)\s*$")
_TIME = re.compile(r"(\d+(?:\.\d+)?)\s*(?:[-\u2013]\s*(\d+(?:\.\d+)?)\s*)?(min|h)\b")
_GOAL = re.compile(r"\*\*Goal:?\*\*:?\s*(.+?)(?:(?<=[.!?])\s|\n\s*\n|$)", re.S)


def _exercise(label: str, head: str, body: str, cell: int) -> Exercise:
    paren = _PAREN.search(head)
    note = paren.group(1) if paren else ""
    stars = note.count("\u2605") or None
    time = _TIME.search(note)
    minutes = None
    if time:
        value = float(time.group(2) or time.group(1))
        minutes = round(value * 60 if time.group(3) == "h" else value)
    goal = _GOAL.search(body)
    return Exercise(label=label, title=head[:paren.start()].strip() if paren else head.strip(),
                    stars=stars, minutes=minutes, cell=cell,
                    goal=" ".join(goal.group(1).split()) if goal else "")


def exercises(nb: dict) -> list[Exercise]:
    """The exercises of ``nb`` in order, parsed from their ``{exercise}`` directives."""
    found = []
    for i, c in enumerate(nb["cells"]):
        if c["cell_type"] != "markdown":
            continue
        for m in _DIRECTIVE.finditer(source(c)):
            label = _LABEL.search(m.group(3))
            if label:
                found.append(_exercise(label.group(1), m.group(2), m.group(3), i))
    return found


def title(nb: dict) -> str:
    """The notebook's ``# Title`` (first level-1 heading), or "" when it has none."""
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            m = re.search(r"^#[ \t]+(.+?)\s*$", source(c), re.M)
            if m:
                return m.group(1)
    return ""


_BULLET = re.compile(r"^(?:[-*+]|\d+[.)])\s+(.*)$")


def learning_goals(nb: dict) -> list[str]:
    """The bulleted learning goals of the overview (markdown before the first code cell).

    The list that follows a line mentioning goals (or "you will", "learn") is preferred; without
    such a line, the overview's first bulleted list. Indented continuation lines are joined.
    """
    lines = []
    for c in nb["cells"]:
        if c["cell_type"] == "code":
            break
        if c["cell_type"] == "markdown":
            lines += source(c).splitlines() + [""]
    lists, current, intro = [], None, False
    for line in lines:
        bullet = _BULLET.match(line)
        if bullet:
            if current is None:
                current = (intro, [])
                lists.append(current)
            current[1].append(bullet.group(1).strip())
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current[1][-1] += " " + line.strip()
        elif line.strip():
            current = None
            intro = bool(re.search(r"goal|you will|learn|by the end", line, re.I))
    preferred = [items for flagged, items in lists if flagged]
    return (preferred or [items for _, items in lists] or [[]])[0]


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "strip":
        print("usage: python -m rnncourse.notebooks strip NOTEBOOK.ipynb [...]", file=sys.stderr)
        return 2
    for name in argv[1:]:
        nb = read(name)
        write(strip(nb), name)
    print(f"stripped {len(argv) - 1} notebook(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
