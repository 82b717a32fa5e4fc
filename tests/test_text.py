"""Unit tests of rnnlab.text: vocabulary, corpora, bracket language, windows and batches."""
import random

import numpy as np
import pytest
import torch

from rnnlab import text


def test_vocab_roundtrip_and_layout():
    v = text.Vocab.from_text("hello world", specials=("<pad>",))
    assert v.itos[0] == "<pad>" and v.unk_id == 1 and v.itos[1] == text.UNK
    assert len(v) == 2 + len(set("hello world"))
    ids = v.encode("hello")
    assert ids.dtype == torch.long and ids.shape == (5,)
    assert v.decode(ids) == "hello"
    assert v.decode([0]) == "<pad>" and v.index("<pad>") == 0
    assert "h" in v and "z" not in v
    assert "Vocab(" in repr(v)


def test_unknown_characters():
    v = text.Vocab.from_text("abc")
    ids = v.encode("abz")
    assert ids[-1].item() == v.unk_id
    assert v.decode(ids) == "ab" + text.UNK
    with pytest.raises(ValueError, match="not in the vocabulary"):
        v.encode("abz", strict=True)


def test_min_count_maps_rare_characters_to_unknown():
    v = text.Vocab.from_text("aaab", min_count=2)
    assert "b" not in v and v.encode("b").item() == v.unk_id


def test_vocab_bad_inputs():
    with pytest.raises(ValueError, match="empty"):
        text.Vocab.from_text("")
    with pytest.raises(TypeError, match="str"):
        text.Vocab("ab").encode(3)
    with pytest.raises(ValueError, match="distinct"):
        text.Vocab("ab", specials=("<p>", "<p>"))
    with pytest.raises(ValueError, match="lie in"):
        text.Vocab("ab").decode([7])
    with pytest.raises(TypeError, match="integer"):
        text.Vocab("ab").decode(torch.tensor([0.5]))
    with pytest.raises(KeyError, match="not in the vocabulary"):
        text.Vocab("ab").index("<eos>")


def test_python_docs_text():
    t = text.python_docs_text()
    assert isinstance(t, str) and len(t) > 100_000
    assert t == text.python_docs_text()                      # deterministic order
    assert text.python_docs_text(max_chars=50) == t[:50]


def test_dyck_words_are_well_formed_and_bounded():
    rng = random.Random(0)
    words = [text.dyck_word(rng, max_len=20, max_depth=3) for _ in range(300)]
    assert all(text.is_well_formed(w) for w in words)
    assert max(len(w) for w in words) <= 20
    depth = max(max(np.cumsum([1 if c in "([" else -1 for c in w])) for w in words)
    assert depth <= 3


def test_dyck_corpus_deterministic_and_separated():
    a = text.dyck_corpus(50, seed=3)
    assert a == text.dyck_corpus(50, seed=3) and a != text.dyck_corpus(50, seed=4)
    assert a.count("\n") == 50 and a.endswith("\n")
    assert text.well_formed_fraction(a) == 1.0
    assert set(text.dyck_corpus(20, pairs="<>{}", sep="|")) <= set("<>{}|")


def test_dyck_bad_inputs():
    with pytest.raises(ValueError, match="pairs"):
        text.dyck_corpus(5, pairs="(")
    with pytest.raises(ValueError, match="sep"):
        text.dyck_corpus(5, sep="(")


WELL_FORMED = [                         # (word, is it well-formed?)
    ("([])[]", True),                       # nested and in sequence, both kinds of bracket
    ("([)]", False),                        # crossed: a closer that is not the innermost's
    (")(", False),                          # a closer with nothing open
    ("((", False),                          # left open
    ("", False),                            # the empty word
    ("(x)", False),                         # not a bracket
]


def test_is_well_formed(subtests):
    for word, ok in WELL_FORMED:
        with subtests.test(word=word):
            assert text.is_well_formed(word) is ok


def test_well_formed_fraction():
    assert text.well_formed_fraction("()\n(]\n[]\n((") == pytest.approx(2 / 3)  # "((" incomplete
    assert text.well_formed_fraction("()\n\n") == 0.5                         # empty word
    with pytest.raises(ValueError, match="no complete word"):
        text.well_formed_fraction("(()")


def test_opener_distances():
    d = text.opener_distances("([])\n()")
    assert d.tolist() == [-1, -1, 1, 3, -1, -1, 1]
    assert text.opener_distances("(]").tolist() == [-1, -1]
    assert text.opener_distances("(\n)").tolist() == [-1, -1, -1]   # a word ends at the separator


def test_split_ids():
    tr, va = text.split_ids(torch.arange(100), 0.1)
    assert tr.tolist() == list(range(90)) and va.tolist() == list(range(90, 100))
    with pytest.raises(ValueError, match="fewer than 2"):
        text.split_ids(torch.arange(5), 0.1)
    with pytest.raises(ValueError, match="one-dimensional"):
        text.split_ids(torch.zeros(2, 3, dtype=torch.long))


def test_windows_shift_by_one():
    x, y = text.windows(torch.arange(11), 5)
    assert x.shape == y.shape == (2, 5)
    assert torch.equal(y, x + 1)
    x, y = text.windows(torch.arange(10), 4, stride=2)
    assert x[:, 0].tolist() == [0, 2, 4]
    with pytest.raises(ValueError, match="at least 6 ids"):
        text.windows(torch.arange(5), 5)
    with pytest.raises(ValueError, match="at least 1 ids|at least 2 ids"):
        text.windows([], 1)
    with pytest.raises(TypeError, match="1-D tensor"):
        text.windows("abc", 1)


def test_contiguous_batches_continue_each_row():
    ids = torch.arange(103)
    b = text.ContiguousBatches(ids, batch_size=4, bptt=5)
    assert b.streams.shape == (4, 25) and len(b) == 4
    x0, y0 = b[0]
    x1, _ = b[1]
    assert x0.shape == y0.shape == (4, 5)
    assert torch.equal(y0, x0 + 1)
    assert torch.equal(x1[:, 0], x0[:, -1] + 1)              # row b continues where it stopped
    assert torch.equal(b.streams[:, 0], torch.arange(0, 100, 25))
    assert len(list(b)) == len(b)
    assert torch.equal(b[-1][0], b[len(b) - 1][0])
    with pytest.raises(ValueError, match="k must be"):
        b[len(b)]


def test_contiguous_batches_bad_inputs():
    with pytest.raises(ValueError, match="bptt=10 needs streams"):
        text.ContiguousBatches(torch.arange(20), batch_size=4, bptt=10)
    with pytest.raises(ValueError, match="batch_size"):
        text.ContiguousBatches(torch.arange(20), batch_size=0, bptt=2)
    with pytest.raises(TypeError, match="integer ids"):
        text.ContiguousBatches(torch.rand(20), batch_size=2, bptt=2)


def test_vocab_rejects_what_is_not_characters(subtests):
    for chars, exc, match in [
        (123, TypeError, "chars must be a string or an iterable of characters, got int"),
        (["ab"], ValueError, "chars must be single characters, got 'ab'"),
        (np.array([list("ab")]), TypeError,
         r"chars must be a string or an iterable of characters, got numpy array of shape \(1, 2\)"),
        ([["a"]], ValueError, r"chars must be single characters, got \['a'\]"),
    ]:
        with subtests.test(chars=repr(chars)):
            with pytest.raises(exc, match=match):
                text.Vocab(chars)
    for case, kwargs in [("specials a string", {"specials": "<pad>"}),
                         ("unk a number", {"unk": 3})]:
        with subtests.test(case), pytest.raises(TypeError, match="specials must be a list of "
                                                "tokens and unk a token"):
            text.Vocab("ab", **kwargs)
