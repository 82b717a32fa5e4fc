"""Synthetic notebooks and a notebook runner shared by the student-edition, guide and timing tests.

Imported by tests/test_student.py, tests/test_guide_and_timing.py and
tests/test_environments.py (pytest puts tests/ on sys.path, as for browser_check.py).
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse import notebooks as nbt
from rnncourse import student

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob(nbt.CHAPTER_GLOB))
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = '''\
import types
from rnnlab.checks import _core

@_core.check("square(x)")
def square(fn):
    got = [_core.call_student(fn, x) for x in (0, 3, -2)]
    if got != [0, 9, 4]:
        _core.fail(f"square(3) gave {got[1]}, expected 9")
    return "3 cases"

checks = types.SimpleNamespace(square=square)'''
SOLUTION_CODE = "def square(x):\n    return x * x  # the reference answer"
SOLUTION_TEXT = "Multiplying a number by itself is the unique secret explanation."


GOOD_TIMINGS = {
    "schema": 2, "date": "2026-01-01T00:00:00+00:00", "repeat": 1, "kernel": "python3",
    "machine": {"cpu_model": "x", "cpu_cores": 2, "torch_threads": 2, "python": "3.11",
                "torch": "2", "platform": "Linux", "load_average": []},
    "chapters": [{"notebook": "01_a.ipynb", "title": "A", "seconds": 3, "import_seconds": 1.0,
                  "work_seconds": 2.0, "cpu_seconds": 2.5, "runs": [3.0], "import_runs": [1.0]}]}


def exercise(label: str, title: str) -> str:
    return f"```{{exercise}} {title}\n:label: {label}\n\n**Goal:** practise {label}. More.\n```"


def synthetic() -> dict:
    """A chapter with a code exercise, a pen-and-paper one and a stray solution-tagged cell."""
    sol_start = "```{solution-start} %s\n:class: dropdown\n```"
    cells = [
        new_markdown_cell("(ch99)=\n# A synthetic chapter\n\n![a figure](figs/pic.png)"),
        new_code_cell(SETUP),
        new_code_cell("value = 41 + 1\nassert value == 42"),
        new_code_cell("print('model answer kept away')", metadata={"tags": ["solution"]}),
        new_markdown_cell("## Exercises"),
        new_markdown_cell(exercise("ex-99-1", "Square a number (★, 5 min)")),
        new_code_cell('# starter: ex-99-1\ndef square(x):\n'
                      '    raise NotImplementedError("square")'),
        new_markdown_cell(sol_start % "ex-99-1"),
        new_code_cell(SOLUTION_CODE, metadata={"tags": ["solution"]}),
        new_markdown_cell(SOLUTION_TEXT),
        new_markdown_cell("```{solution-end}\n```"),
        new_code_cell("checks.square(square)"),
        new_markdown_cell(exercise("ex-99-2", "Why squares are positive (★★★, 1 h)")),
        new_markdown_cell(sol_start % "ex-99-2"),
        new_markdown_cell("Because $x^2 = |x|^2$, said only in the pen-and-paper solution."),
        new_markdown_cell("```{solution-end}\n```"),
    ]
    return new_notebook(cells=cells, metadata={"kernelspec": KERNEL})


def write_source(folder: Path, nb: dict, name: str = "99_synthetic.ipynb") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.from_dict(nb), folder / name)
    (folder / "figs").mkdir(exist_ok=True)
    (folder / "figs" / "pic.png").write_bytes(b"\x89PNG fake")
    (folder / "unrelated.txt").write_text("not referenced by any notebook")
    return folder / name


def execute(nb: dict, folder: Path, kernel: str = "python3") -> dict:
    """Run ``nb`` in a fresh ``kernel`` (default python3) in ``folder``; errors fail the test."""
    node = nbformat.reads(json.dumps(nb), as_version=4)  # joins list sources, as on disk
    NotebookClient(node, timeout=120, kernel_name=kernel,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return node


# -- what the exercise checks of an executed notebook printed --------------------------------
def exercise_checks(nb: dict) -> list[int]:
    owner = student.exercise_of_cells(nb)
    return [i for i, c in enumerate(nb["cells"]) if nbt.is_check(c) and owner[i] is not None]


def printed(cell) -> str:
    """What the executed ``cell`` printed (a stream's text may be stored as a list of lines)."""
    return "".join("".join(o.get("text", "")) for o in cell.get("outputs", [])
                   if o["output_type"] == "stream")


def assert_checks_say(nb, word: str, where: str = "notebook") -> None:
    """Every exercise check cell of the executed ``nb`` printed ``word`` (TODO or PASSED)."""
    checks = exercise_checks(nb)
    assert checks, f"{where}: no check cell after an exercise: nothing was checked"
    for i in checks:
        out = printed(nb["cells"][i])
        assert word in out, f"{where}: check cell {i} ({nbt.source(nb['cells'][i])!r}) " \
                            f"printed {out!r}, expected {word}"
        other = {"TODO": "PASSED", "PASSED": "TODO"}[word]
        assert other not in out, f"{where}: check cell {i} printed {out!r}"
