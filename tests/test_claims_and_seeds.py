"""Unit tests of rnnlab.claims (asserted statements of the book) and rnnlab.seeds (spreads)."""
import json
import logging
import os

import numpy as np
import pytest
import torch

from rnnlab import claims, seeds


def test_a_claim_that_holds_prints_value_threshold_and_headroom(capsys):
    # nothing returned: a claim that ends a notebook cell shows its printed line alone
    assert claims.less("the error is small", 0.02, 0.05) is None
    assert claims.greater("the ratio is large", 300.0, 100.0) is None
    assert claims.between("about one half", 0.51, 0.4, 0.6) is None
    claims.holds("two tensors are equal", True, "bit for bit")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "holds: the error is small: 0.02 < 0.05 (headroom 60%)"
    assert out[1] == "holds: the ratio is large: 300 > 100 (headroom 200%)"
    assert out[2] == "holds: about one half: 0.4 < 0.51 < 0.6 (headroom 15%)"
    assert out[3] == "holds: two tensors are equal (bit for bit)"


# (the kind of claim, a call of it that fails, what the error says)
FAILING_CLAIMS = [
    ("less", lambda: claims.less("LSTM solves it", 0.07, 0.05),
     "claim does not hold: LSTM solves it: 0.07 < 0.05"),
    ("greater", lambda: claims.greater("tanh stays", 0.1, 0.14), "tanh stays: 0.1 > 0.14 is false"),
    ("between", lambda: claims.between("near 0.61", 0.7, 0.6, 0.62),
     "near 0.61: 0.6 < 0.7 < 0.62 is false"),
    ("holds", lambda: claims.holds("equal", False, "compared"),
     r"claim does not hold: equal \(compared\)"),
    ("less with nan", lambda: claims.less("not a number", float("nan"), 1.0),
     "not a number: nan < 1"),
]


def test_a_claim_that_fails_raises_an_assertion_that_names_it(subtests):
    for kind, call, message in FAILING_CLAIMS:
        with subtests.test(kind):
            with pytest.raises(claims.ClaimFailed, match=message) as info:
                call()
            assert isinstance(info.value, AssertionError)


def test_a_machine_fact_is_reported_and_never_fails(capsys):
    assert claims.on_this_machine("the GRU step is slower", 1.6, ">", 1.0) is None
    assert claims.on_this_machine("the GRU step is slower", 0.9, ">", 1.0) is None
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("holds: the GRU step is slower: 1.6 > 1")
    assert out[1] == "DOES NOT HOLD on this machine: the GRU step is slower: 0.9 > 1"


def test_claims_are_logging_records_and_log_to_keeps_them_as_json_lines(tmp_path, caplog,
                                                                        capsys):
    """Each claim is a record of the logger rnnlab.claims with its fields; nothing reaches a
    file or the screen beyond the printed line until log_to adds its handler."""
    with caplog.at_level(logging.INFO, logger="rnnlab.claims"):
        claims.less("small", 1.0, 4.0)
    assert [r.claim for r in caplog.records] == [{"claim": "small", "kind": "less", "ok": True,
                                                  "value": 1.0, "threshold": 4.0,
                                                  "headroom": 0.75}]
    capsys.readouterr()
    log = tmp_path / "claims.jsonl"
    claims.log_to(log, source="01_x.ipynb")
    handler = claims.log_to(log, source="01_x.ipynb")   # the same file again: replaced
    try:
        claims.less("small", 1.0, 4.0)
        claims.between("inside", 5.0, 0.0, 10.0)
        with pytest.raises(claims.ClaimFailed):
            claims.greater("big", 1.0, 2.0)
    finally:
        claims.LOGGER.removeHandler(handler)
        handler.close()
    claims.less("after", 1.0, 4.0)                       # no handler any more: not written
    assert capsys.readouterr().err == ""
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(d["claim"], d["kind"], d["ok"], d["source"]) for d in lines] == [
        ("small", "less", True, "01_x.ipynb"), ("inside", "between", True, "01_x.ipynb"),
        ("big", "greater", False, "01_x.ipynb")]
    assert lines[0]["headroom"] == pytest.approx(0.75) and lines[1]["threshold"] == [0.0, 10.0]
    assert lines[1]["headroom"] == pytest.approx(0.5) and lines[2]["value"] == 1.0
    assert all(d["pid"] == os.getpid() for d in lines)


# (what is wrong, the call, the error and what it says)
BAD_CLAIMS = [
    ("empty claim", lambda: claims.less("", 1, 2), TypeError, "non-empty text"),
    ("value not a number", lambda: claims.less("x", "small", 2), TypeError,
     "measured value must be a number"),
    ("threshold not a number", lambda: claims.greater("x", 1, None), TypeError,
     "threshold must be a number"),
    ("low above high", lambda: claims.between("x", 1, 2, 1), ValueError, "low must be below high"),
    ("unknown op", lambda: claims.on_this_machine("x", 1, ">=", 1), ValueError, "op must be"),
]


def test_bad_claims_are_rejected_with_a_clear_error(subtests):
    for what, call, exc, match in BAD_CLAIMS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                call()


def test_run_and_spread_over_seeds():
    results = seeds.run(lambda seed: seed * 2.0, seeds=[0, 1, 2, 3])
    assert results == {0: 0.0, 1: 2.0, 2: 4.0, 3: 6.0}
    s = seeds.spread(results)
    assert (s.n, s.mean, s.min, s.max) == (4, 3.0, 0.0, 6.0)
    assert s.std == pytest.approx(np.std([0, 2, 4, 6], ddof=1))
    assert str(seeds.spread([1.0, 3.0])) == "2 ± 1.41 [1, 3]"
    assert seeds.spread([5.0]).std == 0.0
    # run's default is SEEDS, which the book's text names ("the five seeds 0 to 4", chapter 2)
    assert seeds.run(lambda seed: -seed) == {seed: -seed for seed in seeds.SEEDS}
    assert seeds.SEEDS == (0, 1, 2, 3, 4)


def test_wins_pairs_results_by_seed_and_table_lists_every_method():
    a, b = {0: 1.0, 1: 5.0, 2: 2.0}, {2: 3.0, 1: 4.0, 0: 2.0}
    assert seeds.wins(a, b) == 2 and seeds.wins(b, a) == 1
    assert seeds.wins([1, 2, 3], [2, 2, 2]) == 1
    table = seeds.table({"LSTM": [0.01, 0.03], "GRU": [0.02, 0.02]}, fmt=".2f", header="test MSE")
    assert table.splitlines() == ["| | test MSE: mean ± std [min, max] | seeds |", "|---|---|---|",
                                  "| LSTM | 0.02 ± 0.01 [0.01, 0.03] | 2 |",
                                  "| GRU | 0.02 ± 0.00 [0.02, 0.02] | 2 |"]


def _tiny_training(seed):
    # a seeded model (global generator, inside seeded) trained on batches of a private generator
    from torch import nn

    from rnnlab import tasks, train
    with seeds.seeded(seed):
        model = nn.Sequential(nn.Flatten(), nn.Linear(20, 8), nn.Tanh(), nn.Linear(8, 1))
    history = train.fit(model, tasks.batches(tasks.adding_problem, 16, 10, seed=seed),
                        nn.functional.mse_loss, steps=30, lr=0.01)
    return history["loss"], seeds.in_worker()


def test_run_with_two_workers_gives_each_seed_its_result_alone():
    alone = seeds.run(_tiny_training, seeds=[0, 1, 2, 3])
    together = seeds.run(_tiny_training, seeds=[0, 1, 2, 3], workers=2)
    assert list(together) == [0, 1, 2, 3]                     # the order of the seeds
    for seed in alone:
        assert together[seed][0] == alone[seed][0], f"seed {seed}: not the same losses"
        assert together[seed][1] is True and alone[seed][1] is False   # where bars are off
    assert alone[0][0] != alone[1][0]                          # seeds do differ
    assert not seeds.in_worker()


def test_seeded_draws_what_seed_everything_draws_and_run_reraises_errors():
    from rnnlab import runtime
    runtime.seed_everything(7)
    expected = torch.rand(3)
    with seeds.seeded(7):
        assert torch.equal(torch.rand(3), expected)

    def fails_on_two(seed):
        if seed == 2:
            raise RuntimeError("seed 2 failed")
        return seed
    with pytest.raises(RuntimeError, match="seed 2 failed"):
        seeds.run(fails_on_two, seeds=[0, 1, 2, 3], workers=2)


# (what is wrong, the call, the error and what it says)
BAD_SEED_INPUTS = [
    ("run: no seeds", lambda: seeds.run(lambda s: s, seeds=[]), ValueError, "at least one seed"),
    ("run: workers 0", lambda: seeds.run(lambda s: s, workers=0), ValueError, "workers"),
    ("run: not a function", lambda: seeds.run(3), TypeError, "function of the seed"),
    ("seeded: negative", lambda: seeds.seeded(-1).__enter__(), ValueError, "seed"),
    ("spread: empty", lambda: seeds.spread([]), ValueError, "non-empty 1-D"),
    ("wins: other seeds", lambda: seeds.wins({0: 1}, {1: 1}), ValueError, "same seeds"),
    ("wins: other lengths", lambda: seeds.wins([1, 2], [1]), ValueError, "one value per seed"),
]


def test_bad_seed_inputs_are_rejected_with_a_clear_error(subtests):
    for what, call, exc, match in BAD_SEED_INPUTS:
        with subtests.test(what):
            with pytest.raises(exc, match=match):
                call()


def test_publish_checks_its_arguments_and_does_nothing_outside_a_notebook(capsys):
    claims.publish("lstm_steps", 450)
    claims.publish("ratio", np.float64(0.5))
    assert capsys.readouterr().out == ""
    with pytest.raises(ValueError, match="identifier"):
        claims.publish("not a name", 1.0)
    with pytest.raises(TypeError, match="number or a str"):
        claims.publish("x", [1, 2])


def test_publish_writes_plain_literals_that_the_book_can_format(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.get_ipython", lambda: object())
    monkeypatch.setattr("IPython.display.display", lambda data, **kw: shown.append((data, kw)))
    claims.publish("a", np.float64(0.25))
    claims.publish("b", np.int64(3))
    claims.publish("c", torch.tensor(1.5))
    texts = [next(iter(data.values())) for data, _ in shown]
    assert texts == ["0.25", "3", "1.5"]
    assert shown[0][1]["metadata"]["scrapbook"]["name"] == "a"
