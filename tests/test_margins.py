"""rnncourse.margins: the smallest headroom of every claim over many executions."""
import json

import pytest

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
