"""Unit tests of rnnlab.checks.ch06: each typical wrong answer gets its own hint, and the special
cases the checks must cover. The protocol cases (the references pass on the visible and hidden
cases, an unfilled starter is TODO, an answer hard-coded for the visible cases fails on hidden
ones) are the table ``PROTOCOL``, run by test_checks_protocol.py."""
import math
import re

import numpy as np
import pytest
import torch
from checkcases import HIDDEN, SEEDS, Protocol, assert_hints

from rnnlab import lm, text
from rnnlab.checks import CheckFailed, ch06

pytestmark = pytest.mark.usefixtures("lenient")


# -- the references ---------------------------------------------------------------------------
def bigram_ref(train_ids, val_ids, vocab_size, alpha=1.0):
    return lm.NGramLM(1, vocab_size, alpha=alpha).fit(train_ids).nats(val_ids)


def temp_ref(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


PROTOCOL = [
    Protocol(ch06.bigram_nats, bigram_ref,
             also_correct={"as a tensor": lambda *a: torch.tensor(bigram_ref(*a))}),
    Protocol(ch06.temperature_probs, temp_ref,
             also_correct={"in numpy": lambda z, t: temp_ref(z, t).numpy()}),
    Protocol(ch06.well_formed_brackets, text.is_well_formed,
             also_correct={"as np.bool_": lambda w: np.bool_(text.is_well_formed(w))}),
]


def test_a_table_of_the_visible_words_fails_on_hidden_ones():
    table = {w: kind == "ok" for kind, words in ch06._BRACKET_CASES.items() for w in words}
    assert ch06.well_formed_brackets(lambda w: table[w]).status == "passed"
    for seed in HIDDEN:
        with pytest.raises(CheckFailed):
            ch06.well_formed_brackets(lambda w: table.get(w, False), seed=seed)


# -- ex-06-2 -----------------------------------------------------------------------------------
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


BIGRAM_NATS_WRONG = [        # (mistake, answer, hint)
    ("unsmoothed", _bigram_with(lambda n, a, V: n / n.sum(1, keepdim=True)),
     "add alpha to every count"),
    ("in bits", lambda *a: bigram_ref(*a) / math.log(2), "bits"),
    ("a sum", _bigram_with(lambda n, a, V: (n + a) / (n + a).sum(1, keepdim=True),
                           reduce=torch.sum), "it is a sum, not a mean"),
    ("columns", _bigram_with(lambda n, a, V: (n + a) / (n + a).sum(0, keepdim=True)),
     "over the previous"),
    ("unigram", _unigram, "unigram"),
    ("alpha once", _bigram_with(lambda n, a, V: (n + a) / (n.sum(1, keepdim=True) + a)),
     "alpha V"),
    ("off by 0.1", lambda *a: bigram_ref(*a) + 0.1, "expected"),
    ("the right value as text", lambda *a: str(float(bigram_ref(*a))), "one number"),
    ("a list", lambda *a: [1.0, 2.0], "one number"),
]


def test_bigram_nats_wrong(subtests):
    assert_hints(subtests, ch06.bigram_nats, BIGRAM_NATS_WRONG)


def test_the_bigram_cases_include_validation_pairs_never_seen_in_training(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            assert any(set(zip(val, val[1:])) - set(zip(train, train[1:]))
                       for train, val, _, _ in ch06._bigram_cases(seed))


# -- ex-06-3 -----------------------------------------------------------------------------------
def _naive_softmax(z, axis=-1):
    e = torch.exp(z)
    return e / e.sum(dim=axis, keepdim=True)


TEMPERATURE_PROBS_WRONG = [  # (answer, hint)
    (lambda z, t: _naive_softmax(z / t), "NaN or inf"),
    (lambda z, t: torch.softmax(z * t, -1), "multiplied"),
    (lambda z, t: torch.softmax(z, -1), "ignore the temperature"),
    (lambda z, t: torch.softmax(z / t, 0), "wrong axis"),
    (lambda z, t: torch.exp(z / t - z.max()), "do not sum to 1"),
    (lambda z, t: temp_ref(z, t)[..., :-1], "shape"),
    (lambda z, t: "p", "array of probabilities"),
]


def test_temperature_probs_wrong(subtests):
    assert_hints(subtests, ch06.temperature_probs, TEMPERATURE_PROBS_WRONG)


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
    """Well-formedness by a stack, without the final check that nothing is left open. (A
    stack without the kind check is ``_depth_only``: the stack's height is the depth.)"""
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


# Shuffled hidden words reach the kinds a mistake gets wrong in any order: each hint names all.
WELL_FORMED_WRONG = [        # (mistake, answer, hint)
    ("counts only", _counts_only, "wrong order|nothing open"),
    ("depth only", _depth_only, "wrong order|does not close"),
    ("no final check", _no_final_check, "still open at the end"),
    ("empty word", lambda w: w == "" or text.is_well_formed(w), "empty word"),
    ("non-brackets dropped",
     lambda w: text.is_well_formed("".join(c for c in w if c in "()[]")), "not a bracket"),
    ("an int", lambda w: int(text.is_well_formed(w)), "True or False"),
    ("counts of any word",
     lambda w: w.count("(") == w.count(")") and w.count("[") == w.count("]") and w != "",
     "wrong order|nothing open|not a bracket"),
]


def test_well_formed_brackets_wrong(subtests):
    assert_hints(subtests, ch06.well_formed_brackets, WELL_FORMED_WRONG)


def test_the_mismatch_hint_names_the_brackets_that_do_not_match(subtests):
    for seed in SEEDS:
        with subtests.test(seed=seed):
            word = next(w for w, kind in ch06._bracket_cases(seed) if kind == "mismatch")
            stack = []
            for ch in word:               # the first closer that does not close the top
                if ch in "([":
                    stack.append(ch)
                elif {"(": ")", "[": "]"}[stack[-1]] != ch:
                    break
                else:
                    stack.pop()
            hint = re.escape(f"{ch!r} does not close {stack[-1]!r}")
            with pytest.raises(CheckFailed, match=hint):
                ch06.well_formed_brackets(lambda w, word=word: w == word or text.is_well_formed(w),
                                          seed=seed)
