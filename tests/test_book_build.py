"""rnncourse.book: the build command make book and the browser test share, and the summary
it prints when a notebook's claim fails (issue: a failing notebook must say which claim)."""
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
