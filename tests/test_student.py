"""The student edition (rnnlab.student), the exercise parser and the timing script (rnnlab.timing).

Each property is proven on a synthetic notebook built here and on every chapter notebook in
chapters/ (new chapters are picked up by the glob). The execution tests run each student
notebook once as handed out (every check must say TODO) and once with the reference solutions
pasted after their starters (every check must say PASSED).
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnnlab import notebooks as nbt
from rnnlab import student, timing

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob(student.CHAPTER_GLOB))
REAL = [pytest.param(p, id=p.name) for p in CHAPTERS] or [
    pytest.param(None, marks=pytest.mark.skip(reason="no chapter notebooks in chapters/ yet"))]
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

SETUP = '''\
import types
from rnnlab.checks import _core

def _square_check(fn):
    try:
        got = [_core.call_student(fn, x) for x in (0, 3, -2)]
    except _core.NotAttempted:
        return _core.todo("square", "square(x)")
    if got != [0, 9, 4]:
        _core.fail("square", f"square(3) gave {got[1]}, expected 9")
    return _core.passed("square", "3 cases")

checks = types.SimpleNamespace(square=_square_check)'''
SOLUTION_CODE = "def square(x):\n    return x * x  # the reference answer"
SOLUTION_TEXT = "Multiplying a number by itself is the unique secret explanation."


GOOD_TIMINGS = {
    "schema": 1, "date": "2026-01-01T00:00:00+00:00", "repeat": 1, "kernel": "python3",
    "machine": {"cpu_model": "x", "cpu_cores": 2, "torch_threads": 2, "python": "3.11",
                "torch": "2", "platform": "Linux", "load_average": []},
    "chapters": [{"notebook": "01_a.ipynb", "title": "A", "seconds": 3, "runs": [3.0]}]}


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
        new_code_cell('# starter: ex-99-1\ndef square(x):\n    raise NotImplementedError("square")'),
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


def removed_texts(nb: dict) -> list[str]:
    """Every removed cell's source, and every line of it that appears nowhere else."""
    removed = set(student.removed_cells(nb))
    kept = "\n".join(nbt.source(c) for i, c in enumerate(nb["cells"]) if i not in removed)
    texts = []
    for i in sorted(removed):
        text = nbt.source(nb["cells"][i]).strip()
        texts.append(text)
        texts += [ln.strip() for ln in text.splitlines() if len(ln.strip()) > 3
                  and ln.strip() not in kept]
    return [t for t in texts if t]


def assert_student_edition(source_nb: dict, student_nb: dict) -> None:
    nbformat.validate(nbformat.from_dict(student_nb))
    text = "\n".join(nbt.source(c) for c in student_nb["cells"])
    for piece in removed_texts(source_nb):
        assert piece not in text, f"solution text survived the student edition: {piece[:80]!r}"
    assert "solution-start" not in text and "solution-end" not in text
    assert not any("solution" in nbt.tags(c) for c in student_nb["cells"])
    removed = set(student.removed_cells(source_nb))
    kept = [c for i, c in enumerate(source_nb["cells"]) if i not in removed]
    assert [nbt.source(c) for c in student_nb["cells"]] == [nbt.source(c) for c in kept]
    assert [c["cell_type"] for c in student_nb["cells"]] == [c["cell_type"] for c in kept]
    for cell in student_nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    starters = [nbt.source(c) for c in source_nb["cells"] if nbt.is_starter(c)]
    checks = [nbt.source(c) for c in kept if nbt.is_check(c)]
    assert len(checks) >= len(set(starters)), "a starter lost its check"
    assert starters == [nbt.source(c) for c in student_nb["cells"] if nbt.is_starter(c)]
    assert checks == [nbt.source(c) for c in student_nb["cells"] if nbt.is_check(c)]


def exercise_checks(nb: dict) -> list[int]:
    owner = student.exercise_of_cells(nb)
    return [i for i, c in enumerate(nb["cells"]) if nbt.is_check(c) and owner[i] is not None]


def execute(nb: dict, folder: Path) -> dict:
    """Run ``nb`` in a fresh python3 kernel in ``folder``; errors fail the test."""
    node = nbformat.reads(json.dumps(nb), as_version=4)  # joins list sources, as on disk
    NotebookClient(node, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return node


def printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o["output_type"] == "stream")


def assert_checks_say(nb, word: str) -> None:
    checks = exercise_checks(nb)
    assert checks, "no check cell after an exercise: nothing was checked"
    for i in checks:
        out = printed(nb["cells"][i])
        assert word in out, f"check cell {i} ({nbt.source(nb['cells'][i])!r}) printed {out!r}, " \
                            f"expected {word}"
        other = {"TODO": "PASSED", "PASSED": "TODO"}[word]
        assert other not in out, f"check cell {i} printed {out!r}"


# -- synthetic notebook ------------------------------------------------------------------------

def test_student_notebook_removes_blocks_and_tagged_cells():
    nb = synthetic()
    out, edition = student.student_notebook(nb, "99_synthetic.ipynb")
    assert_student_edition(nb, out)
    assert student.removed_cells(nb) == [3, 7, 8, 9, 10, 13, 14, 15]
    assert edition == student.Edition("99_synthetic.ipynb", exercises=2, solutions=2,
                                      cells_removed=8, starters=1, checks=1)
    assert "2 exercises, 2 solutions removed (8 cells), 1 starters and 1 checks" in edition.line()
    assert len(nb["cells"]) == 16, "the source notebook must not be changed"


def test_exercises_are_parsed_from_directive_titles():
    nb = synthetic()
    first, second = nbt.exercises(nb)
    assert (first.label, first.title, first.stars, first.minutes) == \
        ("ex-99-1", "Square a number", 1, 5)
    assert first.goal == "practise ex-99-1."
    assert (second.label, second.stars, second.minutes, second.cell) == ("ex-99-2", 3, 60, 12)
    assert nbt.title(nb) == "A synthetic chapter"
    assert student.exercise_of_cells(nb)[:6] == [None] * 5 + ["ex-99-1"]
    nb["cells"][5]["source"] = ":::{exercise} Ranged (★★, 10–20 min)\n:label: ex-99-1\n:::"
    assert (nbt.exercises(nb)[0].stars, nbt.exercises(nb)[0].minutes) == (2, 20)


def test_exercise_kinds_and_learning_goals():
    nb = synthetic()
    assert student.exercise_kinds(nb) == {"ex-99-1": "code, checked: checks.square",
                                          "ex-99-2": "pen and paper"}
    nb["cells"][14] = new_code_cell("print(2 ** 2)", metadata={"tags": ["solution"]})
    assert student.exercise_kinds(nb)["ex-99-2"] == "code"
    assert nbt.learning_goals(nb) == []
    nb["cells"][0]["source"] += ("\n\n- an aside\n\nBy the end you will be able to:\n\n"
                                 "- square\n  numbers\n\n- explain $x^2$\n\nThen more.")
    assert nbt.learning_goals(nb) == ["square numbers", "explain $x^2$"]
    nb["cells"].insert(1, new_markdown_cell("1. first\n2) second"))
    nb["cells"][0]["source"] = "# Only a title"
    assert nbt.learning_goals(nb) == ["first", "second"]


@pytest.mark.parametrize("edit, message", [
    (lambda c: c.pop(11), "ex-99-1 has a starter .cell 6. but no check cell"),
    (lambda c: c.insert(9, new_code_cell("checks.square(square)", metadata={"tags": ["solution"]}))
     or c.pop(12), "ex-99-1 has a starter"),
    (lambda c: c.insert(8, new_code_cell("# starter: ex-99-1\nx = None")), "starter of ex-99-1 but"),
    (lambda c: c.pop(10), "solution of ex-99-1 .cell 7. is not closed"),
    (lambda c: c.insert(2, new_code_cell("# starter: ex-99-7\nx = None")), "no exercise has that"),
    (lambda c: c.__setitem__(13, new_markdown_cell("```{solution-start} ex-99-5\n```")),
     "opens a solution of ex-99-5"),
])
def test_validate_rejects_notebooks_that_would_lose_cells(edit, message):
    nb = synthetic()
    edit(nb["cells"])
    with pytest.raises(student.StudentEditionError, match=message):
        student.student_notebook(nb)


def test_paste_solutions_puts_reference_after_starter():
    nb = synthetic()
    out, _ = student.student_notebook(nb)
    solved = student.paste_solutions(out, nb)
    sources = [nbt.source(c) for c in solved["cells"]]
    i = next(k for k, c in enumerate(solved["cells"]) if nbt.is_starter(c))
    assert sources[i + 1] == SOLUTION_CODE
    assert len(solved["cells"]) == len(out["cells"]) + 1
    nbformat.validate(nbformat.from_dict(solved))
    with pytest.raises(student.StudentEditionError, match="ex-99-1 has no solution"):
        student.paste_solutions(out, new_notebook(cells=[]))


def test_cli_writes_edition_and_needed_files(tmp_path, capsys):
    src = write_source(tmp_path / "chapters", synthetic())
    assert student.main([str(tmp_path / "student"), "--source", str(src.parent)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote ") and "99_synthetic.ipynb: 2 exercises" in lines[0]
    assert any("copied" in ln and "pic.png" in ln for ln in lines)
    assert "1 notebooks" in lines[-1]
    written = nbt.read(tmp_path / "student" / "99_synthetic.ipynb")
    assert_student_edition(synthetic(), written)
    assert (tmp_path / "student" / "figs" / "pic.png").read_bytes() == b"\x89PNG fake"
    assert sorted(p.name for p in (tmp_path / "student").rglob("*")) == \
        ["99_synthetic.ipynb", "figs", "pic.png"]
    assert nbt.source(nbt.read(src)["cells"][8]) == SOLUTION_CODE, "source changed"


@pytest.mark.parametrize("where, message", [
    ("chapters", "it is the source folder"), (".", "a parent of it"),
    ("chapters/student", "inside the source folder"), ("link", "overwrite the source")])
def test_cli_refuses_to_overwrite_sources(tmp_path, capsys, monkeypatch, where, message):
    src = write_source(tmp_path / "chapters", synthetic())
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / src.name).symlink_to(src)
    monkeypatch.chdir(tmp_path)
    before = src.read_bytes()
    assert student.main([where]) == 1
    assert message in capsys.readouterr().err
    assert src.read_bytes() == before
    assert not (tmp_path / "chapters" / "student").exists()


def test_cli_errors_are_clear(tmp_path, capsys):
    assert student.main([str(tmp_path / "out"), "--source", str(tmp_path / "nope")]) == 1
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert student.main([str(tmp_path / "out"), "--source", str(tmp_path / "empty")]) == 1
    assert "no chapter notebooks" in capsys.readouterr().err
    bad = synthetic()
    bad["cells"].pop(11)
    write_source(tmp_path / "bad", bad)
    assert student.main([str(tmp_path / "out"), "--source", str(tmp_path / "bad")]) == 1
    assert "no check cell" in capsys.readouterr().err
    assert not (tmp_path / "out").exists(), "nothing may be written when a notebook is invalid"
    with pytest.raises(SystemExit):
        student.main([])


def test_synthetic_student_notebook_runs_todo_then_passes(tmp_path):
    nb = synthetic()
    out, _ = student.student_notebook(nb)
    assert_checks_say(execute(out, tmp_path), "TODO")
    assert_checks_say(execute(student.paste_solutions(out, nb), tmp_path), "PASSED")


# -- the real chapters -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    """The student edition of chapters/, written once by the command line entry point."""
    out = tmp_path_factory.mktemp("student")
    if CHAPTERS:
        assert student.main([str(out), "--source", str(ROOT / "chapters")]) == 0
    return out


@pytest.mark.parametrize("path", REAL)
def test_chapter_student_edition_has_no_solutions(path, edition):
    source_nb = nbt.read(path)
    student_nb = nbt.read(edition / path.name)
    assert_student_edition(source_nb, student_nb)
    assert nbt.exercise_labels(student_nb) == nbt.exercise_labels(source_nb)


@pytest.mark.parametrize("path", REAL)
def test_chapter_student_edition_runs_and_checks_say_todo(path, edition, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(edition, run_dir)
    assert_checks_say(execute(nbt.read(run_dir / path.name), run_dir), "TODO")


@pytest.mark.parametrize("path", REAL)
def test_chapter_with_reference_solutions_passes_its_checks(path, edition, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(edition, run_dir)
    solved = student.paste_solutions(nbt.read(run_dir / path.name), nbt.read(path))
    assert_checks_say(execute(solved, run_dir), "PASSED")


@pytest.mark.parametrize("path", REAL)
def test_chapter_gives_the_guide_what_it_reads(path):
    """The instructors' guide tabulates goals and exercises parsed from each chapter."""
    nb = nbt.read(path)
    assert nbt.title(nb), f"{path.name} has no # title"
    assert nbt.learning_goals(nb), f"{path.name}: no bulleted learning goals in the overview"
    found = nbt.exercises(nb)
    assert [ex.label for ex in found] == nbt.exercise_labels(nb)
    for ex in found:
        assert ex.stars in (1, 2, 3) and ex.minutes, \
            f"{path.name} {ex.label}: title {ex.title!r} needs (★.., NN min) for the guide"
        assert ex.goal, f"{path.name} {ex.label}: no **Goal:** line"


# -- the instructors' guide ------------------------------------------------------------------

def run_guide(chapters: Path) -> list[str]:
    """Execute chapters/instructors.md (a MyST notebook) in ``chapters``; the Markdown it shows."""
    from myst_nb.core.read import read_myst_markdown_notebook

    guide = read_myst_markdown_notebook((ROOT / "chapters" / "instructors.md").read_text())
    node = execute(guide, chapters)
    return ["".join(o.get("data", {}).get("text/markdown", "")) + "".join(o.get("text", ""))
            for c in node.cells if c.cell_type == "code" for o in c.outputs
            if o["output_type"] in ("execute_result", "display_data", "stream")]


def test_guide_tabulates_a_synthetic_chapter(tmp_path):
    src = tmp_path / "chapters"
    nb = synthetic()
    nb["cells"][0]["source"] += "\n\nYou will learn to:\n\n- square a number"
    write_source(src, nb)
    shutil.copy(ROOT / "chapters" / "instructors.md", src)
    shutil.copy(ROOT / "_config.yml", tmp_path)
    shown = "\n".join(run_guide(src))
    assert "**Chapter 99, {ref}`ch99`.**" in shown and "  - square a number" in shown
    assert "not measured yet" in shown and "No measurement yet" in shown
    assert "| {ref}`ex-99-1 <ex-99-1>` | Square a number | ★ | 5 min | code, checked by " \
           "`checks.square` | practise ex-99-1. |" in shown
    assert "2 exercises in all (chapter 99: 2 exercises, 1 h 05 min)" in shown
    assert "repository.url:" in shown and "constant factor of 2" in shown
    data = dict(json.loads(json.dumps(GOOD_TIMINGS)), date="2031-02-03T04:05:06+00:00")
    data["chapters"][0].update(notebook="99_synthetic.ipynb", seconds=12.25, runs=[12.25])
    (src / "timings.json").write_text(json.dumps(timing.validate(data)))
    shown = "\n".join(run_guide(src))
    assert "not measured yet" not in shown and f"Measured on {data['date'][:10]}" in shown
    assert "| `99_synthetic.ipynb` | 12.2 s | 12.2 | yes |" in shown
    assert "2 CPU cores (x), 2 torch threads, Python 3.11, torch 2, Linux" in shown


def test_guide_tabulates_every_chapter():
    if not CHAPTERS:
        pytest.skip("no chapter notebooks in chapters/ yet")
    shown = "\n".join(run_guide(ROOT / "chapters"))
    for path in CHAPTERS:
        assert f"`{path.name}`" in shown, f"{path.name} missing from the timing table"
        for label in nbt.exercise_labels(nbt.read(path)):
            assert f"{{ref}}`{label} <{label}>` |" in shown, f"{label} missing from the guide"


# -- timing ----------------------------------------------------------------------------------

def test_timing_writes_valid_json(tmp_path, capsys):
    src = tmp_path / "chapters"
    src.mkdir()
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Tiny"), new_code_cell("x = 1 + 1")],
                                metadata={"kernelspec": KERNEL}), src / "01_tiny.ipynb")
    out = tmp_path / "timings.json"
    assert timing.main(["--source", str(src), "--out", str(out), "--repeat", "2"]) == 0
    assert "01_tiny.ipynb" in capsys.readouterr().out
    data = timing.load(out)
    assert data["schema"] == timing.SCHEMA and data["repeat"] == 2
    (chapter,) = data["chapters"]
    assert chapter["notebook"] == "01_tiny.ipynb" and chapter["title"] == "Tiny"
    assert len(chapter["runs"]) == 2 and 0 < chapter["seconds"] < 60
    assert min(chapter["runs"]) <= chapter["seconds"] <= max(chapter["runs"])
    assert data["machine"]["cpu_cores"] >= 1 and data["machine"]["torch_threads"] >= 1
    assert re.match(r"\d{4}-\d\d-\d\dT", data["date"])


def test_committed_timings_are_valid():
    path = ROOT / "chapters" / "timings.json"
    if not path.exists():
        pytest.skip("chapters/timings.json not measured yet (make timings)")
    data = timing.load(path)
    assert {c["notebook"] for c in data["chapters"]} <= {p.name for p in CHAPTERS}, \
        "timings.json names a notebook that is not in chapters/"


def test_timing_stops_at_a_failing_notebook(tmp_path, capsys):
    nbformat.write(new_notebook(cells=[new_code_cell("assert 1 == 2")],
                                metadata={"kernelspec": KERNEL}), tmp_path / "01_bad.ipynb")
    out = tmp_path / "t.json"
    assert timing.main(["--source", str(tmp_path), "--out", str(out), "--repeat", "1"]) == 1
    captured = capsys.readouterr()
    assert "01_bad.ipynb: run 1/1 failed" in captured.out
    assert "a notebook failed, so nothing was written" in captured.err and not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--repeat", "0"], "--repeat must be at least 1"),
    (["--timeout", "0"], "--timeout must be at least 1"),
    (["--source", "nowhere"], "does not exist"),
    (["--source", "."], "no chapter notebooks"),
    (["missing.ipynb"], "not notebook files"),
    (["--out", "no/such/dir/t.json", "x.ipynb"], "does not exist"),
])
def test_timing_argument_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.ipynb").write_text("{}")
    with pytest.raises(SystemExit) as exc:
        timing.main(args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_timing_validation_names_the_bad_field(tmp_path):
    good = GOOD_TIMINGS
    assert timing.validate(json.loads(json.dumps(good))) is not None
    for path, value, message in [
        (("schema",), 2, "schema must be 1"), (("machine", "cpu_cores"), "2", "'cpu_cores'"),
        (("chapters", 0, "runs"), [1.0, 2.0], "must have 1 runs"),
        (("chapters", 0, "seconds"), "3", "'seconds'")]:
        bad = json.loads(json.dumps(good))
        target = bad
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ValueError, match=message):
            timing.validate(bad)
    with pytest.raises(ValueError, match="no timings file"):
        timing.load(tmp_path / "none.json")
    with pytest.raises(ValueError, match="repeat must be >= 1"):
        timing.measure([tmp_path / "a.ipynb"], repeat=0)
    with pytest.raises(ValueError, match="at least one notebook"):
        timing.measure([])
    with pytest.raises(ValueError, match="existing notebook"):
        timing.time_notebook(tmp_path / "none.ipynb")
