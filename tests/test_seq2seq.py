"""Unit tests of rnnlab.seq2seq: Italian number words, batching, the encoder-decoder, scores."""
import pytest
import torch

from rnnlab import seq2seq, text, train

ITALIAN = {
    0: "zero", 3: "tre", 11: "undici", 17: "diciassette", 20: "venti", 21: "ventuno",
    23: "ventitré", 28: "ventotto", 33: "trentatré", 81: "ottantuno", 100: "cento",
    101: "centouno", 103: "centotré", 108: "centotto", 180: "centottanta",
    188: "centottantotto", 200: "duecento", 999: "novecentonovantanove", 1000: "mille",
    1001: "milleuno", 1003: "milletré", 2000: "duemila", 2021: "duemilaventuno",
    9999: "novemilanovecentonovantanove"}


def test_italian_number_spells_a_table_of_numbers():
    """Elision before a vowel (ventuno, ventotto, centottanta; but centouno), the accented -tré,
    cento, mille and -mila, up to 9999."""
    assert {n: seq2seq.italian_number(n) for n in ITALIAN} == ITALIAN


def test_italian_numbers_are_distinct():
    words = [seq2seq.italian_number(n) for n in range(10000)]
    assert len(set(words)) == 10000
    with pytest.raises(ValueError, match="9999"):
        seq2seq.italian_number(10000)
    with pytest.raises(TypeError):
        seq2seq.italian_number("3")


def test_encode_and_decode_batch():
    tv = seq2seq.digit_vocab()
    assert tv.index(seq2seq.PAD) == 0
    t = seq2seq.encode_batch(["12", "7"], tv, add_bos_eos=True)
    assert t.shape == (2, 4) and t[1, -1].item() == 0
    assert t[0, 0].item() == tv.index(seq2seq.BOS) and t[0, 3].item() == tv.index(seq2seq.EOS)
    assert seq2seq.decode_batch(t[:, 1:], tv) == ["12", "7"]
    with pytest.raises(ValueError, match="<pad>"):
        seq2seq.encode_batch(["1"], text.Vocab("1"))
    with pytest.raises(TypeError, match="non-empty list"):
        seq2seq.encode_batch("12", tv)
    with pytest.raises(ValueError, match="empty strings"):
        seq2seq.encode_batch(["", "1"], tv)


def test_encoder_ignores_padding():
    torch.manual_seed(0)
    model = seq2seq.Seq2Seq(6, 13, 8)
    src = torch.tensor([[1, 2, 3, 0, 0]])
    a, b = model(src), model(src[:, :3])
    assert all(torch.allclose(x, y, atol=1e-6) for x, y in zip(a, b))
    with pytest.raises(ValueError, match="non-padding"):
        model(torch.tensor([[1, 2], [0, 0]]))
    with pytest.raises(ValueError, match=r"src must be two-dimensional \(B, T\)"):
        model(torch.tensor([1, 2]))


def test_unpacked_encoder_reads_every_position():
    torch.manual_seed(0)
    packed = seq2seq.Seq2Seq(6, 13, 8)
    unpacked = seq2seq.Seq2Seq(6, 13, 8, packed=False)
    unpacked.load_state_dict(packed.state_dict())
    full = torch.tensor([[1, 2, 3], [3, 4, 5]])                 # no padding: the same state
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(packed(full), unpacked(full)))
    padded = torch.tensor([[0, 0, 1, 2, 3]])                    # padding in front is read too
    assert not torch.allclose(unpacked(padded)[0], packed(torch.tensor([[1, 2, 3]]))[0])
    assert all(torch.equal(a, b) for a, b in zip(unpacked(padded),
                                                 unpacked.encoder(unpacked.src_embed(padded))[1]))


def test_seq2seq_learns_to_reverse_short_strings():
    """A tiny check that teacher forcing with fit and greedy decoding work together."""
    sv = text.Vocab("abc", specials=(seq2seq.PAD,))
    tv = text.Vocab("abc", specials=(seq2seq.PAD, seq2seq.BOS, seq2seq.EOS))
    words = ["a", "b", "c", "ab", "ba", "ca", "cb", "bc", "ac"]
    src = seq2seq.encode_batch(words, sv)
    tgt = seq2seq.encode_batch([w[::-1] for w in words], tv, add_bos_eos=True)
    torch.manual_seed(0)
    model = seq2seq.Seq2Seq(len(sv), len(tv), 32, cell="gru")
    hist = train.fit(model, lambda step: (src, tgt), model.teacher_forcing_loss, steps=150,
                     lr=0.03, progress=False)
    assert hist["loss"][-1] < 0.05
    pred = seq2seq.decode_batch(model.greedy(src, tv.index(seq2seq.BOS), 3), tv)
    assert seq2seq.exact_match(pred, [w[::-1] for w in words]) == 1.0


def test_exact_match_and_edit_distance():
    assert seq2seq.exact_match(["1", "2"], ["1", "3"]) == 0.5
    with pytest.raises(ValueError, match="equal length"):
        seq2seq.exact_match(["1"], [])
    assert seq2seq.edit_distance("108", "180") == 1      # adjacent swap
    assert seq2seq.edit_distance("503", "53") == 1       # deletion
    assert seq2seq.edit_distance("728", "788") == 1      # substitution
    assert seq2seq.edit_distance("160", "600") == 2
    assert seq2seq.edit_distance("", "12") == 2 and seq2seq.edit_distance("7", "7") == 0


def test_exact_match_wants_two_lists_of_strings(subtests):
    for pred, truth, match in [
        ("123", "124", "predictions must be a list of strings, got str"),
        ([1, 2], ["1", "2"], "predictions must be a list of strings, got list"),
        (["1"], 5, "targets must be a list of strings, got int"),
    ]:
        with subtests.test(pred=pred, truth=truth):
            with pytest.raises(TypeError, match=match):
                seq2seq.exact_match(pred, truth)
