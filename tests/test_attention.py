"""Unit tests of rnnlab.attention: additive attention, right-aligned and attentive
encoder-decoders, and the gradient each output step sends to each input."""
import pytest
import torch

from rnnlab import seq2seq, text, train
from rnnlab.attention import (
    AdditiveAttention,
    AlignedSeq2Seq,
    AttentionSeq2Seq,
    additive_attention,
    right_align,
    source_gradient_norms,
)


def _weights(B=3, S=6, Hq=4, Hk=5, A=7, seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)   # noqa: E731
    return r(B, Hq), r(B, S, Hk), r(A, Hq), r(A, Hk), r(A), r(A)


def test_additive_attention_is_the_formula():
    s, keys, W_s, W_h, v, b = _weights()
    mask = torch.ones(3, 6, dtype=torch.bool)
    mask[0, 4:] = False
    context, alpha = additive_attention(s, keys, W_s, W_h, v, b=b, mask=mask)
    for i in range(3):
        e = torch.stack([v @ torch.tanh(W_s @ s[i] + W_h @ keys[i, j] + b) for j in range(6)])
        e[~mask[i]] = -float("inf")
        want = torch.softmax(e, 0)
        assert torch.allclose(alpha[i], want, atol=1e-14)
        assert torch.allclose(context[i], want @ keys[i], atol=1e-14)
    assert torch.all(alpha[0, 4:] == 0)
    assert torch.allclose(alpha.sum(1), torch.ones(3, dtype=torch.float64))


def test_module_equals_the_function():
    s, keys, *_ = _weights()
    module = AdditiveAttention(4, 5, 7).double()
    mask = torch.rand(3, 6) > 0.3
    mask[:, 0] = True
    got = module(s, keys, mask)
    want = additive_attention(s, keys, module.W_s.weight, module.W_h.weight, module.v.weight[0],
                              b=module.W_h.bias, mask=mask)
    assert all(torch.allclose(g, w, atol=1e-14) for g, w in zip(got, want))


def test_additive_attention_bad_inputs():
    s, keys, W_s, W_h, v, b = _weights()
    with pytest.raises(ValueError, match="keys must have size 3 on axis 0"):
        additive_attention(s, keys[:2], W_s, W_h, v)
    with pytest.raises(ValueError, match="v must have size 7"):
        additive_attention(s, keys, W_s, W_h, v[:3])
    with pytest.raises(TypeError, match="mask must be a bool tensor"):
        additive_attention(s, keys, W_s, W_h, v, mask=torch.ones(3, 6))
    with pytest.raises(ValueError, match=r"mask must have shape \(B, S\)"):
        additive_attention(s, keys, W_s, W_h, v, mask=torch.ones(3, 5, dtype=torch.bool))
    with pytest.raises(ValueError, match="at least one True"):
        additive_attention(s, keys, W_s, W_h, v, mask=torch.zeros(3, 6, dtype=torch.bool))
    with pytest.raises(TypeError, match="s must be a torch.Tensor"):
        additive_attention("s", keys, W_s, W_h, v)


def test_right_align():
    src = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8], [9, 0, 0, 0, 0]])
    assert right_align(src).tolist() == [[0, 0, 1, 2, 3], [4, 5, 6, 7, 8], [0, 0, 0, 0, 9]]
    with pytest.raises(ValueError, match="non-padding"):
        right_align(torch.tensor([[1, 2], [0, 0]]))
    with pytest.raises(TypeError, match="src must hold integer ids"):
        right_align(torch.ones(2, 3))
    with pytest.raises(ValueError, match=r"src must be two-dimensional \(B, T\)"):
        right_align(torch.ones(3, dtype=torch.long))


@pytest.fixture(scope="module")
def data():
    words = [seq2seq.italian_number(n) for n in range(200)]
    src_vocab = text.Vocab.from_text("".join(words), specials=(seq2seq.PAD,))
    tgt_vocab = seq2seq.digit_vocab()
    src = seq2seq.encode_batch(words, src_vocab)
    tgt = seq2seq.encode_batch([str(n) for n in range(200)], tgt_vocab, add_bos_eos=True)
    return src_vocab, tgt_vocab, src, tgt


def test_aligned_encoder_state_is_the_state_after_the_last_token(data):
    src_vocab, tgt_vocab, src, _ = data
    torch.manual_seed(0)
    model = AlignedSeq2Seq(len(src_vocab), len(tgt_vocab), 8).double()
    outputs, mask, (h, c) = model.encode(src[:5])
    assert torch.equal(mask, right_align(src[:5]) != 0)
    for i in range(5):                                       # each word alone, no padding
        word = src[i][src[i] != 0].unsqueeze(0)
        _, (h_i, c_i) = model.encoder(model.src_embed(word))
        pads = int((~mask[i]).sum())
        if pads == 0:
            assert torch.allclose(h[i], h_i[0, 0]) and torch.allclose(c[i], c_i[0, 0])
    assert outputs.shape == (5, src.shape[1], 8)
    state = model(src[:5])
    assert state[0].shape == (1, 5, 8) and torch.equal(state[0][0], h)


def test_attention_model_trains_and_decodes(data):
    src_vocab, tgt_vocab, src, tgt = data
    torch.manual_seed(0)
    model = AttentionSeq2Seq(len(src_vocab), len(tgt_vocab), 16)
    g = torch.Generator().manual_seed(0)

    def batch(step):
        i = torch.randint(0, 200, (32,), generator=g)
        return src[i], tgt[i]

    hist = train.fit(model, batch, model.teacher_forcing_loss, steps=40, lr=0.02,
                     progress=False)
    assert hist["loss"][-1] < hist["loss"][0]
    tokens, weights = model.greedy(src[:7], tgt_vocab.index(seq2seq.BOS), 4, return_weights=True)
    assert tokens.shape == (7, 4) and weights.shape == (7, 4, src.shape[1])
    assert torch.allclose(weights.sum(2), torch.ones(7, 4))
    pads = right_align(src[:7]) == 0
    assert torch.all(weights[pads.unsqueeze(1).expand_as(weights)] == 0)
    assert torch.equal(model.greedy(src[:7], tgt_vocab.index(seq2seq.BOS), 4), tokens)
    with pytest.raises(ValueError, match="max_len must be >= 1"):
        model.greedy(src[:7], 1, 0)


def test_source_gradient_norms_equal_autograd_and_vanish_on_padding(data, subtests):
    src_vocab, tgt_vocab, src, tgt = data
    rows = [3, 150, 77]
    for cls in (seq2seq.Seq2Seq, AlignedSeq2Seq, AttentionSeq2Seq):
        with subtests.test(model=cls.__name__):
            torch.manual_seed(1)
            model = cls(len(src_vocab), len(tgt_vocab), 8).double()
            got = source_gradient_norms(model, src[rows], tgt[rows], step=1)
            read = right_align(src[rows]) if isinstance(model, AlignedSeq2Seq) else src[rows]
            assert got.shape == read.shape and torch.all(got[read == 0] == 0)
            assert torch.all(got[read != 0] > 0)
            for k, row in enumerate(rows):               # one sequence at a time, by hand
                emb = model.src_embed(read[k:k + 1]).detach().requires_grad_(True)
                hook = model.src_embed.register_forward_hook(lambda m, i, o, emb=emb: emb)
                memory = model(src[row:row + 1])
                logits = model.decode_logits(memory, tgt[row:row + 1, :2])
                loss = torch.nn.functional.cross_entropy(logits[:, 1], tgt[row:row + 1, 2],
                                                         ignore_index=0, reduction="sum")
                (grad,) = torch.autograd.grad(loss, emb)
                hook.remove()
                want = grad[0].norm(dim=1) * (read[k] != 0)
                assert torch.allclose(got[k], want, rtol=1e-10, atol=1e-14)
            assert all(p.grad is None for p in model.parameters())


def test_source_gradient_norms_bad_inputs(data):
    src_vocab, tgt_vocab, src, tgt = data
    model = AttentionSeq2Seq(len(src_vocab), len(tgt_vocab), 8)
    with pytest.raises(ValueError, match="step must be <= 3"):
        source_gradient_norms(model, src[:2], tgt[:2, :5], 4)
    with pytest.raises(ValueError, match="tgt must have size 2 on axis 0"):
        source_gradient_norms(model, src[:2], tgt[:3], 0)
