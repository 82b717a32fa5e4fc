"""Unit tests of rnnlab.lm: the character model, truncated BPTT, evaluation, sampling, n-grams."""
import math

import pytest
import torch

from rnnlab import lm, runtime, text


def _tiny(cell="lstm", V=5, H=8):
    torch.manual_seed(0)
    return lm.CharLM(V, H, embedding_size=4, cell=cell)


def test_charlm_shapes_and_state(subtests):
    for cell in ("lstm", "gru"):                # the state: a pair (h, c), or h alone
        with subtests.test(cell=cell):
            model = _tiny(cell)
            x = torch.randint(0, 5, (3, 7))
            logits, state = model(x)
            assert logits.shape == (3, 7, 5)
            # running in two chunks with the carried state equals one pass over the whole sequence
            a, s = model(x[:, :4])
            b, _ = model(x[:, 4:], s)
            assert torch.allclose(torch.cat([a, b], 1), logits, atol=1e-6)


def test_charlm_bad_inputs():
    with pytest.raises(TypeError, match="x must hold integer ids"):
        _tiny()(torch.rand(2, 3))
    with pytest.raises(ValueError, match=r"x must be two-dimensional \(B, T\)"):
        _tiny()(torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="vocab_size"):
        lm.CharLM(1, 4)


def test_charlm_forget_bias():
    torch.manual_seed(0)
    model = lm.CharLM(5, 8, embedding_size=4, cell="lstm", num_layers=2, forget_bias=1.0)
    for k in range(2):                             # gate order i, f, g, o: rows H..2H are b_f
        assert torch.all(getattr(model.rnn, f"bias_ih_l{k}")[8:16] == 1.0)
        assert torch.all(getattr(model.rnn, f"bias_hh_l{k}")[8:16] == 0.0)
    default = lm.CharLM(5, 8, embedding_size=4)
    assert not torch.all(default.rnn.bias_ih_l0[8:16] == 1.0)   # None keeps PyTorch's init
    with pytest.raises(ValueError, match="forget_bias applies to cell='lstm'"):
        lm.CharLM(5, 8, cell="gru", forget_bias=1.0)


def test_fit_tbptt_learns_a_periodic_stream():
    ids = torch.arange(4).repeat(200)                           # 0 1 2 3 0 1 2 3 ...
    model = _tiny(V=4)
    hist = lm.fit_tbptt(model, text.ContiguousBatches(ids, 4, 10), steps=60, lr=0.05,
                        progress=False)
    assert set(hist) == {"step", "loss", "grad_norm"} and len(hist["loss"]) == 60
    assert hist["loss"][-1] < 0.1 < hist["loss"][0]
    assert lm.evaluate_nats(model, ids[:50]) < 0.1
    assert not model.training


class _Recording(lm.CharLM):
    """A CharLM that remembers the state each chunk starts from and the state it ends in."""

    def forward(self, x, state=None):
        logits, new_state = super().forward(x, state)
        self.seen.append((state, new_state))
        return logits, new_state


def test_fit_tbptt_carries_the_state_values_but_not_their_graph():
    ids = torch.arange(5).repeat(40)
    torch.manual_seed(0)
    model = _Recording(5, hidden_size=4, embedding_size=3)
    model.seen = []
    batches = text.ContiguousBatches(ids, 2, 5)
    lm.fit_tbptt(model, batches, steps=len(batches) + 2, progress=False, clip_norm=None)
    starts = [start for start, _ in model.seen]
    assert starts[0] is None and starts[len(batches)] is None     # zero state at every pass start
    for k in range(1, len(batches)):
        start, (end_h, end_c) = starts[k], model.seen[k - 1][1]
        assert torch.equal(start[0], end_h) and torch.equal(start[1], end_c)   # values carried
        assert start[0].grad_fn is None and not start[0].requires_grad         # graph cut
        assert end_h.grad_fn is not None


def test_fit_tbptt_bad_inputs():
    b = text.ContiguousBatches(torch.arange(5).repeat(10), 2, 3)
    with pytest.raises(ValueError, match="steps"):
        lm.fit_tbptt(_tiny(), b, steps=0)
    with pytest.raises(ValueError, match="optimizer"):
        lm.fit_tbptt(_tiny(), b, steps=1, optimizer="lbfgs")


def test_next_log_probs_matches_one_pass_and_uniform_model():
    model = _tiny()
    ids = torch.randint(0, 5, (23,), generator=runtime.make_generator(0))
    lp = lm.next_log_probs(model, ids, bptt=4)
    assert lp.shape == (22, 5)
    with torch.no_grad():
        whole = torch.log_softmax(model(ids[:-1].unsqueeze(0))[0][0], -1)
    assert torch.allclose(lp, whole, atol=1e-5)
    want = float(-lp.gather(1, ids[1:, None]).mean())
    assert lm.evaluate_nats(model, ids) == pytest.approx(want, rel=1e-5)
    with torch.no_grad():                                       # a model that ignores its input
        for p in model.head.parameters():
            p.zero_()
    assert lm.evaluate_nats(model, ids) == pytest.approx(math.log(5), rel=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        lm.evaluate_nats(model, ids[:1])


def test_sample_ids_shapes_temperature_and_determinism():
    model = _tiny()
    prime = torch.tensor([0, 1])
    a = lm.sample_ids(model, prime, 30, batch_size=3, generator=runtime.make_generator(1))
    b = lm.sample_ids(model, prime, 30, batch_size=3, generator=runtime.make_generator(1))
    assert a.shape == (3, 30) and torch.equal(a, b) and int(a.max()) < 5
    with torch.no_grad():                                       # make symbol 2 the favourite
        model.head.bias.copy_(torch.tensor([0.0, 0.0, 2.0, 0.0, 0.0]))
        model.head.weight.zero_()
    cold = lm.sample_ids(model, prime, 400, temperature=0.2, generator=runtime.make_generator(2))
    hot = lm.sample_ids(model, prime, 400, temperature=5.0, generator=runtime.make_generator(2))
    assert (cold == 2).float().mean() > 0.95 > 0.5 > (hot == 2).float().mean()
    with pytest.raises(ValueError, match="temperature"):
        lm.sample_ids(model, prime, 3, temperature=0.0)
    with pytest.raises(ValueError, match="at least one id"):
        lm.sample_ids(model, torch.tensor([], dtype=torch.long), 3)
    with pytest.raises(TypeError, match="generator"):
        lm.sample_ids(model, prime, 3, generator=0)


def test_sample_text():
    v = text.Vocab("abc")
    model = _tiny(V=len(v))
    s = lm.sample(model, v, 12, prime="ab", generator=runtime.make_generator(0))
    assert isinstance(s, str) and len(s) == 12


def test_ngram_counts_by_hand():
    tr = torch.tensor([0, 1, 0, 1, 2])
    uni = lm.NGramLM(0, 3, alpha=1.0).fit(tr)
    # p = (2+1, 2+1, 1+1) / 8; predicting [1, 2]
    want = -(math.log(3 / 8) + math.log(2 / 8)) / 2
    assert uni.nats(torch.tensor([0, 1, 2])) == pytest.approx(want)
    bi = lm.NGramLM(1, 3, alpha=1.0).fit(tr)
    # pairs 01, 10, 01, 12: row 0 -> (1, 3, 1)/5, row 1 -> (2, 1, 2)/5
    want = -(math.log(3 / 5) + math.log(2 / 5)) / 2
    assert bi.nats(torch.tensor([0, 1, 2])) == pytest.approx(want)
    assert bi.next_log_probs(torch.tensor([0, 1, 2])).shape == (2, 3)
    assert uni.next_log_probs(torch.tensor([0, 1, 2])).shape == (2, 3)
    assert bi.uniform_nats() == pytest.approx(math.log(3))


def test_bigram_beats_unigram_on_structured_text_and_samples():
    ids = torch.tensor([0, 1, 2] * 100)
    uni, bi = lm.NGramLM(0, 3).fit(ids), lm.NGramLM(1, 3, alpha=0.01).fit(ids)
    assert bi.nats(ids) < 0.05 < uni.nats(ids)
    s = bi.sample_ids(0, 9, batch_size=2, generator=runtime.make_generator(0))
    assert s.shape == (2, 9) and s[0].tolist() == [1, 2, 0] * 3
    assert uni.sample_ids(0, 5).shape == (1, 5)


def test_ngram_bad_inputs():
    with pytest.raises(ValueError, match="order"):
        lm.NGramLM(2, 3)
    with pytest.raises(ValueError, match="alpha"):
        lm.NGramLM(1, 3, alpha=0.0)
    with pytest.raises(RuntimeError, match="fit"):
        lm.NGramLM(1, 3).nats(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="lie in"):
        lm.NGramLM(1, 3).fit(torch.tensor([0, 5]))
    with pytest.raises(ValueError, match="at least 2"):
        lm.NGramLM(1, 3).fit(torch.tensor([0]))
    with pytest.raises(ValueError, match="prime"):
        lm.NGramLM(1, 3).fit(torch.tensor([0, 1])).sample_ids(3, 2)


def test_closing_choice():
    v = text.Vocab("()[]\n")
    t = "([])\n"
    lp = torch.full((len(t) - 1, len(v)), math.log(1 / len(v)))
    d, p = lm.closing_choice(lp, t, v)
    assert d.tolist() == [1, 3] and torch.allclose(p, torch.full((2,), 0.5))
    lp[1, v.index("]")] = 0.0                   # row 1 predicts position 2: the right closer
    lp[2, v.index("]")] = 0.0                   # row 2 predicts position 3: favours the wrong one
    d, p = lm.closing_choice(lp, t, v)
    assert p[0] > 0.5 > p[1]
    with pytest.raises(ValueError, match="log_probs"):
        lm.closing_choice(lp[:2], t, v)
    with pytest.raises(TypeError, match="text must be a str"):
        lm.closing_choice(lp, list(t), v)
    with pytest.raises(TypeError, match="vocab must be a rnnlab.text.Vocab"):
        lm.closing_choice(lp, t, "()[]")
