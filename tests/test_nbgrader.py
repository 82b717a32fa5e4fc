"""The nbgrader course end to end, with the real nbgrader and no network (tests marked slow;
tests/test_grading.py tests the course's cells on a synthetic chapter without nbgrader, and
tests/nbgrading.py holds the students and the grading helpers).

``rnncourse.assignments`` writes the course from the chapters; ``nbgrader generate_assignment``
makes the releases, which must hold no solution and no hidden test. Then, for every chapter,
two fake students hand in: one with every reference solution pasted in, and one who leaves an
exercise untouched, makes a typical mistake that the chapter's check diagnoses in another and
pastes the reference solutions into the rest. ``nbgrader autograde``
grades them and ``nbgrader generate_feedback`` writes their feedback; the scores are read from
the gradebook through nbgrader's Gradebook API. Each chapter is graded in its own copy of the
course (its own gradebook), ``NBGRADER_TEST_JOBS`` chapters at a time (default 2, one per core):
the two submissions of a chapter share one autograde run, since nbgrader grades them one after
the other in one gradebook. The partial student hands in only in the chapters of
``nbgrading.PARTIAL_CHAPTERS`` (it says why); the reference student in every chapter.

nbgrader executes the submissions in the kernel of the Binder environment (tests/envs.py), where
a class opens the course. The release is the student edition cell for cell, plus the graded
cells (tested statically below: a starter gains the stub line, a check cell becomes its check
asserted, answer cells for words are added), so the partial student's autograded run is also
the test that the student edition runs top to bottom in Binder (and the reference student's run,
in every chapter, that the release with its solutions does), an untouched exercise's check
saying TODO and failing only its own test (the learner runs of tests/test_learner.py run every
exercise of every chapter untouched). An untouched release would add a third execution of
every chapter for what the untouched exercise already shows: it scores nothing.

nbgrader comes from requirements-nbgrader.txt, installed into this environment with
requirements.txt's pins as constraints (as ``make assignments`` does) when it is missing. When
that fails the test is skipped, except in CI (environment variable CI set), where it fails.
``NBGRADER_TEST_CHAPTERS=01,04`` grades only those chapters (while developing).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import envs
import pytest
from nbgrading import (
    COURSE_ID,
    STUDENTS,
    grade_chapter,
    longest_first,
    mistake_of,
    release_of,
    source_of,
    students_of,
    untouched_of,
)

from rnncourse import assignments, grading, student
from rnncourse import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [p for p in sorted((ROOT / "chapters").glob(nbt.CHAPTER_GLOB))
            if not os.environ.get("NBGRADER_TEST_CHAPTERS")
            or p.name[:2] in os.environ["NBGRADER_TEST_CHAPTERS"].split(",")]


def each_chapter(subtests, check, *args) -> None:
    """``check(*args, path)`` for every chapter, each a subtest named by its number."""
    for path in CHAPTERS:
        with subtests.test(chapter=path.name[:2]):
            check(*args, path)


def _unavailable(reason: str):
    if os.environ.get("CI"):
        pytest.fail(f"nbgrader is needed in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def nbgrader_version() -> str:
    probe = [sys.executable, "-c", "import nbgrader; print(nbgrader.__version__)"]
    found = subprocess.run(probe, capture_output=True, text=True)
    if found.returncode != 0:
        with tempfile.TemporaryDirectory() as tmp:
            pins = Path(tmp) / "constraints.txt"
            pins.write_text("".join(line + "\n" for line in
                                    (ROOT / "requirements.txt").read_text().splitlines()
                                    if "==" in line))
            try:
                install = subprocess.run(
                    [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-"
                     "check", "-r", str(ROOT / "requirements-nbgrader.txt"), "-c", str(pins)],
                    capture_output=True, text=True, timeout=900)
            except subprocess.TimeoutExpired:
                _unavailable("installing requirements-nbgrader.txt took over 15 minutes")
        if install.returncode != 0:
            _unavailable("nbgrader is not installed and cannot be installed offline: "
                         + (install.stderr.strip().splitlines() or ["pip failed"])[-1])
        found = subprocess.run(probe, capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    return found.stdout.strip()


# -- the course and its releases -------------------------------------------------------------
@pytest.fixture(scope="module")
def course(nbgrader_version, tmp_path_factory) -> Path:
    """The course as `make assignments` writes it, with every assignment released."""
    if not CHAPTERS:
        pytest.skip("no chapter notebooks in chapters/ yet")
    root = tmp_path_factory.mktemp("nbgrader") / "course"
    source = root.parent / "chapters"
    source.mkdir()
    for path in CHAPTERS:  # only the chapters to grade (NBGRADER_TEST_CHAPTERS)
        shutil.copy(path, source)
        for rel in student.needed_files(nbt.read(path), path.parent):
            (source / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path.parent / rel, source / rel)
    made = assignments.write_course(root, source, course_id=COURSE_ID)
    assert [a.name for a in made] == [grading.assignment_name(p.name) for p in CHAPTERS]
    assignments.release(root, [a.name for a in made])   # one nbgrader process for all
    return root


@pytest.mark.slow
def test_release_has_no_solution_and_no_hidden_test(course, subtests):
    each_chapter(subtests, _release_has_no_solution_and_no_hidden_test, course)


def _release_has_no_solution_and_no_hidden_test(course, path):
    chapter, release = nbt.read(path), release_of(course, path)
    text = "\n".join(nbt.source(c) for c in release["cells"])
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "_hidden_checks",
                   "solution-start", "solution-end"):
        assert marker not in text, f"{path.name}: the release contains {marker!r}"
    removed = set(student.removed_cells(chapter))
    kept = "\n".join(nbt.source(c) for i, c in enumerate(chapter["cells"]) if i not in removed)
    for i in sorted(removed):
        for line in nbt.source(chapter["cells"][i]).splitlines():
            if len(line.strip()) > 12 and line.strip() not in kept:
                assert line.strip() not in text, f"{path.name}: solution line in the release: " \
                                                 f"{line.strip()!r}"
    plan = grading.grading_plan(chapter)
    ids = [c["metadata"].get("nbgrader", {}).get("grade_id") for c in release["cells"]]
    for g in plan:
        assert (f"test-{g.label}" in ids) == (g.kind == "checked"), g.label
        assert (f"written-{g.label}" in ids) == g.written, g.label
        if g.kind == "checked":
            assert g.hidden_seeds, f"{g.label}: checks.{g.checks[0]} takes no seed: no hidden test"
            hidden = nbt.source(source_of(course, path)["cells"][ids.index(f"test-{g.label}")])
            assert "seed=_seed" in hidden and str(g.hidden_seeds[0]) in hidden
            assert str(g.hidden_seeds[0]) not in text, f"{g.label}: a hidden seed is released"
    for cell in chapter["cells"]:  # the release shows every starter, and the stub after it
        if nbt.is_starter(cell):
            assert nbt.source(cell).rstrip() + "\n" + assignments.CODE_STUB in text


@pytest.mark.slow
def test_release_is_the_student_edition_with_graded_cells(course, subtests):
    each_chapter(subtests, _release_is_the_student_edition_with_graded_cells, course)


def _release_is_the_student_edition_with_graded_cells(course, path):
    """What lets the untouched submission's autograde stand for a run of the student edition:
    cell for cell the same, except that each starter gains the stub line, each check cell
    becomes that check asserted (its visible part), and answer cells are added that hold only
    words or comments."""
    chapter = nbt.read(path)
    edition, _ = student.student_notebook(chapter, path.name)
    plan = {g.label: g for g in grading.grading_plan(chapter)}
    release = release_of(course, path)["cells"]
    kept = []
    for cell in release:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id") or ""
        if grade_id.startswith(("written-", "code-")):   # added answer cells: nothing to run
            code = [line for line in nbt.source(cell).splitlines()
                    if line.strip() and not line.lstrip().startswith("#")]
            assert cell["cell_type"] == "markdown" or not code, f"{grade_id} runs {code}"
        else:
            kept.append((grade_id, cell))
    assert len(kept) == len(edition["cells"]), f"{path.name}: {len(kept)} cells against " \
                                               f"{len(edition['cells'])} in the student edition"
    for i, ((grade_id, cell), mine) in enumerate(zip(kept, edition["cells"])):
        where = f"{path.name}, student edition cell {i}"
        assert cell["cell_type"] == mine["cell_type"], where
        if grade_id.startswith("answer-"):
            assert nbt.source(cell) == f"{nbt.source(mine).rstrip()}\n{assignments.CODE_STUB}", \
                where
        elif grade_id.startswith("test-"):
            label = re.match(r"test-(ex-\d\d-\d+)", grade_id).group(1)
            n = sum(1 for g, _ in kept if re.fullmatch(rf"test-{label}(-\d+)?", g))
            visible = grading.autograder_test(plan[label], nbt.source(mine),
                                              plan[label].auto_points / n)
            assert nbt.source(cell).rstrip() == \
                visible.split("### BEGIN HIDDEN TESTS")[0].rstrip(), where
        else:
            assert nbt.source(cell) == nbt.source(mine), where


# -- two students per chapter, autograded two chapters at a time -----------------------------
@pytest.fixture(scope="module")
def binder() -> dict | None:
    """The Binder environment's kernel (tests/envs.py), or None where local package sources
    cannot build it: then nbgrader grades in this environment's kernel (in CI that fails)."""
    try:
        return envs.binder_kernel()
    except envs.EnvironmentUnavailable as exc:
        if os.environ.get("CI"):
            pytest.fail(f"cannot build the Binder environment in CI: {exc}", pytrace=False)
        return None


@pytest.fixture(scope="module")
def graded(course, binder, tmp_path_factory) -> dict:
    jobs = int(os.environ.get("NBGRADER_TEST_JOBS", "2"))
    workdir = tmp_path_factory.mktemp("grading")
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {p.name: pool.submit(grade_chapter, course, p, workdir, binder)
                   for p in longest_first(CHAPTERS)}
        results = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except BaseException as exc:  # reported by that chapter's test
                results[name] = exc
    wall = time.perf_counter() - start
    times = ", ".join(f"{n[:2]}: {r['seconds']:.0f} s" for n, r in results.items()
                      if isinstance(r, dict))
    runs = sum(len(students_of(p.name[:2])) for p in CHAPTERS)
    print(f"\nnbgrader autograde + feedback of {runs} submissions ({len(CHAPTERS)} chapters, "
          f"up to {len(STUDENTS)} students each), {jobs} at a time, in the "
          f"{'Binder' if binder else 'current'} environment's kernel: {wall:.0f} s wall ({times})")
    return results


@pytest.mark.slow
def test_autograde_scores_two_students(graded, binder, course, subtests):
    each_chapter(subtests, _autograde_scores_two_students, graded, binder, course)


def _autograde_scores_two_students(graded, binder, course, path):
    result = graded[path.name]
    if isinstance(result, BaseException):
        raise result
    if binder:   # both submissions ran in the Binder environment's kernel
        assert result["kernels"] == {envs.BINDER_DISPLAY_NAME}, result["kernels"]
    plan = {g.label: g for g in grading.grading_plan(nbt.read(path))}
    auto = sum(g.auto_points for g in plan.values())
    total = sum(g.points for g in plan.values())
    ref = result["reference"]
    assert ref["max"] == pytest.approx(total) and ref["max_code"] == pytest.approx(auto)
    failing = {k: v for k, v in ref["errors"].items() if k and k.startswith("test-") and v}
    assert ref["code"] == pytest.approx(auto), f"reference solutions fail: {failing}"
    assert ref["score"] == pytest.approx(total)       # after the written answers got full marks
    for grade_id, (_, _, manual) in ref["grades"].items():
        assert manual == grade_id.startswith("written-"), grade_id
    assert ref["feedback"], "no feedback HTML for the reference student"
    if "partial" not in students_of(path.name[:2]):
        return
    partial = result["partial"]
    release = release_of(course, path)
    skipped = untouched_of(release, path.name[:2])
    label, _, hint = mistake_of(release, path.name[:2])

    def tests_of(ex):
        return [g for g in partial["grades"] if re.fullmatch(rf"test-{ex}(-\d+)?", g)]

    lost = tests_of(skipped) + tests_of(label)
    assert tests_of(skipped) and all(partial["grades"][g][0] == 0 for g in lost), \
        partial["grades"]
    assert partial["code"] == pytest.approx(auto - sum(partial["grades"][g][1] for g in lost))
    # the instructor gives full marks to the written answers that need grading
    # (grade_chapter); nbgrader scores an unchanged answer cell 0 by itself: the score misses
    # the untouched exercise's every grade and the mistaken exercise's tests
    missed = {g for g in partial["grades"] if skipped in g} | set(tests_of(label))
    assert partial["score"] == pytest.approx(total - sum(partial["grades"][g][1] for g in missed))
    # the release is the student edition plus graded cells (the test above): it ran top to
    # bottom; the untouched exercise's check said TODO and only its own test failed, on that
    for i, grade_id, error, out in partial["cells"]:
        where = f"{path.name}, partial student, cell {i} ({grade_id or 'not graded'})"
        if grade_id in tests_of(skipped):
            assert "TODO" in out and "PASSED" not in out, f"{where} printed {out!r}"
            assert error.startswith("AssertionError") and "not attempted yet" in error, \
                f"{where}: {error}"
        elif grade_id not in tests_of(label):
            assert not error, f"{where} failed where the student edition must run: {error}"
    test_id = f"test-{label}"
    wrong = partial
    assert wrong["grades"][test_id][0] == 0 and wrong["errors"][test_id], wrong["grades"][test_id]
    if hint:  # a mistake of MISTAKES: the check diagnoses it with its hint
        assert "CheckFailed" in wrong["errors"][test_id], wrong["errors"][test_id]
        assert hint in wrong["errors"][test_id], wrong["errors"][test_id]
    assert partial["feedback"], "no feedback HTML for the partial student"
    feedback = result["partial"]["feedback"]
    assert f"Test of {label}" in feedback and test_id in feedback
    assert hint is None or ("CheckFailed" in feedback and hint in feedback)
    assert json.dumps(wrong["grades"])  # the scores are plain numbers
