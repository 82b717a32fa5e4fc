"""Tests of rnncourse.sweeps and of its record, chapters/payoff_sweep.json (chapter 7's payoff)."""
import ast
import json
import statistics

import pytest

from rnncourse import sweeps
from rnncourse.repo import find_root
from rnnlab import tasks

RECORD = find_root() / "chapters" / "payoff_sweep.json"
CHAPTER = find_root() / "chapters" / "07_after_gating.ipynb"


def _record():
    return json.loads(RECORD.read_text())


def test_record_chooses_each_models_best_rate(subtests):
    record = _record()
    assert record["setup"] == json.loads(json.dumps(sweeps.SETUP))
    for task, core in sweeps.CELLS:
        with subtests.test(task=task, core=core):
            by_rate = record["mse"][task][core]
            assert sorted(map(float, by_rate)) == sorted(sweeps.RATES)
            assert all(len(v) == len(sweeps.SWEEP_SEEDS) for v in by_rate.values())
            best = min(by_rate, key=lambda r: statistics.fmean(by_rate[r]))
            assert record["chosen"][task][core] == float(best)


def test_choose_takes_the_lowest_mean():
    assert sweeps.choose({"0.1": [0.5, 0.0], "0.01": [0.2, 0.2], "0.3": [0.1, 0.9]}) == "0.01"


def test_chapter_uses_the_records_rates():
    cells = json.loads(CHAPTER.read_text())["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    source = next(s for s in sources if "\nPAYOFF_LR = " in "\n" + s)
    assign = next(node for node in ast.parse(source).body if isinstance(node, ast.Assign)
                  and getattr(node.targets[0], "id", None) == "PAYOFF_LR")
    used = ast.literal_eval(assign.value)
    chosen = _record()["chosen"]
    assert used == {(t, c): chosen[t][c] for t in chosen for c in chosen[t]}


@pytest.mark.slow
def test_rerun_reproduces_the_cheapest_cell():
    record = _record()
    lr = record["chosen"]["last marked"]["mingru"]
    seed = sweeps.SWEEP_SEEDS[0]
    want = record["mse"]["last marked"]["mingru"][str(lr)][0]
    got = sweeps.run_cell("last marked", "mingru", lr, seed)
    assert got == pytest.approx(want, rel=0.2, abs=2e-3)


def test_record_backs_what_chapter_7_says_of_the_sweep():
    record = _record()
    long = record["long"]["mse"]
    assert max(long["0.01"]) < 0.05                   # 500 steps at 0.01: the LSTM solves adding
    lstm_last = record["mse"]["last marked"]["lstm"]
    best = min(min(v) for v in lstm_last.values())      # every rate, every seed: near 1/12
    assert best > 0.9 * tasks.last_marked_baseline_mse()
