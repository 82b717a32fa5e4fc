"""Notebook and repository hygiene: what every chapter must look like (CONTRIBUTING.md)."""
from __future__ import annotations

import re
from pathlib import Path

from rnncourse import notebooks as nbt

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))
ALLOWED_TAGS = {"remove-cell", "remove-input", "remove-output", "hide-input", "hide-output",
                "hide-cell", "raises-exception", "solution"}
BIB_KEYS = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "references.bib").read_text(), re.M))


def toc_files() -> set[str]:
    text = (ROOT / "_toc.yml").read_text()
    files = set(re.findall(r"file:\s*([^\s#]+)", text))
    files.add(re.search(r"^root:\s*(\S+)", text, re.M).group(1))
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found in chapters/"


def test_toc_and_notebooks_agree():
    listed = toc_files()
    for entry in listed:
        assert any((ROOT / entry).with_suffix(s).exists() for s in (".ipynb", ".md")), \
            f"_toc.yml lists {entry}, which does not exist"
    for nb in ALL_NOTEBOOKS + sorted((ROOT / "chapters").glob("*.md")):
        rel = str(nb.relative_to(ROOT).with_suffix(""))
        assert rel in listed, f"{rel} is not in _toc.yml, so the book leaves it out"


def test_no_code_init_shadowing_stdlib():
    assert not (ROOT / "code" / "__init__.py").exists()
    import rnnlab
    assert Path(rnnlab.__file__).resolve().parent == ROOT / "code" / "rnnlab"


def test_modules_are_small_and_documented():
    paths = sorted((ROOT / "code").rglob("*.py"))
    assert len(paths) > 30
    long = {p.name: n for p in paths if (n := len(p.read_text().splitlines())) > 330}
    assert not long, f"modules over 330 lines: {long}"
    bare = [p.name for p in paths if not re.match(r'\s*(#[^\n]*\n\s*)*(r|f)?"""', p.read_text())]
    assert not bare, f"modules without a module docstring: {bare}"


# -- rules every notebook (or every chapter) must follow: one test per rule, one subtest per
# notebook, named by its file name, so that a failure names the notebook and the rest still run.

def test_outputs_stripped(subtests):
    for path in ALL_NOTEBOOKS:
        with subtests.test(notebook=path.name):
            nb = nbt.read(path)
            for i, cell in enumerate(nb["cells"]):
                if cell["cell_type"] == "code":
                    assert not cell.get("outputs"), \
                        f"{path.name} cell {i} has outputs (run make strip)"
                    assert cell.get("execution_count") is None, \
                        f"{path.name} cell {i} has a count"


def test_tags_allowed(subtests):
    for path in ALL_NOTEBOOKS:
        with subtests.test(notebook=path.name):
            nb = nbt.read(path)
            for i, cell in enumerate(nb["cells"]):
                bad = set(nbt.tags(cell)) - ALLOWED_TAGS
                assert not bad, \
                    f"{path.name} cell {i} uses tags {bad} outside the set in CONTRIBUTING.md"


def test_kernel_and_imports(subtests):
    for path in ALL_NOTEBOOKS:
        with subtests.test(notebook=path.name):
            nb = nbt.read(path)
            assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", path.name
            code = "\n".join(nbt.source(c) for c in nb["cells"] if c["cell_type"] == "code")
            assert re.search(r"^\s*(from|import)\s+rnnlab", code, re.M), \
                f"{path.name} never imports rnnlab"
            assert "sys.path" not in code, f"{path.name} edits sys.path; import rnnlab plainly"


def test_citations_exist(subtests):
    for path in ALL_NOTEBOOKS:
        with subtests.test(notebook=path.name):
            nb = nbt.read(path)
            text = "\n".join(nbt.source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
            for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
                for key in group.split(","):
                    assert key.strip() in BIB_KEYS, \
                        f"{path.name} cites {key!r}, not in references.bib"


def test_chapter_skeleton(subtests):
    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            nb = nbt.read(path)
            number = path.name[:2]
            first = nbt.source(nb["cells"][0])
            assert first.startswith(f"(ch{number})="), \
                f"{path.name} must open with the label (ch{number})="
            assert re.search(r"^# \S", first, re.M), \
                f"{path.name} must have a # title in its first cell"
            headings = [line for c in nb["cells"] if c["cell_type"] == "markdown"
                        for line in nbt.source(c).splitlines() if line.startswith("## ")]
            assert "## Summary" in headings, f"{path.name} has no ## Summary"
            assert headings[-1] == "## Exercises", \
                f"{path.name}: ## Exercises must be the last section"
            code = "\n".join(nbt.source(c) for c in nb["cells"] if c["cell_type"] == "code")
            assert "seed_everything(" in code, \
                f"{path.name} never seeds (runtime.seed_everything)"
            assert re.search(r"\bclaims\.(less|greater|between|holds)\(", code), \
                f"{path.name} checks no claim (rnnlab.claims)"


def test_exercises_have_solutions_starters_and_checks(subtests):
    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            _check_exercises(path, nbt.read(path))


def _check_exercises(path: Path, nb: dict) -> None:
    number = path.name[:2]
    labels = nbt.exercise_labels(nb)
    assert len(labels) >= 4, f"{path.name} has {len(labels)} exercises; at least 4 are required"
    assert len(set(labels)) == len(labels), f"{path.name} repeats an exercise label"
    for label in labels:
        assert label.startswith(f"ex-{number}-"), f"{path.name}: {label} should be ex-{number}-n"
    spans = nbt.solution_spans(nb)
    assert sorted(spans) == sorted(labels), \
        f"{path.name}: exercises {sorted(labels)} but solutions for {sorted(spans)}"
    inside = {i for a, b in spans.values() for i in range(a, b + 1)}
    for i, cell in enumerate(nb["cells"]):
        if "solution" in nbt.tags(cell):
            assert i in inside, f"{path.name} cell {i} is tagged solution outside a solution block"
        if i in inside and cell["cell_type"] == "code":
            assert "solution" in nbt.tags(cell), \
                f"{path.name} cell {i}: code in a solution needs the tag"
    for i, cell in enumerate(nb["cells"]):
        label = nbt.starter_label(cell)
        if label is None:
            continue
        assert label in spans, f"{path.name} cell {i} starts {label}, which has no solution"
        end = spans[label][1]
        assert spans[label][0] > i, f"{path.name}: the starter of {label} must precede its solution"
        later = nb["cells"][end + 1:]
        assert any(nbt.is_check(c) for c in later[:3]), \
            f"{path.name}: {label} has a starter but no check cell right after its solution"


def test_figures_have_captions_labels_and_alt_texts(subtests):
    """Every figure a chapter shows (outside solutions) is numbered, captioned and labelled,
    and has an alt text (``mystnb.image.alt``) that a screen reader reads in place of the
    image: plain words (no LaTeX), one or two sentences that say what is drawn where, not a
    copy of the caption, which is read right after it."""
    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            _check_figures(path, nbt.read(path))


def _check_figures(path: Path, nb: dict) -> None:
    number = path.name[:2]
    inside = {i for a, b in nbt.solution_spans(nb).values() for i in range(a, b + 1)}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or i in inside or "plt.show()" not in nbt.source(cell):
            continue
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        assert fig.get("caption"), f"{path.name} cell {i} shows a figure without a caption"
        assert str(fig.get("name", "")).startswith(f"fig-{number}-"), \
            f"{path.name} cell {i}: figure label should be fig-{number}-..., got {fig.get('name')}"
        alt = str(cell["metadata"]["mystnb"].get("image", {}).get("alt", ""))
        where = f"{path.name} cell {i} ({fig['name']}): alt text"
        assert 40 <= len(alt) <= 250, f"{where} should be 40 to 250 characters, got {alt!r}"
        assert not set(alt) & set("$\\`"), f"{where} should be plain words, got {alt!r}"
        assert alt.strip().rstrip(".") not in fig["caption"], f"{where} repeats the caption"


def test_first_code_cell_is_the_install_cell(subtests):
    """Colab (issue 13): each chapter's first code cell is the one rnncourse.colab writes,
    installing rnnlab from the repository of _config.yml where it is missing."""
    from rnncourse import colab

    for path in CHAPTERS:
        with subtests.test(chapter=path.name):
            problems = colab.check([path])
            assert not problems, "\n".join(problems) + (
                f"\n(python -m rnncourse.colab insert chapters/{nbt.CHAPTER_GLOB} writes it)")
