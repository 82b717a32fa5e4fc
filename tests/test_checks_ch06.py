"""Unit tests of rnnlab.checks.ch06: each check passes the reference, says TODO for an
unfilled starter, and gives each typical wrong answer its own hint."""
import math

import numpy as np
import pytest
import torch

from rnnlab import lm, text
from rnnlab.checks import CheckFailed, ch06


def _todo(*args):
    raise NotImplementedError("fill in")


# -- ex-06-2 -----------------------------------------------------------------------------------
def bigram_ref(train_ids, val_ids, vocab_size, alpha=1.0):
    return lm.NGramLM(1, vocab_size, alpha=alpha).fit(train_ids).nats(val_ids)


def _counts(train_ids, V):
    n = torch.zeros(V, V, dtype=torch.float64)
    n.index_put_((train_ids[:-1], train_ids[1:]), torch.ones(len(train_ids) - 1,
                                                             dtype=torch.float64), accumulate=True)
    return n


def _bigram_with(table_fn, reduce=torch.mean):
    def fn(train_ids, val_ids, V, alpha=1.0):
        p = table_fn(_counts(train_ids, V), alpha, V)
        return float(-reduce(torch.log(p[val_ids[:-1], val_ids[1:]])))
    return fn


def _unigram(train_ids, val_ids, V, alpha=1.0):
    return lm.NGramLM(0, V, alpha=alpha).fit(train_ids).nats(val_ids)


@pytest.mark.parametrize("fn, hint", [
    (_bigram_with(lambda n, a, V: n / n.sum(1, keepdim=True)), "add alpha to every count"),
    (lambda *a: bigram_ref(*a) / math.log(2), "bits"),
    (_bigram_with(lambda n, a, V: (n + a) / (n + a).sum(1, keepdim=True), reduce=torch.sum),
     "it is a sum, not a mean"),
    (_bigram_with(lambda n, a, V: (n + a) / (n + a).sum(0, keepdim=True)), "over the previous"),
    (_unigram, "unigram"),
    (_bigram_with(lambda n, a, V: (n + a) / (n.sum(1, keepdim=True) + a)), "alpha V"),
    (lambda *a: bigram_ref(*a) + 0.1, "expected"),
    (lambda *a: "2.3", "expected"),
    (lambda *a: [1.0, 2.0], "one number"),
])
def test_bigram_nats_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch06.bigram_nats(fn)


def test_bigram_nats_reference_and_todo(capsys):
    assert ch06.bigram_nats(bigram_ref).status == "passed"
    assert ch06.bigram_nats(lambda *a: torch.tensor(bigram_ref(*a))).status == "passed"
    assert ch06.bigram_nats(_todo).status == "todo"
    assert "TODO" in capsys.readouterr().out


# -- ex-06-3 -----------------------------------------------------------------------------------
def temp_ref(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


def _naive_softmax(z, axis=-1):
    e = torch.exp(z)
    return e / e.sum(dim=axis, keepdim=True)


@pytest.mark.parametrize("fn, hint", [
    (lambda z, t: _naive_softmax(z / t), "NaN or inf"),
    (lambda z, t: torch.softmax(z * t, -1), "multiplied"),
    (lambda z, t: torch.softmax(z, -1), "ignore the temperature"),
    (lambda z, t: torch.softmax(z / t, 0), "wrong axis"),
    (lambda z, t: torch.exp(z / t - z.max()), "do not sum to 1"),
    (lambda z, t: temp_ref(z, t)[..., :-1], "shape"),
    (lambda z, t: "p", "array of probabilities"),
])
def test_temperature_probs_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch06.temperature_probs(fn)


def test_temperature_probs_reference_and_todo():
    assert ch06.temperature_probs(temp_ref).status == "passed"
    assert ch06.temperature_probs(lambda z, t: temp_ref(z, t).numpy()).status == "passed"
    assert ch06.temperature_probs(_todo).status == "todo"


# -- ex-06-4 -----------------------------------------------------------------------------------
def _counts_only(word):
    return bool(word) and set(word) <= set("()[]") and all(
        word.count(o) == word.count(c) for o, c in ("()", "[]"))


def _depth_only(word):
    depth = 0
    for ch in word:
        if ch not in "()[]":
            return False
        depth += 1 if ch in "([" else -1
        if depth < 0:
            return False
    return bool(word) and depth == 0


def _no_final_check(word):
    stack = []
    for ch in word:
        if ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if not stack or {"(": ")", "[": "]"}[stack.pop()] != ch:
                return False
        else:
            return False
    return bool(word)


def _any_closer(word):
    stack = []
    for ch in word:
        if ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if not stack:
                return False
            stack.pop()
        else:
            return False
    return bool(word) and not stack


def _empty_ok(word):
    return word == "" or text.is_well_formed(word)


@pytest.mark.parametrize("fn, hint", [
    (_counts_only, "wrong order"),
    (_depth_only, "wrong order"),
    (_no_final_check, "still open at the end"),
    (_any_closer, "wrong order|does not close"),
    (_empty_ok, "empty word"),
    (lambda w: text.is_well_formed(w.replace("a", "")), "not a bracket"),
    (lambda w: int(text.is_well_formed(w)), "True or False"),
    (lambda w: w.count("(") == w.count(")") and w.count("[") == w.count("]") and w != "",
     "wrong order|nothing open|not a bracket"),
])
def test_well_formed_brackets_wrong(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        ch06.well_formed_brackets(fn)


def test_well_formed_brackets_reference_and_todo():
    assert ch06.well_formed_brackets(text.is_well_formed).status == "passed"
    assert ch06.well_formed_brackets(lambda w: np.bool_(text.is_well_formed(w))).status == "passed"
    assert ch06.well_formed_brackets(_todo).status == "todo"
