"""The nbgrader course made from a synthetic chapter (tests/nbfixtures.py), without nbgrader:
rnncourse.grading (points, hidden cases) and rnncourse.assignments (the nbgrader cells, where the
course may be written, how it is released). tests/test_nbgrader.py runs the real nbgrader on
the chapters."""
from __future__ import annotations

import fnmatch

import pytest
from nbfixtures import SOLUTION_CODE, SOLUTION_TEXT, synthetic, write_source

from rnncourse import assignments, grading, student
from rnncourse import notebooks as nbt


def _by_id(nb: dict) -> dict:
    return {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
            if "nbgrader" in c["metadata"]}


def test_points_follow_difficulty_and_the_options():
    plan = grading.grading_plan(synthetic())
    assert [(g.label, g.kind, g.points, g.auto_points, g.manual_points, g.written)
            for g in plan] == [("ex-99-1", "checked", 1, 1, 0, False),
                               ("ex-99-2", "pen and paper", 3, 0, 3, True)]
    assert plan[0].checks == ("square",) and plan[0].hidden_seeds == ()  # not in rnnlab.checks
    options = grading.Options(star_points=(2, 4, 6), overrides={"ex-99-1": 5})
    assert [g.points for g in grading.grading_plan(synthetic(), options)] == [5, 6]
    assert grading.asks_in_words("Why? Then code it.") and grading.asks_in_words("On paper: x")
    assert not grading.asks_in_words("Fill in `f(x)` and run the check.")
    assert grading.hidden_seeds("ex-01-1", 3, "s") == grading.hidden_seeds("ex-01-1", 3, "s")
    assert grading.hidden_seeds("ex-01-1", 3, "s") != grading.hidden_seeds("ex-01-1", 3, "t")
    assert grading.assignment_name("04_lstm_gru.ipynb") == "ch04"
    with pytest.raises(ValueError, match="written_share"):
        grading.Options(written_share=1.5)


def test_synthetic_chapter_becomes_nbgrader_cells():
    nb, plan = assignments.assignment_notebook(synthetic(), "99_synthetic.ipynb")
    cells = _by_id(nb)
    assert list(cells) == ["answer-ex-99-1", "test-ex-99-1", "written-ex-99-2"]
    answer, test, written = cells.values()
    assert nbt.source(answer).startswith("# starter: ex-99-1\ndef square(x):")
    assert f"### BEGIN SOLUTION\n{SOLUTION_CODE}\n### END SOLUTION" in nbt.source(answer)
    meta = answer["metadata"]["nbgrader"]
    assert (meta["grade"], meta["solution"], meta["locked"]) == (False, True, False)
    assert test["metadata"]["nbgrader"]["points"] == 1 and test["metadata"]["nbgrader"]["grade"]
    assert "assert checks.square(square)" in nbt.source(test)
    assert "HIDDEN" not in nbt.source(test)          # checks.square takes no seed
    assert written["cell_type"] == "markdown" and written["metadata"]["nbgrader"]["points"] == 3
    assert "$x^2 = |x|^2$" in nbt.source(written) and SOLUTION_TEXT not in nbt.source(written)
    text = "\n".join(nbt.source(c) for c in nb["cells"])
    assert "solution-start" not in text and "model answer kept away" not in text
    assert not any("solution" in nbt.tags(c) for c in nb["cells"])
    assert [g.label for g in plan] == ["ex-99-1", "ex-99-2"]


def test_hidden_cases_rerun_the_check_on_other_seeds():
    grade = grading.ExerciseGrade("ex-03-1", "t", 1, "checked", 1, 1, 0, ("sigmoid_prime",),
                                  (11, 22), False)
    source = grading.autograder_test(grade, "checks.sigmoid_prime(sigmoid_prime)", 1)
    visible, hidden = source.split("### BEGIN HIDDEN TESTS")
    assert "assert checks.sigmoid_prime(sigmoid_prime)," in visible
    assert "for _seed in (11, 22):" in hidden and hidden.rstrip().endswith("### END HIDDEN TESTS")
    assert "_hidden_checks.sigmoid_prime(sigmoid_prime, seed=_seed)" in hidden
    with pytest.raises(ValueError, match="only calls checks"):
        grading.check_calls("x = 1\nchecks.sigmoid_prime(f)")


def test_course_folder_is_safe_to_regenerate(tmp_path):
    source = tmp_path / "chapters"
    write_source(source, synthetic())
    with pytest.raises(student.StudentEditionError, match="source folder"):
        assignments.write_course(source / "inside", source)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(student.StudentEditionError, match="not an nbgrader course"):
        assignments.write_course(tmp_path / "other", source)
    with pytest.raises(student.StudentEditionError, match="ex-42-1"):
        assignments.write_course(tmp_path / "course", source,
                                 grading.Options(overrides={"ex-42-1": 2}))
    out = tmp_path / "course"
    assert assignments.main([str(out), "--source", str(source)]) == 0
    assert (out / "source" / "ch99" / "99_synthetic.ipynb").is_file()
    assert (out / "source" / "ch99" / "figs" / "pic.png").is_file()    # what the notebook shows
    config = (out / "nbgrader_config.py").read_text()
    assert config.startswith(assignments.CONFIG_MARK)
    assert "course_id = 'recurrent-networks'" in config
    (out / "gradebook.db").write_text("grades")
    (out / "nbgrader_config_local.py").write_text("# mine")
    assert assignments.main([str(out), "--source", str(source), "--points", "ex-99-2=4"]) == 0
    assert (out / "gradebook.db").read_text() == "grades"
    assert (out / "nbgrader_config_local.py").read_text() == "# mine"
    nb = nbt.read(out / "source" / "ch99" / "99_synthetic.ipynb")
    assert _by_id(nb)["written-ex-99-2"]["metadata"]["nbgrader"]["points"] == 4


def test_release_runs_one_nbgrader_process_for_the_whole_course(tmp_path, monkeypatch):
    chapter = grading.assignment_name("04_lstm_gru.ipynb")
    assert fnmatch.fnmatch(chapter, assignments.ASSIGNMENT_GLOB)
    for name in ("ch01", "ch02", "extra"):
        (tmp_path / "source" / name).mkdir(parents=True)
    calls = []
    monkeypatch.setattr(assignments.subprocess, "run",
                        lambda cmd, **kw: calls.append((cmd[3:], kw["cwd"], kw["check"])))
    assignments.release(tmp_path, ["ch02", "ch01"])
    assert calls == [(["generate_assignment", "ch[0-9][0-9]", "--force"], tmp_path, True)]
    calls.clear()
    assignments.release(tmp_path, ["ch02"])    # not every chapter: by name
    assert [c[0][1] for c in calls] == ["ch02"]
