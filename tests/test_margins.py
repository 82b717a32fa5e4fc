"""rnncourse.margins: the smallest headroom of every claim over many executions, and the claims
logs that feed it (a kernel of rnncourse.timing, of the book build, of nbval)."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from rnncourse import margins


def _line(claim, headroom, *, source=None, pid=1, kind="less", ok=True):
    return {"claim": claim, "kind": kind, "ok": ok, "value": 1.0, "threshold": 2.0,
            "headroom": headroom, "pid": pid, "source": source}


def test_logs_are_read_and_unnamed_executions_are_matched_by_their_claims(tmp_path):
    nbval = tmp_path / "nbval.jsonl"
    book = tmp_path / "book.jsonl"
    nbval.write_text("\n".join(json.dumps(x) for x in [
        _line("a", 0.5, source="01.ipynb"), _line("b", 0.9, source="01.ipynb"),
        _line("c", 0.4, source="02.ipynb", pid=2)]) + "\n")
    book.write_text("\n".join(json.dumps(x) for x in [
        _line("a", 0.2, pid=7), _line("b", 0.8, pid=7), _line("c", 0.6, pid=8),
        _line("x", 0.1, pid=9)]) + "\n")
    lines = margins.assign_sources(margins.read_logs([nbval, book]))
    assert {(d["claim"], d["log"], d["source"]) for d in lines if d["log"] == "book.jsonl"} == {
        ("a", "book.jsonl", "01.ipynb"), ("b", "book.jsonl", "01.ipynb"),
        ("c", "book.jsonl", "02.ipynb"), ("x", "book.jsonl", "unknown")}


def test_smallest_headroom_ignores_exact_facts_and_counts_failures():
    lines = [_line("a", 0.5, source="n"), _line("a", 0.2, source="n", ok=True),
             _line("a", -0.1, source="n", ok=False), _line("e", None, source="n", kind="holds"),
             _line("m", -3.0, source="n", kind="machine", ok=False)]
    table = margins.smallest_headroom(lines)
    assert set(table["n"]) == {"a"}
    assert table["n"]["a"]["min"] == pytest.approx(-0.1)
    assert (table["n"]["a"]["runs"], table["n"]["a"]["failed"]) == (3, 1)
    text = margins.report(lines)
    assert text.startswith("n: 1 measured claims, up to 3 runs each, 1 failures; smallest "
                           "headroom -10.0%")


def test_run_rejects_an_unknown_way(tmp_path):
    with pytest.raises(ValueError, match="way must be one of"):
        margins.run([], tmp_path, ways=["gpu"])


CLAIM_CELLS = ["from rnnlab import claims\nclaims.less('small', 1.0, 4.0)",
               "claims.between('inside', 5.0, 0.0, 10.0)"]


def _two_claims(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "01_two_claims.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell(c) for c in CLAIM_CELLS], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}),
        path)
    return path


def _logged(log: Path) -> list[tuple]:
    return [(d["claim"], d["value"], d["threshold"], d["source"])
            for d in map(json.loads, log.read_text().splitlines())]


EXPECTED = [("small", 1.0, 4.0, "01_two_claims.ipynb"),
            ("inside", 5.0, [0.0, 10.0], "01_two_claims.ipynb")]


@pytest.mark.slow
def test_kernels_log_every_claim_with_its_notebook_and_nothing_else_changes(tmp_path, subtests):
    """The hook runs before the first cell, outside the notebook and its history: the margins
    run (run_notebook), the book build (the kernel's start-up lines) and nbval (--claims-log)
    each log both claims with their values and notebook, and the cells' counts stay 1, 2."""
    from nbclient import NotebookClient

    from rnncourse.timing import run_notebook

    path = _two_claims(tmp_path)
    with subtests.test(way="rnncourse.timing.run_notebook(claims_log=)"):
        log = tmp_path / "timing.jsonl"
        run_notebook(path, claims_log=log)
        assert _logged(log) == EXPECTED
    with subtests.test(way="kernel start-up lines (the book build)"):
        log = tmp_path / "book.jsonl"
        nb = nbformat.read(path, as_version=4)
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       extra_arguments=margins.kernel_arguments(log, path.name)).execute()
        assert _logged(log) == EXPECTED
        assert [c.execution_count for c in nb.cells] == [1, 2]
    with subtests.test(way="nbval --claims-log (conftest.py)"):
        log = tmp_path / "nbval.jsonl"
        root = Path(__file__).resolve().parents[1]
        inside = root / "_build" / f"test-claims-log-{os.getpid()}"   # under the root conftest
        try:
            _two_claims(inside)
            done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-q",
                                   "--claims-log", log, inside / path.name], cwd=root,
                                  capture_output=True, text=True, timeout=300,
                                  env={**os.environ, "RNNLAB_NBVAL_ENV": "current"})
        finally:
            shutil.rmtree(inside, ignore_errors=True)
        assert done.returncode == 0, done.stdout[-2000:]
        assert _logged(log) == EXPECTED
