"""Additive attention and an encoder-decoder that uses it (chapter 7).

* :func:`additive_attention` and :class:`AdditiveAttention`: the attention of Bahdanau et
  al. (2015). A query ``s (B, Hq)`` (the decoder's state) scores every key ``h_i`` of a
  sequence ``(B, S, Hk)`` (the encoder's outputs), ``e_i = v . tanh(W_s s + W_h h_i + b)``;
  the weights are ``alpha = softmax(e)`` over the real (unmasked) positions, and the context
  is ``c = sum_i alpha_i h_i``. Every query reads every key: ``S`` scores per output step,
  ``S x T`` for a whole target.
* :class:`AttentionSeq2Seq`: chapter 6's :class:`rnnlab.seq2seq.Seq2Seq` (same embeddings,
  same fused LSTM encoder, same teacher-forcing loss) whose decoder, an LSTM cell run one step
  at a time, reads the context ``c_j`` of every encoder output at each step:
  ``c_j = attention(s_{j-1}, h)``, ``s_j = LSTM([embed(y_{j-1}), c_j], s_{j-1})``,
  ``p(y_j) = softmax(W_o [s_j, c_j] + b_o)``. The encoder's final state still starts the
  decoder, so the model has both paths: through the last state, and through attention.
* :func:`source_gradient_norms`: ``||dL_j / d embed(x_i)||`` for one output step ``j`` and
  every source position ``i``, for either model: chapter 3's gradient-by-lag measurement
  for an encoder-decoder.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ._validate import check_ids, check_int, check_tensor, describe
from .seq2seq import Seq2Seq, _check_source

__all__ = ["additive_attention", "AdditiveAttention", "right_align", "AlignedSeq2Seq",
           "AttentionSeq2Seq", "source_gradient_norms"]


def _check_mask(mask, B: int, S: int):
    if mask is None:
        return None
    if not isinstance(mask, torch.Tensor) or mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (B, S) (True = real position), got "
                        f"{describe(mask)}")
    if tuple(mask.shape) != (B, S):
        raise ValueError(f"mask must have shape (B, S) = ({B}, {S}), got {describe(mask)}")
    if not bool(mask.any(dim=1).all()):
        raise ValueError("every row of mask needs at least one True (a real position)")
    return mask


def _scores_to_weights(e: torch.Tensor, mask) -> torch.Tensor:
    """Softmax of the scores ``e (B, S)`` over the positions where ``mask`` is True."""
    if mask is not None:
        e = e.masked_fill(~mask, float("-inf"))           # padding gets weight exactly 0
    return torch.softmax(e, dim=1)                         # (B, S), rows sum to 1


def additive_attention(s, keys, W_s, W_h, v, *, b=None, mask=None):
    """Bahdanau attention for one query per sequence: ``(context (B, Hk), alpha (B, S))``.

    ``s (B, Hq)``, ``keys (B, S, Hk)``, ``W_s (A, Hq)``, ``W_h (A, Hk)``, ``v (A,)``,
    ``b (A,)`` or None, ``mask (B, S)`` bool or None (True = real position).
    """
    check_tensor(s, "s", ndim=2)
    check_tensor(keys, "keys", shape=(s.shape[0], "S", "Hk"))
    A = W_s.shape[0]                     # W_s and W_h: a wrong size fails in the matmul
    check_tensor(v, "v", shape=(A,))
    if b is not None:
        check_tensor(b, "b", shape=(A,))
    mask = _check_mask(mask, keys.shape[0], keys.shape[1])
    a = (s @ W_s.T).unsqueeze(1) + keys @ W_h.T            # (B, S, A): W_s s + W_h h_i
    e = torch.tanh(a if b is None else a + b) @ v           # (B, S): scores
    alpha = _scores_to_weights(e, mask)                     # (B, S): weights
    context = (alpha.unsqueeze(2) * keys).sum(dim=1)        # (B, Hk): sum_i alpha_i h_i
    return context, alpha


class AdditiveAttention(nn.Module):
    """:func:`additive_attention` with its weights as parameters: ``W_s (A, Hq)``, ``W_h (A, Hk)``,
    ``b (A,)``, ``v (A,)``. :meth:`project_keys` computes ``W_h h_i + b`` once per sequence,
    and :meth:`forward` reuses it for every query."""

    def __init__(self, query_size: int, key_size: int, attention_size: int):
        super().__init__()
        self.W_s = nn.Linear(query_size, attention_size, bias=False)
        self.W_h = nn.Linear(key_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def project_keys(self, keys: torch.Tensor) -> torch.Tensor:
        """``W_h h_i + b`` for every key: ``(B, S, A)``."""
        return self.W_h(keys)

    def forward(self, s: torch.Tensor, keys: torch.Tensor, mask=None, *, keys_proj=None):
        """``(context (B, Hk), alpha (B, S))`` for queries ``s (B, Hq)``; checks nothing (the
        model calling it checks its inputs once)."""
        if keys_proj is None:
            keys_proj = self.project_keys(keys)                                 # (B, S, A)
        e = self.v(torch.tanh(self.W_s(s).unsqueeze(1) + keys_proj)).squeeze(2)  # (B, S)
        alpha = _scores_to_weights(e, mask)                                     # (B, S)
        context = torch.bmm(alpha.unsqueeze(1), keys).squeeze(1)               # (B, Hk)
        return context, alpha


def right_align(src: torch.Tensor) -> torch.Tensor:
    """Move each row's padding (id 0) to the front: ``(B, S)``, every row ending at ``S - 1``."""
    src, lengths = _check_source(src)                                    # (B, S), (B,)
    lengths, S = lengths.unsqueeze(1), src.shape[1]                      # (B, 1)
    shift = (torch.arange(S, device=src.device) - (S - lengths)) % S     # (B, S): source index
    return torch.gather(src, 1, shift) * (torch.arange(S, device=src.device) >= S - lengths)


class AlignedSeq2Seq(Seq2Seq):
    """Chapter 6's :class:`~rnnlab.seq2seq.Seq2Seq` with ``packed=False``, reading its source
    right-aligned.

    With the padding in front, every row ends at the last position, so the fused LSTM runs
    on the padded batch in one call and its final state is each row's state after its last
    token; the packed sequences of ``packed=True`` make PyTorch leave its fast kernel. The
    padding embeddings are zero vectors, which the encoder reads before the word; an LSTM
    reading zeros still moves its state through its biases, so the state it starts a word from
    depends on the number of pad steps: not the packed model's function, an approximation of it
    that training adapts to (chapter 7 measures the difference). LSTM only.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, hidden_size: int, *,
                 embedding_size: int = 16):
        super().__init__(src_vocab_size, tgt_vocab_size, hidden_size,
                         embedding_size=embedding_size, cell="lstm", packed=False)

    def encode(self, src: torch.Tensor):
        """``(outputs (B, S, H), mask (B, S), (h, c))`` of the right-aligned ``src (B, S)``;
        ``mask`` is True on real tokens, and ``h, c`` are ``(B, H)``."""
        src = right_align(src)                                      # (B, S), checked
        outputs, (h, c) = self.encoder(self.src_embed(src))         # (B, S, H), (1, B, H)
        return outputs, src != 0, (h[0], c[0])

    def forward(self, src: torch.Tensor):
        """The encoder's final state ``(h, c)``, each ``(1, B, H)``: chapter 6's unpacked
        encoder on the right-aligned source."""
        return super().forward(right_align(src))


class AttentionSeq2Seq(AlignedSeq2Seq):
    """:class:`AlignedSeq2Seq` with additive attention in the decoder (LSTM only).

    ``model(src)`` returns the *memory* ``(outputs (B, S, H), mask (B, S), (h, c))``, which
    :meth:`decode_logits` and the inherited :meth:`teacher_forcing_loss` take in place of
    the plain model's state; so ``train.fit(model, batch_fn, model.teacher_forcing_loss)``
    trains it exactly like the plain model.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, hidden_size: int, *,
                 embedding_size: int = 16, attention_size: int | None = None):
        super().__init__(src_vocab_size, tgt_vocab_size, hidden_size,
                         embedding_size=embedding_size)
        A = hidden_size if attention_size is None else attention_size   # AdditiveAttention checks
        self.decoder = nn.LSTMCell(embedding_size + hidden_size, hidden_size)
        self.attention = AdditiveAttention(hidden_size, hidden_size, A)
        self.head = nn.Linear(2 * hidden_size, tgt_vocab_size)      # reads [s_j, c_j]

    def forward(self, src: torch.Tensor):
        """The memory of ``src (B, S)``: every encoder output, the mask and the final state."""
        return self.encode(src)

    def _steps(self, memory, tokens_in, *, feed_back: bool = False):
        """Run the decoder: logits ``(B, T, V)`` and attention weights ``(B, T, S)``. With
        ``feed_back`` each step after the first reads the previous step's arg-max token."""
        keys, mask, state = memory
        keys_proj = self.attention.project_keys(keys)               # (B, S, A), once
        embedded = self.tgt_embed(tokens_in)                        # (B, T, E), every step
        outputs, weights = [], []
        for j, e_j in enumerate(embedded.unbind(1)):                # (B, E): step j
            if feed_back and j > 0:
                e_j = self.tgt_embed(self.head(outputs[-1]).argmax(dim=1))   # (B, E)
            c, alpha = self.attention(state[0], keys, mask, keys_proj=keys_proj)  # (B, H), (B, S)
            state = self.decoder(torch.cat([e_j, c], dim=1), state)     # s_j, (B, H) each
            outputs.append(torch.cat([state[0], c], dim=1))             # (B, 2H): [s_j, c_j]
            weights.append(alpha)
        logits = self.head(torch.stack(outputs, dim=1))             # (B, T, V)
        return logits, torch.stack(weights, dim=1)                  # (B, T, S)

    def decode_logits(self, memory, tgt_in: torch.Tensor) -> torch.Tensor:
        """Teacher forcing: scores ``(B, T, V)`` of each next token given the true previous ones."""
        return self._steps(memory, tgt_in)[0]

    @torch.no_grad()
    def greedy(self, src: torch.Tensor, bos_id: int, max_len: int, *,
               return_weights: bool = False):
        """Feed back the most likely token ``max_len`` times: ``(B, max_len)``, and with
        ``return_weights`` the attention weights ``(B, max_len, S)`` of every output step."""
        max_len = check_int(max_len, "max_len", minimum=1)  # 0 would fail deep in _steps
        memory = self(src)
        first = torch.full((src.shape[0], max_len), bos_id, dtype=torch.long, device=src.device)
        logits, weights = self._steps(memory, first, feed_back=True)
        tokens = logits.argmax(dim=2)                               # (B, max_len)
        return (tokens, weights) if return_weights else tokens


def source_gradient_norms(model: Seq2Seq, src: torch.Tensor, tgt: torch.Tensor,
                          step: int) -> torch.Tensor:
    """``||dL_j / d embed(src_i)||`` for every source position ``i``: ``(B, S)``, zero on padding,
    in the order the model reads the source (right-aligned for :class:`AlignedSeq2Seq`).

    ``L_j`` is the cross-entropy of target token ``j + 1`` (output step ``j``) under teacher
    forcing, summed over the batch, so each row is the gradient one sequence's output step
    sends back to each of its inputs. Works for :class:`~rnnlab.seq2seq.Seq2Seq` and
    :class:`AttentionSeq2Seq`; the weights' ``.grad`` are left untouched.
    """
    src = check_ids(src, "src", ndim=2)
    check_tensor(tgt, "tgt", shape=(src.shape[0], "T"), floating=False)
    step = check_int(step, "step", minimum=0, maximum=tgt.shape[1] - 2)
    captured = {}

    def leaf(module, inputs, output):                    # make the embeddings a leaf to read
        captured["ids"] = inputs[0]                      # (B, S) as the model reads them
        captured["e"] = output.detach().requires_grad_(True)
        return captured["e"]

    handle = model.src_embed.register_forward_hook(leaf)
    try:
        with torch.enable_grad():
            memory = model(src)
            logits = model.decode_logits(memory, tgt[:, :step + 1])       # (B, step + 1, V)
            loss = F.cross_entropy(logits[:, step], tgt[:, step + 1], reduction="sum",
                                   ignore_index=0)                         # padding: no loss
            (grad,) = torch.autograd.grad(loss, captured["e"])             # (B, S, E)
    finally:
        handle.remove()
    return torch.linalg.vector_norm(grad, dim=2) * (captured["ids"] != 0)  # (B, S)
