"""rnncourse.versions: the declared version range is the tested one.

The record ``chapters/versions.json`` (``make versions``) must answer the bounds that
``pyproject.toml`` declares today, hold every chapter, and say that each passed in every set;
the comparison of claim values is tested on small logs.
"""
import json
import math
from pathlib import Path

import pytest

from rnncourse import versions

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.name for p in (ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def test_lowest_is_the_declared_lower_bound():
    bounds = versions.declared(ROOT / "pyproject.toml")
    assert set(bounds) == set(versions.LOWEST)
    for name, bound in bounds.items():
        assert versions.LOWEST[name].startswith(bound + "."), (name, bound)


def test_requirements_of_each_set():
    lowest = versions.requirements("lowest", ROOT / "pyproject.toml")
    assert "torch==" + versions.LOWEST["torch"] in lowest and "ipykernel" in lowest
    newest = versions.requirements("newest", ROOT / "pyproject.toml")
    assert "torch" in newest and not any("==" in r for r in newest)
    with pytest.raises(ValueError, match="expected one of"):
        versions.requirements("oldest", ROOT / "pyproject.toml")


def test_declared_refuses_what_it_cannot_read(tmp_path):
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\ndependencies = ["torch~=2.3"]\n')
    with pytest.raises(ValueError, match="name>=version"):
        versions.declared(path)


def test_claim_values_number_repeated_texts_and_skip_exact_facts(tmp_path):
    log = tmp_path / "log.jsonl"
    lines = [{"claim": "a", "kind": "less", "value": 1.0, "source": "01.ipynb"},
             {"claim": "a", "kind": "less", "value": 2.0, "source": "01.ipynb"},
             {"claim": "b", "kind": "holds", "value": None, "source": "01.ipynb"}]
    log.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    assert versions._claim_values(log) == {"01.ipynb": {"a": 1.0, "a #2": 2.0}}


def test_compare_reports_relative_and_orders_of_magnitude():
    table = versions.compare({"lowest": {"04.ipynb": {"r": 2e-7, "only low": 1.0}},
                              "newest": {"04.ipynb": {"r": 2e-37}}})
    row = table["04.ipynb"]["r"]
    assert row["lowest"] == 2e-7 and row["newest"] == 2e-37
    assert math.isclose(row["change"]["orders"], 30.0)
    assert math.isclose(row["change"]["relative"], 1.0)
    assert table["04.ipynb"]["only low"]["change"] is None      # measured in one set only
    signs = versions.compare({"a": {"n": {"x": -1.0}}, "b": {"n": {"x": 1.0}}})
    assert signs["n"]["x"]["change"] == {"relative": 2.0, "orders": None}


def test_the_record_answers_the_declared_range_and_every_chapter_passed():
    data = json.loads((ROOT / versions.RECORD).read_text(encoding="utf-8"))
    assert data["declared"] == versions.declared(ROOT / "pyproject.toml"), \
        "pyproject.toml's bounds changed since the record: run make versions"
    assert set(versions.SETS) <= set(data["sets"])
    lowest = data["sets"]["lowest"]["versions"]
    assert {k: lowest[k] for k in versions.LOWEST} == versions.LOWEST
    for which, s in data["sets"].items():
        assert sorted(s["chapters"]) == CHAPTERS, (which, "run make versions")
        failed = {nb: r["error"] for nb, r in s["chapters"].items() if not r["passed"]}
        assert not failed, (which, failed)
