"""The nbgrader course (rnncourse.assignments, rnncourse.grading), and end to end with the real
nbgrader and no network (the tests marked slow).

Fast: the points and the nbgrader cells made from a synthetic chapter (tests/nbfixtures.py),
the hidden-test cell, and where the course may be written. Slow: ``rnncourse.assignments``
writes the course from the chapters; ``nbgrader generate_assignment`` makes the
releases, which must hold no solution and no hidden test. Then, for every chapter, three fake
students hand in: one with every reference solution pasted in, one with the untouched release,
one with a typical mistake that the chapter's check diagnoses. ``nbgrader autograde`` grades
them and ``nbgrader generate_feedback`` writes their feedback; the scores are read from the
gradebook through nbgrader's Gradebook API. Each chapter is graded in its own copy of the
course (its own gradebook), ``NBGRADER_TEST_JOBS`` chapters at a time (default 2, one per
core): the three submissions of a chapter share one autograde run, since nbgrader grades them
one after the other in one gradebook.

nbgrader executes the submissions in the kernel of the Binder environment (tests/envs.py), where
a class opens the course. The untouched release is the student edition cell for cell, plus the
graded cells (tested statically below: a starter gains the stub line, a check cell becomes its
check asserted, answer cells for words are added), so its autograded run is also the test
that the student edition runs top to bottom in Binder with every check saying TODO: the
student edition needs no execution of its own.

nbgrader comes from requirements-nbgrader.txt, installed into this environment with
requirements.txt's pins as constraints (as ``make assignments`` does) when it is missing. When
that fails the test is skipped, except in CI (environment variable CI set), where it fails.
``NBGRADER_TEST_CHAPTERS=01,04`` grades only those chapters (while developing).
"""
from __future__ import annotations

import copy
import fnmatch
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
from nbfixtures import SOLUTION_CODE, SOLUTION_TEXT, printed, synthetic, write_source

from rnncourse import assignments, grading, student, timing
from rnncourse import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = [p for p in sorted((ROOT / "chapters").glob(nbt.CHAPTER_GLOB))
            if not os.environ.get("NBGRADER_TEST_CHAPTERS")
            or p.name[:2] in os.environ["NBGRADER_TEST_CHAPTERS"].split(",")]
STUDENTS = ("reference", "untouched", "mistake")
COURSE_ID = "recurrent-networks"

# One typical mistake per chapter: (exercise, wrong code pasted below its starter, the hint its
# check must give). A chapter without an entry gets a function that returns None.
MISTAKES = {
    "01": ("ex-01-2", "def rnn_param_count(D, H, O, L):  # one bias vector per layer\n"
           "    return L * (H * H + H) + H * D + (L - 1) * H * H + O * H + O",
           "two bias vectors per layer"),
    "02": ("ex-02-3", "def bptt_cache_bytes(B, T, D, H, itemsize=8):  # forgot h_0\n"
           "    return itemsize * B * (T * D + 2 * T * H)", "h_0 is kept too"),
    "03": ("ex-03-1", "def sigmoid_prime(a):  # the derivative of tanh\n"
           "    return 1 - torch.tanh(a) ** 2", "derivative of tanh"),
    "04": ("ex-04-3", "def cifg_lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):  # f = i\n"
           "    a_i, a_g, a_o = (x_t @ W_x.T + h_prev @ W_h.T + b).chunk(3, dim=1)\n"
           "    i, g, o = torch.sigmoid(a_i), torch.tanh(a_g), torch.sigmoid(a_o)\n"
           "    c = i * c_prev + i * g\n"
           "    return o * torch.tanh(c), c", "1 - i, not i"),
    "05": ("ex-05-2", "def layer_norm_rows(a, eps=1e-5):  # the unbiased variance\n"
           "    mu = a.mean(dim=-1, keepdim=True)\n"
           "    return (a - mu) / torch.sqrt(a.var(dim=-1, keepdim=True) + eps)",
           "biased variance"),
    "06": ("ex-06-3", "def temperature_probs(logits, temperature):  # multiplied by tau\n"
           "    return torch.softmax(logits * temperature, dim=-1)", "multiplied"),
}


# -- fast: the plan and the cells, on a synthetic chapter ------------------------------------
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


# -- nbgrader, installed offline or skipped --------------------------------------------------
def _env(jupyter_path: str | None = None) -> dict:
    env = assignments.nbgrader_env()
    env.pop("RNNLAB_CHECKS_STRICT", None)    # grade as in a student's kernel: TODO prints
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if jupyter_path:                         # where the Binder kernel is registered
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [jupyter_path,
                                                            env.get("JUPYTER_PATH")]))
    return env


def _nbgrader(*args, cwd, jupyter_path: str | None = None) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                         env=_env(jupyter_path), capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stderr[-4000:]}"
    return run


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


def _release(course: Path, path: Path) -> dict:
    return nbt.read(course / "release" / grading.assignment_name(path.name) / path.name)


def _source(course: Path, path: Path) -> dict:
    return nbt.read(course / "source" / grading.assignment_name(path.name) / path.name)


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name[:2])
def test_release_has_no_solution_and_no_hidden_test(course, path):
    chapter, release = nbt.read(path), _release(course, path)
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
            hidden = nbt.source(_source(course, path)["cells"][ids.index(f"test-{g.label}")])
            assert "seed=_seed" in hidden and str(g.hidden_seeds[0]) in hidden
            assert str(g.hidden_seeds[0]) not in text, f"{g.label}: a hidden seed is released"
    for cell in chapter["cells"]:  # the release shows every starter, and the stub after it
        if nbt.is_starter(cell):
            assert nbt.source(cell).rstrip() + "\n" + assignments.CODE_STUB in text


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name[:2])
def test_release_is_the_student_edition_with_graded_cells(course, path):
    """What lets the untouched submission's autograde stand for a run of the student edition:
    cell for cell the same, except that each starter gains the stub line, each check cell
    becomes that check asserted (its visible part), and answer cells are added that hold only
    words or comments."""
    chapter = nbt.read(path)
    edition, _ = student.student_notebook(chapter, path.name)
    plan = {g.label: g for g in grading.grading_plan(chapter)}
    release = _release(course, path)["cells"]
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


# -- three students per chapter, autograded two chapters at a time ---------------------------
def _without_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def _submission(release: dict, source: dict, who: str, chapter: str) -> dict:
    nb = copy.deepcopy(release)
    if who == "untouched":
        return nb
    reference = {c["metadata"]["nbgrader"]["grade_id"]: nbt.source(c) for c in source["cells"]
                 if c["metadata"].get("nbgrader", {}).get("solution")}
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in reference:
            cell["source"] = _without_markers(reference[grade_id])
    if who == "mistake":
        label, code, _ = _mistake(release, chapter)
        answer = {"grade_id": f"answer-{label}"}
        at = next(i for i, c in enumerate(release["cells"])
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == answer["grade_id"])
        nb["cells"][at]["source"] = nbt.source(release["cells"][at]) + "\n" + code
    return nb


def _mistake(release: dict, chapter: str) -> tuple[str, str, str | None]:
    if chapter in MISTAKES:
        return MISTAKES[chapter]
    for cell in release["cells"]:  # a chapter not in MISTAKES: a function that returns None
        m = re.search(r"^def (\w+)\(", nbt.source(cell), re.M)
        if m and nbt.is_starter(cell):
            return (nbt.starter_label(cell), f"def {m.group(1)}(*args, **kwargs):\n    return None",
                    None)
    pytest.skip(f"chapter {chapter} has no function starter to make a mistake in")


def _grade_chapter(course: Path, path: Path, workdir: Path, kernel: dict | None) -> dict:
    """Submit, autograde (in the Binder kernel when ``kernel`` is given) and give feedback
    for one chapter in a copy of the course."""
    start = time.perf_counter()
    name, chapter = grading.assignment_name(path.name), path.name[:2]
    root = workdir / name
    shutil.copytree(course, root)
    release, source = _release(course, path), _source(course, path)
    for who in STUDENTS:
        folder = root / "submitted" / who / name
        folder.mkdir(parents=True)
        nbt.write(_submission(release, source, who, chapter), folder / path.name)
    if kernel:   # nbgrader's debug log names each kernel it starts
        run = _nbgrader("autograde", name, f"--Execute.kernel_name={envs.BINDER_KERNEL}",
                        "--log-level=DEBUG", cwd=root, jupyter_path=kernel["jupyter_path"])
    else:
        run = _nbgrader("autograde", name, "--log-level=DEBUG", cwd=root)
    from nbgrader.api import Gradebook

    result = {"kernels": set(re.findall(r"Instantiating kernel '([^']+)'", run.stderr))}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        for who in STUDENTS:
            sub = gb.find_submission(name, who)
            grades = {g.name: (g.score, g.max_score, g.needs_manual_grade)
                      for nb in sub.notebooks for g in nb.grades}
            auto = sub.code_score
            for nb in sub.notebooks:  # the instructor grades the written answers in full
                for g in nb.grades:
                    if g.needs_manual_grade:
                        g.manual_score = g.max_score
            gb.db.commit()
            sub = gb.find_submission(name, who)
            result[who] = {"grades": grades, "code": auto, "max_code": sub.max_code_score,
                           "score": sub.score, "max": sub.max_score}
    _nbgrader("generate_feedback", name, cwd=root)
    for who in STUDENTS:
        html = root / "feedback" / who / name / path.with_suffix(".html").name
        result[who]["feedback"] = html.read_text(encoding="utf-8") if html.exists() else None
        graded = nbt.read(root / "autograded" / who / name / path.name)
        result[who]["cells"] = [  # every code cell as it ran: (index, grade id, error, printed)
            (i, c["metadata"].get("nbgrader", {}).get("grade_id"),
             "\n".join(f"{o['ename']}: {o['evalue']}" for o in c["outputs"]
                       if o["output_type"] == "error"),
             printed(c)) for i, c in enumerate(graded["cells"]) if c["cell_type"] == "code"]
        result[who]["errors"] = {grade_id: error for _, grade_id, error, _ in result[who]["cells"]
                                 if grade_id}
    result["seconds"] = time.perf_counter() - start
    return result


def _longest_first(paths: list[Path]) -> list[Path]:
    """``paths`` by their measured run time (chapters/timings.json), longest first, so that
    the grading jobs end together; the file's order where there is no measurement."""
    try:
        seconds = {c["notebook"]: c["seconds"] for c in timing.load(
            ROOT / "chapters" / "timings.json")["chapters"]}
    except ValueError:
        seconds = {}
    return sorted(paths, key=lambda p: -seconds.get(p.name, 0.0))


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
        futures = {p.name: pool.submit(_grade_chapter, course, p, workdir, binder)
                   for p in _longest_first(CHAPTERS)}
        results = {}
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except BaseException as exc:  # reported by that chapter's test
                results[name] = exc
    wall = time.perf_counter() - start
    times = ", ".join(f"{n[:2]}: {r['seconds']:.0f} s" for n, r in results.items()
                      if isinstance(r, dict))
    print(f"\nnbgrader autograde + feedback of {len(CHAPTERS)} chapters x {len(STUDENTS)} "
          f"students, {jobs} at a time, in the {'Binder' if binder else 'current'} "
          f"environment's kernel: {wall:.0f} s wall ({times})")
    return results


@pytest.mark.slow
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name[:2])
def test_autograde_scores_three_students(graded, binder, course, path):
    result = graded[path.name]
    if isinstance(result, BaseException):
        raise result
    if binder:   # all three submissions ran in the Binder environment's kernel
        assert result["kernels"] == {envs.BINDER_DISPLAY_NAME}, result["kernels"]
    plan = {g.label: g for g in grading.grading_plan(nbt.read(path))}
    auto = sum(g.auto_points for g in plan.values())
    total = sum(g.points for g in plan.values())
    ref, untouched, wrong = result["reference"], result["untouched"], result["mistake"]
    assert ref["max"] == pytest.approx(total) and ref["max_code"] == pytest.approx(auto)
    failing = {k: v for k, v in ref["errors"].items() if k and k.startswith("test-") and v}
    assert ref["code"] == pytest.approx(auto), f"reference solutions fail: {failing}"
    assert ref["score"] == pytest.approx(total)       # after the written answers got full marks
    for grade_id, (_, _, manual) in ref["grades"].items():
        assert manual == grade_id.startswith("written-"), grade_id
    assert untouched["code"] == 0 and untouched["score"] == 0, untouched["grades"]
    assert not any(manual for _, _, manual in untouched["grades"].values())
    # the untouched release is the student edition plus graded cells (the test above): it ran
    # top to bottom, every check said TODO, and only the test cells failed, on that TODO
    tests = [cell for cell in untouched["cells"] if (cell[1] or "").startswith("test-")]
    assert tests and len(tests) == sum(g.kind == "checked" for g in plan.values())
    for i, grade_id, error, out in untouched["cells"]:
        where = f"{path.name}, untouched release, cell {i} ({grade_id or 'not graded'})"
        if (grade_id or "").startswith("test-"):
            assert "TODO" in out and "PASSED" not in out, f"{where} printed {out!r}"
            assert error.startswith("AssertionError") and "not attempted yet" in error, \
                f"{where}: {error}"
        else:
            assert not error, f"{where} failed where the student edition must run: {error}"
    label, _, hint = _mistake(_release(course, path), path.name[:2])
    test_id = f"test-{label}"
    assert wrong["grades"][test_id][0] == 0, wrong["grades"][test_id]
    assert wrong["code"] == pytest.approx(auto - wrong["grades"][test_id][1])
    assert 0 < wrong["score"] < total and wrong["errors"][test_id]
    if hint:  # a mistake of MISTAKES: the check diagnoses it with its hint
        assert "CheckFailed" in wrong["errors"][test_id], wrong["errors"][test_id]
        assert hint in wrong["errors"][test_id], wrong["errors"][test_id]
    for who in STUDENTS:
        assert result[who]["feedback"], f"no feedback HTML for {who}"
    feedback = result["mistake"]["feedback"]
    assert f"Test of {label}" in feedback and test_id in feedback
    assert hint is None or ("CheckFailed" in feedback and hint in feedback)
    assert json.dumps(wrong["grades"])  # the scores are plain numbers
