"""What the nbgrader end-to-end test (tests/test_nbgrader.py) uses to hand in and grade.

Not a test module: pytest collects nothing here (pytest puts tests/ on sys.path, as for
nbfixtures.py and envs.py).

* ``STUDENTS`` and ``MISTAKES``: the two fake students, and the typical mistake (with the hint
  its check must give) that the second one makes; ``students_of``: who hands in a chapter
  (the reference student in every chapter, the partial one in ``PARTIAL_CHAPTERS``).
* ``run_nbgrader``: nbgrader in this environment, with a student's kernel settings (checks not
  strict, one BLAS thread) and, when given, the folder where the Binder kernel is registered.
* ``release_of``/``source_of``: a chapter's release and source notebooks in a course folder.
* ``submission``: what each student hands in; ``grade_chapter``: submit, autograde and give
  feedback for one chapter in a copy of the course; ``longest_first``: the chapters by their
  measured run time.
"""
from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import envs
import pytest
from nbfixtures import printed

from rnncourse import assignments, grading, timing
from rnncourse import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ("reference", "partial")
#: The chapters where the partial student hands in too. The reference student grades every
#: chapter (its solutions against the hidden tests, which only nbgrader runs). What the partial
#: student adds is how nbgrader scores an untouched exercise and a wrong answer, which does not
#: depend on the chapter: the learner runs (tests/test_learner_runs.py) already run every
#: exercise of every chapter untouched and wrong, MISTAKES included, in the hosted environment.
#: Two chapters, a quick one and one whose mistake has a hint, keep that scoring tested without
#: a second execution of every chapter (CI's time; NBGRADER_PARTIAL_CHAPTERS=all grades all).
PARTIAL_CHAPTERS = ("01", "06")


def students_of(chapter: str) -> tuple[str, ...]:
    """Who hands in chapter ``chapter`` ("01"...): see :data:`PARTIAL_CHAPTERS`."""
    wanted = os.environ.get("NBGRADER_PARTIAL_CHAPTERS")
    partial = (wanted == "all" or chapter in wanted.split(",")) if wanted \
        else chapter in PARTIAL_CHAPTERS
    return STUDENTS if partial else STUDENTS[:1]
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



def grading_env(jupyter_path: str | None = None) -> dict:
    env = assignments.nbgrader_env()
    env.pop("RNNLAB_CHECKS_STRICT", None)    # grade as in a student's kernel: TODO prints
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    if jupyter_path:                         # where the Binder kernel is registered
        env["JUPYTER_PATH"] = os.pathsep.join(filter(None, [jupyter_path,
                                                            env.get("JUPYTER_PATH")]))
    return env


def run_nbgrader(*args, cwd, jupyter_path: str | None = None) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd,
                         env=grading_env(jupyter_path), capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{run.stderr[-4000:]}"
    return run


def release_of(course: Path, path: Path) -> dict:
    return nbt.read(course / "release" / grading.assignment_name(path.name) / path.name)


def source_of(course: Path, path: Path) -> dict:
    return nbt.read(course / "source" / grading.assignment_name(path.name) / path.name)


def without_markers(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def exercise_labels(release: dict) -> list[str]:
    """The labels of the release's checked exercises, in order (from its test cells)."""
    labels = []
    for cell in release["cells"]:
        m = re.match(r"test-(ex-\d\d-\d+)", cell["metadata"].get("nbgrader", {}).get("grade_id")
                     or "")
        if m and m.group(1) not in labels:
            labels.append(m.group(1))
    return labels


def untouched_of(release: dict, chapter: str) -> str:
    """The exercise the partial student leaves untouched: the first checked one that is not
    the exercise of the chapter's typical mistake."""
    mistake = mistake_of(release, chapter)[0]
    return next(label for label in exercise_labels(release) if label != mistake)


def _exercise_of(grade_id: str) -> str | None:
    m = re.search(r"(ex-\d\d-\d+)", grade_id or "")
    return m.group(1) if m else None


def submission(release: dict, source: dict, who: str, chapter: str) -> dict:
    """What ``who`` hands in: ``reference`` pastes every reference solution; ``partial``
    leaves one checked exercise untouched (:func:`untouched_of`), makes the chapter's typical
    mistake in another (:func:`mistake_of`) and pastes the reference solutions elsewhere."""
    nb = copy.deepcopy(release)
    reference = {c["metadata"]["nbgrader"]["grade_id"]: nbt.source(c) for c in source["cells"]
                 if c["metadata"].get("nbgrader", {}).get("solution")}
    untouched = untouched_of(release, chapter) if who == "partial" else None
    for cell in nb["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in reference and _exercise_of(grade_id) != untouched:
            cell["source"] = without_markers(reference[grade_id])
    if who == "partial":
        label, code, _ = mistake_of(release, chapter)
        answer = {"grade_id": f"answer-{label}"}
        at = next(i for i, c in enumerate(release["cells"])
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == answer["grade_id"])
        nb["cells"][at]["source"] = nbt.source(release["cells"][at]) + "\n" + code
    return nb


def mistake_of(release: dict, chapter: str) -> tuple[str, str, str | None]:
    if chapter in MISTAKES:
        return MISTAKES[chapter]
    for cell in release["cells"]:  # a chapter not in MISTAKES: a function that returns None
        m = re.search(r"^def (\w+)\(", nbt.source(cell), re.M)
        if m and nbt.is_starter(cell):
            return (nbt.starter_label(cell), f"def {m.group(1)}(*args, **kwargs):\n    return None",
                    None)
    pytest.skip(f"chapter {chapter} has no function starter to make a mistake in")


def grade_chapter(course: Path, path: Path, workdir: Path, kernel: dict | None) -> dict:
    """Submit, autograde (in the Binder kernel when ``kernel`` is given) and give feedback
    for one chapter in a copy of the course."""
    start = time.perf_counter()
    name, chapter = grading.assignment_name(path.name), path.name[:2]
    root = workdir / name
    shutil.copytree(course, root)
    release, source = release_of(course, path), source_of(course, path)
    students = students_of(chapter)
    for who in students:
        folder = root / "submitted" / who / name
        folder.mkdir(parents=True)
        nbt.write(submission(release, source, who, chapter), folder / path.name)
    if kernel:   # nbgrader's debug log names each kernel it starts
        run = run_nbgrader("autograde", name, f"--Execute.kernel_name={envs.BINDER_KERNEL}",
                        "--log-level=DEBUG", cwd=root, jupyter_path=kernel["jupyter_path"])
    else:
        run = run_nbgrader("autograde", name, "--log-level=DEBUG", cwd=root)
    from nbgrader.api import Gradebook

    result = {"kernels": set(re.findall(r"Instantiating kernel '([^']+)'", run.stderr))}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course_id=COURSE_ID) as gb:
        for who in students:
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
    run_nbgrader("generate_feedback", name, cwd=root)
    for who in students:
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


def longest_first(paths: list[Path]) -> list[Path]:
    """``paths`` by their measured run time (chapters/timings.json), longest first, so that
    the grading jobs end together; the file's order where there is no measurement."""
    try:
        seconds = {c["notebook"]: c["seconds"] for c in timing.load(
            ROOT / "chapters" / "timings.json")["chapters"]}
    except ValueError:
        seconds = {}
    return sorted(paths, key=lambda p: -seconds.get(p.name, 0.0))
