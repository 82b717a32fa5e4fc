"""The instructors' guide (chapters/instructors.md) and the timing script (rnncourse.timing).

The guide is executed on a synthetic chapter (tests/nbfixtures.py) and on the real chapters;
the timing script on tiny notebooks and on the committed chapters/timings.json.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbfixtures import CHAPTERS, GOOD_TIMINGS, KERNEL, ROOT, execute, synthetic, write_source
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse import notebooks as nbt
from rnncourse import timing


def test_chapter_gives_the_guide_what_it_reads(subtests):
    """The instructors' guide tabulates goals and exercises parsed from each chapter."""
    if not CHAPTERS:
        pytest.skip("no chapter notebooks in chapters/ yet")
    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            nb = nbt.read(path)
            assert nbt.title(nb), f"{path.name} has no # title"
            assert nbt.learning_goals(nb), \
                f"{path.name}: no bulleted learning goals in the overview"
            found = nbt.exercises(nb)
            assert [ex.label for ex in found] == nbt.exercise_labels(nb)
            for ex in found:
                assert ex.stars in (1, 2, 3) and ex.minutes, \
                    f"{path.name} {ex.label}: title {ex.title!r} needs (★.., NN min) for the guide"
                assert ex.goal, f"{path.name} {ex.label}: no **Goal:** line"


# -- the instructors' guide ------------------------------------------------------------------

def run_guide(chapters: Path) -> list[str]:
    """Execute ``chapters``/instructors.md (a MyST notebook) there; the Markdown it shows."""
    from myst_nb.core.read import read_myst_markdown_notebook

    guide = read_myst_markdown_notebook((chapters / "instructors.md").read_text())
    node = execute(guide, chapters)
    return ["".join(o.get("data", {}).get("text/markdown", "")) + "".join(o.get("text", ""))
            for c in node.cells if c.cell_type == "code" for o in c.outputs
            if o["output_type"] in ("execute_result", "display_data", "stream")]


@pytest.mark.slow
def test_guide_tabulates_a_synthetic_chapter(tmp_path):
    src = tmp_path / "chapters"
    nb = synthetic()
    nb["cells"][0]["source"] += "\n\nYou will learn to:\n\n- square a number"
    write_source(src, nb)
    guide = (ROOT / "chapters" / "instructors.md").read_text(encoding="utf-8")
    assert guide.count("PREREQUISITES = {\n") == 1   # the map fails a chapter without them
    (src / "instructors.md").write_text(guide.replace(
        "PREREQUISITES = {\n", 'PREREQUISITES = {\n    "99": "multiplication",\n'), "utf-8")
    shutil.copy(ROOT / "_config.yml", tmp_path)
    shown = "\n".join(run_guide(src))
    assert "**Chapter 99, {ref}`ch99`.** Prerequisites: multiplication." in shown
    assert "  - square a number" in shown
    assert "not measured yet" in shown and "No measurement yet" in shown
    assert "| {ref}`ex-99-1 <ex-99-1>` | Square a number | ★ | 5 min | code, checked by " \
           "`checks.square` | practise ex-99-1. |" in shown
    assert "2 exercises in all (chapter 99: 2 exercises, 1 h 05 min)" in shown
    assert "repository.url:" in shown and "constant factor of 2" in shown
    data = dict(json.loads(json.dumps(GOOD_TIMINGS)), date="2031-02-03T04:05:06+00:00")
    data["chapters"][0].update(notebook="99_synthetic.ipynb", seconds=12.25, runs=[12.25],
                               import_seconds=4.0, work_seconds=8.25, cpu_seconds=9.5,
                               import_runs=[4.0])
    (src / "timings.json").write_text(json.dumps(timing.check_timings(data)))
    shown = "\n".join(run_guide(src))
    assert "not measured yet" not in shown and f"Measured on {data['date'][:10]}" in shown
    assert "| `99_synthetic.ipynb` | 12.2 s | 4.0 s | 8.2 s | 9.5 s | 12.2 | yes |" in shown
    assert "2 CPU cores (x), 2 torch threads, Python 3.11, torch 2, Linux" in shown


@pytest.mark.slow
def test_guide_tabulates_every_chapter():
    if not CHAPTERS:
        pytest.skip("no chapter notebooks in chapters/ yet")
    shown = "\n".join(run_guide(ROOT / "chapters"))
    for path in CHAPTERS:
        assert f"`{path.name}`" in shown, f"{path.name} missing from the timing table"
        for label in nbt.exercise_labels(nbt.read(path)):
            assert f"{{ref}}`{label} <{label}>` |" in shown, f"{label} missing from the guide"


# -- timing ----------------------------------------------------------------------------------

@pytest.mark.slow
def test_timing_writes_valid_json(tmp_path, capsys):
    src = tmp_path / "chapters"
    src.mkdir()
    cells = [new_markdown_cell("# Tiny"), new_code_cell("import rnnlab"),
             new_code_cell("x = sum(i * i for i in range(3_000_000))")]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": KERNEL}),
                   src / "01_tiny.ipynb")
    out = tmp_path / "timings.json"
    assert timing.main(["--source", str(src), "--out", str(out), "--repeat", "2"]) == 0
    assert "01_tiny.ipynb" in capsys.readouterr().out
    data = timing.load(out)
    assert data["schema"] == timing.SCHEMA and data["repeat"] == 2
    (chapter,) = data["chapters"]
    assert chapter["notebook"] == "01_tiny.ipynb" and chapter["title"] == "Tiny"
    assert len(chapter["runs"]) == 2 and 0 < chapter["seconds"] < 60
    assert min(chapter["runs"]) <= chapter["seconds"] <= max(chapter["runs"])
    assert len(chapter["import_runs"]) == 2 and 0 < chapter["import_seconds"] < chapter["seconds"]
    assert chapter["work_seconds"] == pytest.approx(chapter["seconds"] - chapter["import_seconds"],
                                                    abs=0.011)
    assert chapter["cpu_seconds"] > 0.1          # the loop's work runs in the kernel process
    assert data["machine"]["cpu_cores"] >= 1 and data["machine"]["torch_threads"] >= 1
    assert re.match(r"\d{4}-\d\d-\d\dT", data["date"])


def test_committed_timings_are_valid():
    path = ROOT / "chapters" / "timings.json"
    if not path.exists():
        pytest.skip("chapters/timings.json not measured yet (make timings)")
    data = timing.load(path)
    assert {c["notebook"] for c in data["chapters"]} <= {p.name for p in CHAPTERS}, \
        "timings.json names a notebook that is not in chapters/"


@pytest.mark.slow
def test_timing_stops_at_a_failing_notebook(tmp_path, capsys):
    cells = [new_code_cell("import rnnlab"), new_code_cell("assert 1 == 2")]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": KERNEL}),
                   tmp_path / "01_bad.ipynb")
    out = tmp_path / "t.json"
    assert timing.main(["--source", str(tmp_path), "--out", str(out), "--repeat", "1"]) == 1
    captured = capsys.readouterr()
    assert "01_bad.ipynb: run 1/1 failed" in captured.out
    assert "a notebook failed, so nothing was written" in captured.err and not out.exists()


# (the command line, run in a folder that holds only x.ipynb, and what the error says)
BAD_ARGUMENTS = [
    (["--repeat", "0"], "--repeat must be at least 1"),
    (["--timeout", "0"], "--timeout must be at least 1"),
    (["--source", "nowhere"], "does not exist"),
    (["--source", "."], "no chapter notebooks"),
    (["missing.ipynb"], "not notebook files"),
    (["--out", "no/such/dir/t.json", "x.ipynb"], "does not exist"),
]


def test_timing_argument_errors(tmp_path, monkeypatch, capsys, subtests):
    for row, (args, message) in enumerate(BAD_ARGUMENTS):
        with subtests.test(args=" ".join(args)), monkeypatch.context() as mp:
            folder = tmp_path / f"row{row}"
            folder.mkdir()
            (folder / "x.ipynb").write_text("{}")
            mp.chdir(folder)
            capsys.readouterr()
            with pytest.raises(SystemExit) as exc:
                timing.main(args)
            assert exc.value.code == 2
            assert message in capsys.readouterr().err


# (the field of GOOD_TIMINGS made bad, its bad value, and what the error says: the field, or
# the chapter where the runs do not match the repeat count)
BAD_TIMINGS_FIELDS = [
    (("schema",), 1, "schema must be 2"), (("machine", "cpu_cores"), "2", "'cpu_cores'"),
    (("chapters", 0, "import_seconds"), None, "'import_seconds'"),
    (("chapters", 0, "import_runs"), [1.0, 2.0], r"chapter 0 \(01_a.ipynb\) must have 1 runs"),
    (("chapters", 0, "runs"), [1.0, 2.0], r"chapter 0 \(01_a.ipynb\) must have 1 runs"),
    (("chapters", 0, "seconds"), "3", "'seconds'")]


def test_timing_validation_names_the_bad_field(tmp_path, subtests):
    good = GOOD_TIMINGS
    assert timing.check_timings(json.loads(json.dumps(good))) is not None
    for path, value, message in BAD_TIMINGS_FIELDS:
        with subtests.test(field=".".join(map(str, path)), value=value):
            bad = json.loads(json.dumps(good))
            target = bad
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
            with pytest.raises(ValueError, match=message):
                timing.check_timings(bad)
    with pytest.raises(ValueError, match="no timings file"):
        timing.load(tmp_path / "none.json")
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        timing.measure([tmp_path / "a.ipynb"], repeat=0)
    with pytest.raises(ValueError, match="at least one notebook"):
        timing.measure([])
    with pytest.raises(ValueError, match="existing notebook"):
        timing.time_notebook(tmp_path / "none.ipynb")
    with pytest.raises(ValueError, match="no code cell that imports rnnlab"):
        timing.setup_cell({"cells": [{"cell_type": "code", "source": "import torch"}]})
