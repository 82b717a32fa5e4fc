"""The student edition (rnncourse.student) and the exercise parser.

Each property is proven on a synthetic notebook (tests/nbfixtures.py) and on every chapter
notebook in chapters/ (new chapters are picked up by the glob). On the synthetic notebook the
student edition runs and says TODO, and with the solutions pasted back it says PASSED. The
chapters' student edition is executed once, where a class would open it: in the Binder
environment, as the untouched submission that nbgrader autogrades there (tests/test_nbgrader.py,
which proves that release to be the student edition cell for cell, plus the graded cells),
where every check must say TODO and nothing else may fail. That the reference
solutions pass every check needs no second run: nbval executes the chapters with their
solutions in place and with RNNLAB_CHECKS_STRICT set (conftest.py), so a check that says TODO
or fails there fails the test suite.
"""
from __future__ import annotations

import nbformat
import pytest
from nbfixtures import (
    CHAPTERS,
    ROOT,
    SOLUTION_CODE,
    assert_checks_say,
    execute,
    synthetic,
    write_source,
)
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse import notebooks as nbt
from rnncourse import student
from rnnlab.checks._core import STRICT_ENV


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


# (what, edit of the synthetic notebook's cells, the error message)
LOSING_EDITS = [
    ("the check cell is gone", lambda c: c.pop(11),
     "ex-99-1 has a starter .cell 6. but no check cell"),
    ("the check cell moved into the solution",
     lambda c: c.insert(9, new_code_cell("checks.square(square)", metadata={"tags": ["solution"]}))
     or c.pop(12), "ex-99-1 has a starter .cell 6. but no check cell"),
    ("a starter inside the solution",
     lambda c: c.insert(8, new_code_cell("# starter: ex-99-1\nx = None")),
     "starter of ex-99-1 but"),
    ("the solution is never closed", lambda c: c.pop(10),
     "solution of ex-99-1 .cell 7. is not closed"),
    ("a starter of no exercise",
     lambda c: c.insert(2, new_code_cell("# starter: ex-99-7\nx = None")), "no exercise has that"),
    ("a solution of no exercise",
     lambda c: c.__setitem__(13, new_markdown_cell("```{solution-start} ex-99-5\n```")),
     "opens a solution of ex-99-5"),
]


def test_validate_rejects_notebooks_that_would_lose_cells(subtests):
    for what, edit, message in LOSING_EDITS:
        with subtests.test(what):
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


# (where the edition would be written, from tmp_path, and what the refusal says)
OVERWRITING_TARGETS = [
    ("chapters", "it is the source folder"), (".", "a parent of it"),
    ("chapters/student", "inside the source folder"), ("link", "overwrite the source")]


def test_cli_refuses_to_overwrite_sources(tmp_path, capsys, monkeypatch, subtests):
    for row, (where, message) in enumerate(OVERWRITING_TARGETS):
        with subtests.test(where=where), monkeypatch.context() as mp:
            root = tmp_path / f"row{row}"          # a fresh source tree for each row
            src = write_source(root / "chapters", synthetic())
            (root / "link").mkdir()
            (root / "link" / src.name).symlink_to(src)
            mp.chdir(root)
            before = src.read_bytes()
            capsys.readouterr()
            assert student.main([where]) == 1
            assert message in capsys.readouterr().err
            assert src.read_bytes() == before
            assert not (root / "chapters" / "student").exists()


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


@pytest.mark.slow
def test_synthetic_student_notebook_runs_todo_then_passes(tmp_path, monkeypatch):
    monkeypatch.setenv(STRICT_ENV, "0")
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


def test_chapter_student_edition_has_no_solutions(edition, subtests):
    if not CHAPTERS:
        pytest.skip("no chapter notebooks in chapters/ yet")
    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            source_nb = nbt.read(path)
            student_nb = nbt.read(edition / path.name)
            assert_student_edition(source_nb, student_nb)
            assert nbt.exercise_labels(student_nb) == nbt.exercise_labels(source_nb)
