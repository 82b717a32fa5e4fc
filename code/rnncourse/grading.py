"""How each exercise is graded in the nbgrader course: points, written parts, hidden cases.

:mod:`rnncourse.assignments` builds the nbgrader assignments from this plan, and the
instructors' guide shows it as a table; both read it from the chapter notebooks, so the points
are never typed by hand. The rules (instructors' guide, "Grading with nbgrader"):

* an exercise is worth its difficulty, ``STAR_POINTS``: ★ 1 point, ★★ 2, ★★★ 3 (1 without
  a mark); ``overrides`` (``--points ex-05-5=5``) sets the points of one exercise;
* a **checked** exercise (a starter and a check cell) is tested automatically by an nbgrader
  test cell: the chapter's check, which must say PASSED, and hidden cases, the same check on
  other seeds (``checks.<name>(answer, seed=k)``) when the check takes a ``seed``;
* an exercise that also asks for words (its text asks a question, ``?``, or says "pen and
  paper" / "on paper") gets a written answer cell graded by hand; the test and the written
  answer share the points (``written_share`` to the written part, half by default);
* every other exercise (pen and paper, or code without a check) is graded by hand, all its
  points on the written answer; its code, if any, goes into an ungraded answer cell above it.

The hidden seeds of an exercise are drawn from ``secret`` and its label, so regenerating the
course gives the same tests; set your own ``secret`` to make them yours.
"""
from __future__ import annotations

import ast
import copy
import inspect
import random
import re
from dataclasses import dataclass, field

from . import notebooks as nbt
from . import student

__all__ = ["STAR_POINTS", "WRITTEN_SHARE", "HIDDEN_SEEDS", "Options", "DEFAULTS", "ExerciseGrade",
           "asks_in_words", "check_calls", "accepts_seed", "hidden_seeds", "exercise_points",
           "grading_plan", "assignment_name", "fmt_points", "points_text", "autograder_test"]

#: Points of an exercise of 1, 2 and 3 stars.
STAR_POINTS = (1.0, 2.0, 3.0)
#: The share of a checked exercise's points that goes to its written part, when it has one.
WRITTEN_SHARE = 0.5
#: How many hidden seeds each seeded check runs.
HIDDEN_SEEDS = 3

_WORDS = re.compile(r"\?|\b(?:pen[- ]and[- ]paper|on paper)\b", re.I)
_DIRECTIVE_BODY = re.compile(r"^(`{3,}|:{3,})\{exercise\}[^\n]*\n(.*?)^\1[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Options:
    """What the instructor may change: points per difficulty, per exercise, hidden cases."""

    star_points: tuple[float, ...] = STAR_POINTS
    written_share: float = WRITTEN_SHARE
    overrides: dict[str, float] = field(default_factory=dict)
    hidden_seeds: int = HIDDEN_SEEDS
    secret: str = "recurrent-networks"

    def __post_init__(self):
        if not self.star_points or any(p < 0 for p in self.star_points):
            raise ValueError(f"star_points must be points >= 0, got {self.star_points!r}")
        if not 0 <= self.written_share <= 1:
            raise ValueError(f"written_share must be between 0 and 1, got {self.written_share}")
        if self.hidden_seeds < 0:
            raise ValueError(f"hidden_seeds must be >= 0, got {self.hidden_seeds}")
        for label, points in self.overrides.items():
            if not re.fullmatch(r"ex-\d\d-\d+", label) or points < 0:
                raise ValueError(f"a points override must be ex-NN-k=P with P >= 0, "
                                 f"got {label}={points}")


#: The course's rules as the module docstring states them.
DEFAULTS = Options()


@dataclass(frozen=True)
class ExerciseGrade:
    """How one exercise is graded."""

    label: str
    title: str
    stars: int | None
    kind: str                 # "checked", "code" (no check) or "pen and paper"
    points: float             # the whole exercise
    auto_points: float        # on its test cells, graded by nbgrader autograde
    manual_points: float      # on its written answer cell, graded by hand
    checks: tuple[str, ...]   # the rnnlab.checks that test it
    hidden_seeds: tuple[int, ...]  # seeds of its hidden cases; () when no check takes a seed
    written: bool             # has a written answer cell


def asks_in_words(text: str) -> bool:
    """True when an exercise's text asks for an answer in words (a question, pen and paper)."""
    return bool(_WORDS.search(text))


def check_calls(source: str) -> list[ast.Call]:
    """The calls ``checks.<name>(...)`` that make up a check cell, in order.

    Raises ValueError when the cell holds anything else: the nbgrader test is made from the
    calls, so a check cell must be only calls of checks (comments allowed).
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ValueError(f"the check cell is not valid Python: {exc}") from None
    calls = []
    for stmt in tree.body:
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        func = getattr(call, "func", None)
        if not (isinstance(call, ast.Call) and isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name) and func.value.id == "checks"):
            raise ValueError("a check cell must hold only calls checks.<name>(...), got "
                             f"{ast.unparse(stmt)!r}")
        calls.append(call)
    if not calls:
        raise ValueError("the check cell calls no check")
    return calls


def accepts_seed(name: str) -> bool:
    """True when ``rnnlab.checks.<name>`` exists and takes a ``seed`` keyword."""
    try:
        from rnnlab import checks
    except ImportError:
        return False
    fn = getattr(checks, name, None)
    try:
        return callable(fn) and "seed" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def hidden_seeds(label: str, count: int, secret: str) -> tuple[int, ...]:
    """``count`` seeds between 1 and 999,999 (0 is the visible case), fixed by secret and label."""
    return tuple(random.Random(f"{secret}:{label}").sample(range(1, 1_000_000), count))


def exercise_points(label: str, stars: int | None, options: Options = DEFAULTS) -> float:
    """Points of an exercise: its override, else ``star_points`` for its stars (1 without)."""
    if label in options.overrides:
        return float(options.overrides[label])
    table = options.star_points
    return float(table[min(max(stars or 1, 1), len(table)) - 1])


def _directive_text(nb: dict, cell: int, label: str) -> str:
    for m in _DIRECTIVE_BODY.finditer(nbt.source(nb["cells"][cell])):
        if re.search(rf"^:label:\s*{re.escape(label)}\s*$", m.group(2), re.M):
            return m.group(2)
    return nbt.source(nb["cells"][cell])


def grading_plan(nb: dict, options: Options = DEFAULTS) -> list[ExerciseGrade]:
    """How each exercise of ``nb`` is graded, in order (see the module's rules)."""
    kinds = student.exercise_kinds(nb)
    plan = []
    for ex in nbt.exercises(nb):
        kind = kinds[ex.label]
        points = exercise_points(ex.label, ex.stars, options)
        names = tuple(re.findall(r"checks\.(\w+)", kind)) if kind.startswith("code, checked") \
            else ()
        if names:
            written = asks_in_words(_directive_text(nb, ex.cell, ex.label))
            manual = points * options.written_share if written else 0.0
            seeded = options.hidden_seeds and any(accepts_seed(n) for n in names)
            seeds = hidden_seeds(ex.label, options.hidden_seeds, options.secret) if seeded else ()
            plan.append(ExerciseGrade(ex.label, ex.title, ex.stars, "checked", points,
                                      points - manual, manual, names, seeds, written))
        else:
            plan.append(ExerciseGrade(ex.label, ex.title, ex.stars, kind, points, 0.0, points,
                                      (), (), True))
    return plan


def assignment_name(notebook_name: str) -> str:
    """The nbgrader assignment of a chapter notebook: ``04_lstm_gru.ipynb`` -> ``ch04``."""
    m = re.match(r"(\d\d)_", notebook_name)
    if not m:
        raise ValueError(f"expected a chapter notebook NN_*.ipynb, got {notebook_name}")
    return f"ch{m.group(1)}"


def fmt_points(points: float) -> str:
    """``2`` for 2.0, ``1.5`` for 1.5: how points are shown in cells and tables."""
    return f"{points:g}"


def points_text(points: float) -> str:
    """``1 point``, ``2 points``, ``0.5 points``."""
    return f"{fmt_points(points)} point" + ("" if points == 1 else "s")


def autograder_test(grade: ExerciseGrade, check_source: str, points: float) -> str:
    """The source of the nbgrader test cell made from a check cell: each check asserted (a TODO
    fails), then, between nbgrader's hidden-test markers, the same checks on the hidden seeds."""
    lines = [f"# Test of {grade.label} ({points_text(points)}): the chapter's check must say "
             "PASSED; a TODO scores 0."]
    hidden = []
    for call in check_calls(check_source):
        text = ast.get_source_segment(check_source, call) or ast.unparse(call)
        lines.append(f'assert {text}, "{grade.label} is not attempted yet (the check said TODO)"')
        if grade.hidden_seeds and accepts_seed(call.func.attr):
            other = copy.deepcopy(call)
            other.func = ast.Attribute(ast.Name("_hidden_checks"), call.func.attr)
            other.keywords = [k for k in other.keywords if k.arg != "seed"]
            other.keywords.append(ast.keyword("seed", ast.Name("_seed")))
            hidden.append(f"    assert {ast.unparse(other)}, "
                          f'f"{grade.label}: TODO on hidden seed {{_seed}}"')
    if hidden:
        seeds = ", ".join(str(s) for s in grade.hidden_seeds)
        lines += ["### BEGIN HIDDEN TESTS",
                  "# Hidden cases: the same check on seeds that learners never saw.",
                  "from rnnlab import checks as _hidden_checks", "",
                  f"for _seed in ({seeds}{',' if len(grade.hidden_seeds) == 1 else ''}):",
                  *hidden, "### END HIDDEN TESTS"]
    return "\n".join(lines)
