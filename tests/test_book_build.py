"""rnncourse.book: the build command make book and the browser test share, and the summary
it prints when a notebook's claim fails (issue: a failing notebook must say which claim)."""
import os

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from rnncourse import book

KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}


def test_rnnlab_hash_changes_with_any_source_and_only_then(tmp_path):
    pkg = tmp_path / "code" / "rnnlab"
    (pkg / "checks").mkdir(parents=True)
    (pkg / "a.py").write_text("x = 1\n")
    (pkg / "checks" / "b.py").write_text("y = 2\n")
    first = book.rnnlab_hash(tmp_path)
    assert book.rnnlab_hash(tmp_path) == first and len(first) == 16
    (pkg / "__pycache__").mkdir()                     # what importing rnnlab writes: no source
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")
    (pkg / "notes.txt").write_text("not a source")
    assert book.rnnlab_hash(tmp_path) == first
    (pkg / "checks" / "b.py").write_text("y = 3\n")
    assert book.rnnlab_hash(tmp_path) != first


@pytest.mark.slow
def test_a_failing_claim_is_named_in_the_build_summary(tmp_path):
    (tmp_path / "code" / "rnnlab").mkdir(parents=True)
    (tmp_path / "_config.yml").write_text("title: t\nexecute:\n  execute_notebooks: force\n"
                                          "sphinx:\n  config:\n    nb_execution_show_tb: true\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: intro\nchapters:\n- file: nb\n")
    (tmp_path / "intro.md").write_text("# Intro\n")
    cells = [new_markdown_cell("# A chapter"),
             new_code_cell("from rnnlab import claims\nerror = 0.07"),
             new_code_cell("claims.less('the model solves the task (test MSE)', error, 0.05)")]
    nbformat.write(new_notebook(cells=cells, metadata={"kernelspec": KERNEL}),
                   tmp_path / "nb.ipynb")
    done = book.build(tmp_path, timeout=600)
    assert done.returncode != 0
    summary = book.failure_summary(done.stdout)
    assert "nb.ipynb" in summary
    assert "claim does not hold: the model solves the task (test MSE): 0.07 < 0.05" in summary
    assert not (tmp_path / "_build" / ".rnnlab-hash").exists(), "a failed build left a hash"


def _small_book(root, mode="cache"):
    (root / "chapters").mkdir(parents=True)
    (root / "_config.yml").write_text(f"title: t\nexecute:\n  execute_notebooks: {mode}\n"
                                      "  timeout: 60\n  exclude_patterns: ['chapters/skip*']\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n- chapters:\n  - file: chapters/b\n"
        "  - file: chapters/a\n  - file: chapters/skip\n  - file: chapters/page\n")
    (root / "intro.md").write_text("# Intro\n")
    (root / "chapters" / "page.md").write_text("# A page\n")
    for name, code in (("a", "import os\nprint(os.environ['RNNLAB_CHECKS_STRICT'], "
                              "os.environ['OMP_NUM_THREADS'], os.getcwd())"),
                       ("b", "raise RuntimeError('claim does not hold: b')"), ("skip", "1")):
        nbformat.write(new_notebook(cells=[new_code_cell(code)], metadata={"kernelspec": KERNEL}),
                       root / "chapters" / f"{name}.ipynb")


def test_toc_notebooks_follow_the_toc_and_skip_excluded_and_markdown(tmp_path):
    _small_book(tmp_path)
    assert book.toc_notebooks(tmp_path) == [tmp_path / "chapters" / "b.ipynb",
                                            tmp_path / "chapters" / "a.ipynb"]


@pytest.mark.slow
def test_prefill_cache_stores_what_myst_nb_would_execute_and_not_failures(tmp_path):
    from jupyter_cache import get_cache

    _small_book(tmp_path)
    times = book.prefill_cache(tmp_path, workers=2, env={**os.environ, "RNNLAB_CHECKS_STRICT": "1"})
    a, b = str(tmp_path / "chapters" / "a.ipynb"), str(tmp_path / "chapters" / "b.ipynb")
    assert times[a] > 0 and times[b] is None and len(times) == 2
    cache = get_cache(str(tmp_path / "_build" / ".jupyter_cache"))
    record = cache.match_cache_notebook(nbformat.read(a, as_version=4))   # what MyST-NB matches
    _, merged = cache.merge_match_into_notebook(nbformat.read(a, as_version=4))
    printed = merged.cells[0].outputs[0]["text"].split()
    assert printed == ["1", "1", str(tmp_path / "chapters")], printed
    assert record.data["execution_seconds"] == times[a]
    with pytest.raises(KeyError):
        cache.match_cache_notebook(nbformat.read(b, as_version=4))
    assert book.prefill_cache(tmp_path, workers=2) == {b: None}, "a stored notebook ran again"
    _small_book(tmp_path / "forced", mode="force")
    assert book.prefill_cache(tmp_path / "forced") == {}


def test_pdf_links_from_another_page_land_on_the_exercise(tmp_path):
    """rnncourse.latex_labels: in the LaTeX that `make pdf` typesets, every link target is a
    label the document defines, a link to an exercise from another page included."""
    import re

    from sphinx.application import Sphinx

    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text("extensions = ['rnncourse.latex_labels']\n"
                                 "latex_documents = [('index', 'book.tex', 'T', 'A', 'manual')]\n")
    (src / "index.rst").write_text("Book\n====\n\n.. toctree::\n\n   chapter\n   guide\n")
    (src / "chapter.rst").write_text("Chapter\n=======\n\n.. exercise:: Unroll\n"
                                     "   :label: ex-01-1\n\n   Unroll it.\n\n"
                                     "See :ref:`ex-01-1`.\n")
    (src / "guide.rst").write_text("Guide\n=====\n\nAssign :ref:`ex-01-1 <ex-01-1>`.\n")
    app = Sphinx(str(src), str(src), str(tmp_path / "out"), str(tmp_path / "doctrees"),
                 "latex", status=None, warning=None, freshenv=True)
    app.build()
    tex = re.sub(r"\\detokenize\{([^}]*)\}", r"\1", (tmp_path / "out" / "book.tex").read_text())
    labels = set(re.findall(r"\\label\{([^}]*)\}", tex))
    targets = set(re.findall(r"\\hyperref\[([^\]]*)\]", tex))
    assert {"exercise:ex-01-1", "chapter:ex-01-1"} <= targets, targets   # its page, another
    assert targets <= labels, f"links to no label: {sorted(targets - labels)}"
