"""Character language models and their count-based baselines (chapter 6).

* :class:`CharLM`: embedding -> fused LSTM or GRU -> linear head over the vocabulary;
  ``model(x (B, T), state) -> (logits (B, T, V), state)``.
* :func:`fit_tbptt`: truncated backpropagation through time over
  :class:`rnnlab.text.ContiguousBatches`: the state is carried from chunk to chunk (values
  only, :func:`rnnlab.memory.detach_state`), gradients flow back ``bptt`` steps at most.
* :func:`evaluate_nats`: cross-entropy in nats per character on a held-out stream.
* :func:`sample_ids` / :func:`sample`: generation with a temperature.
* :class:`NGramLM`: unigram (``order=0``) and bigram (``order=1``) models from counts with
  add-``alpha`` smoothing, the baselines a language model must beat.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ._validate import check_float, check_ids, check_instance, check_int, check_tensor
from .memory import detach_state
from .models import make_rnn
from .text import ContiguousBatches, Vocab, opener_distances
from .train import check_clip_norm, make_optimizer, optimizer_step, show_progress

__all__ = ["CharLM", "fit_tbptt", "next_log_probs", "evaluate_nats", "closing_choice",
           "sample_ids", "sample", "NGramLM"]


class CharLM(nn.Module):
    """Next-character model: ``logits[b, t]`` scores the character after ``x[b, :t + 1]``.

    ``forget_bias`` (LSTM only) sets the forget-gate bias ``b_f`` of every layer; ``None``
    keeps PyTorch's initialisation.
    """

    def __init__(self, vocab_size: int, hidden_size: int, *, embedding_size: int = 32,
                 cell: str = "lstm", num_layers: int = 1, forget_bias: float | None = None):
        super().__init__()
        self.vocab_size = check_int(vocab_size, "vocab_size", minimum=2)
        self.embed = nn.Embedding(vocab_size, embedding_size)
        self.rnn = make_rnn(cell, embedding_size, hidden_size, num_layers=num_layers)
        self.head = nn.Linear(hidden_size, vocab_size)
        if forget_bias is not None:               # b_f of every layer (Gers et al. 2000)
            if cell != "lstm":
                raise ValueError(f"forget_bias applies to cell='lstm', got cell={cell!r}")
            fb, H = forget_bias, hidden_size
            with torch.no_grad():
                for k in range(num_layers):
                    getattr(self.rnn, f"bias_ih_l{k}")[H:2 * H] = fb
                    getattr(self.rnn, f"bias_hh_l{k}")[H:2 * H] = 0.0

    def forward(self, x: torch.Tensor, state=None):
        x = check_ids(x, "x", ndim=2)              # (B, T) integer character ids
        e = self.embed(x)                          # (B, T, E)
        outputs, state = self.rnn(e, state)        # (B, T, H)
        return self.head(outputs), state           # (B, T, V)


def _lm_loss(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))  # (B*T, V)


def fit_tbptt(model: CharLM, batches: ContiguousBatches, *, steps: int, lr: float = 1e-2,
              optimizer: str = "adam", clip_norm: float | None = 1.0, device=None,
              progress: bool | None = None, desc: str = "truncated BPTT") -> dict:
    """Train ``model`` for ``steps`` chunks of truncated BPTT; return the history of
    :func:`rnnlab.train.fit` (``step``, ``loss`` in nats/char, ``grad_norm`` before clipping).

    Step ``s`` uses chunk ``s mod len(batches)``; the state starts at zero at chunk 0 and is
    otherwise the detached final state of the previous chunk.
    """
    steps = check_int(steps, "steps", minimum=1)
    clip_norm = check_clip_norm(clip_norm)
    if device is not None:
        model.to(device)
    opt = make_optimizer(model, optimizer, lr)
    device = next(model.parameters()).device
    history = {"step": [], "loss": [], "grad_norm": []}
    state = None
    model.train()
    for step in tqdm(range(steps), desc=desc, disable=not show_progress(progress),
                     mininterval=0.5):
        k = step % len(batches)
        if k == 0:
            state = None                               # a new pass starts from zero
        x, y = (t.to(device) for t in batches[k])      # (B, T), (B, T)
        logits, state = model(x, state)                # (B, T, V)
        state = detach_state(state)                    # keep the values, cut the graph
        loss = _lm_loss(logits, y)
        norm = optimizer_step(model, opt, loss, clip_norm=clip_norm, step=step)
        history["step"].append(step)
        history["loss"].append(loss.item())
        history["grad_norm"].append(norm)
    model.eval()
    return history


@torch.no_grad()
def next_log_probs(model: CharLM, ids, *, bptt: int = 512) -> torch.Tensor:
    """Log-probabilities the model gives each next character of ``ids``: row ``t`` predicts
    ``ids[t + 1]`` from ``ids[: t + 1]``. Shape ``(T - 1, V)``, on the CPU.

    One stream, read in chunks of ``bptt`` with the state carried across them, so every
    character is predicted from its whole prefix.
    """
    ids = check_ids(ids)
    if len(ids) < 2:
        raise ValueError(f"need at least 2 ids (one to predict), got {len(ids)}")
    bptt = check_int(bptt, "bptt", minimum=1)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    rows, state = [], None
    for start in range(0, len(ids) - 1, bptt):
        x = ids[start: min(start + bptt, len(ids) - 1)].to(device).unsqueeze(0)  # (1, T)
        logits, state = model(x, state)                                          # (1, T, V)
        rows.append(torch.log_softmax(logits[0].float(), dim=-1).cpu())          # (T, V)
    model.train(was_training)
    return torch.cat(rows)                                                       # (T - 1, V)


def evaluate_nats(model: CharLM, ids, *, bptt: int = 512) -> float:
    """Mean cross-entropy (nats per character) of predicting ``ids[1:]`` from what precedes,
    the same characters :meth:`NGramLM.nats` scores."""
    log_p = next_log_probs(model, ids, bptt=bptt)        # checks ids           # (T - 1, V)
    target = torch.as_tensor(ids, dtype=torch.long)[1:]                          # (T - 1,)
    return float(-log_p.gather(1, target[:, None]).mean())


def closing_choice(log_probs: torch.Tensor, text: str, vocab: Vocab, *,
                   pairs: str = "()[]") -> tuple[torch.Tensor, torch.Tensor]:
    """At each closing bracket of ``text``: how far back its partner opened, and the share of
    the closing probability the model puts on the *right* closer.

    ``log_probs`` is ``(len(text) - 1, V)`` with row ``t`` predicting character ``t + 1`` (as
    :func:`next_log_probs` gives). Returns ``distance (N,)`` and ``p_right (N,)`` where
    ``p_right = p(right closer) / p(any closer)``: 1 means the model knows which bracket is
    open, ``1 / (number of bracket kinds)`` means it guesses.
    """
    check_instance(vocab, "vocab", Vocab, "a rnnlab.text.Vocab")  # a str has .index too
    check_tensor(log_probs, "log_probs", shape=(len(text) - 1, len(vocab)))
    dist = opener_distances(text, pairs)[1:]                                     # (T - 1,)
    closers = torch.tensor([vocab.index(c) for c in pairs[1::2]])                # (K,)
    target = vocab.encode(text)[1:]                                              # (T - 1,)
    where = dist > 0
    p = log_probs[where].exp()                                                   # (N, V)
    p_right = p.gather(1, target[where, None])[:, 0] / p[:, closers].sum(dim=1)  # (N,)
    return dist[where], p_right


@torch.no_grad()
def sample_ids(model: CharLM, prime, n_steps: int, *, temperature: float = 1.0,
               batch_size: int = 1, generator: torch.Generator | None = None) -> torch.Tensor:
    """Continue ``prime`` (1-D ids) by ``n_steps`` sampled ids in each of ``batch_size`` rows.

    Each next id is drawn from ``softmax(logits / temperature)``: below 1 the distribution
    sharpens towards the most likely character, above 1 it flattens. Draws happen on the CPU
    with ``generator``, so a seed gives the same text on every device. Returns ``(B, n_steps)``.
    """
    prime = check_ids(prime, "prime")
    if len(prime) == 0:
        raise ValueError("prime must hold at least one id (for example the separator)")
    tau = check_float(temperature, "temperature", minimum=0.0, strict_min=True)
    B = batch_size
    device = next(model.parameters()).device
    model.eval()
    x = prime.to(device).unsqueeze(0).expand(B, -1)                   # (B, P)
    logits, state = model(x)                                          # (B, P, V)
    out = torch.empty(B, n_steps, dtype=torch.long)
    for t in range(n_steps):
        probs = torch.softmax(logits[:, -1].float().cpu() / tau, dim=-1)  # (B, V)
        out[:, t] = torch.multinomial(probs, 1, generator=generator)[:, 0]
        logits, state = model(out[:, t: t + 1].to(device), state)      # (B, 1, V)
    return out


def sample(model: CharLM, vocab: Vocab, n_chars: int, *, prime: str = "\n",
           temperature: float = 1.0, generator: torch.Generator | None = None) -> str:
    """``n_chars`` characters sampled after the text ``prime`` (returned without the prime)."""
    ids = sample_ids(model, vocab.encode(prime), n_chars, temperature=temperature,
                     generator=generator)                             # (1, n_chars)
    return vocab.decode(ids[0])


class NGramLM:
    """Count-based model: ``order=0`` unigram ``p(c)``, ``order=1`` bigram ``p(c | previous)``.

    Probabilities are add-``alpha`` smoothed counts, so a pair never seen in training still
    gets a small probability and the validation loss stays finite.
    """

    def __init__(self, order: int, vocab_size: int, *, alpha: float = 1.0):
        self.order = check_int(order, "order", minimum=0, maximum=1)
        self.vocab_size = check_int(vocab_size, "vocab_size", minimum=2)
        self.alpha = check_float(alpha, "alpha", minimum=0.0, strict_min=True)
        self.log_p = None

    def _check(self, ids, what):
        ids = check_ids(ids, what)
        if len(ids) < 2:
            raise ValueError(f"{what} needs at least 2 ids, got {len(ids)}")
        if int(ids.min()) < 0 or int(ids.max()) >= self.vocab_size:
            raise ValueError(f"{what} must lie in 0..{self.vocab_size - 1}, got "
                             f"{int(ids.min())}..{int(ids.max())}")
        return ids

    def fit(self, ids) -> NGramLM:
        """Count characters (or pairs) of the training stream ``ids``; return ``self``."""
        ids = self._check(ids, "ids")
        V = self.vocab_size
        if self.order == 0:
            counts = torch.bincount(ids, minlength=V).double()                 # (V,)
        else:
            counts = torch.bincount(ids[:-1] * V + ids[1:], minlength=V * V).double().view(V, V)
        counts = counts + self.alpha
        self.log_p = torch.log(counts / counts.sum(dim=-1, keepdim=True))      # (V,) or (V, V)
        return self

    def _table(self):
        if self.log_p is None:
            raise RuntimeError("call fit(train_ids) before using the model")
        return self.log_p

    def next_log_probs(self, ids) -> torch.Tensor:
        """``(T - 1, V)`` log-probabilities of each next id, as :func:`next_log_probs`."""
        log_p = self._table()
        ids = self._check(ids, "ids")
        if self.order == 0:
            return log_p.float().expand(len(ids) - 1, -1)                      # (T - 1, V)
        return log_p[ids[:-1]].float()                                         # (T - 1, V)

    def nats(self, ids) -> float:
        """Mean cross-entropy, nats per character, of predicting ``ids[1:]``."""
        log_p = self._table()
        ids = self._check(ids, "ids")
        lp = log_p[ids[1:]] if self.order == 0 else log_p[ids[:-1], ids[1:]]   # (T - 1,)
        return float(-lp.mean())

    def sample_ids(self, prime: int, n_steps: int, *, batch_size: int = 1,
                   generator: torch.Generator | None = None) -> torch.Tensor:
        """``(B, n_steps)`` ids drawn after the id ``prime`` (a model with no memory)."""
        log_p = self._table()
        check_int(prime, "prime", minimum=0, maximum=self.vocab_size - 1)
        B = batch_size
        p = log_p.exp().float()
        out = torch.empty(B, n_steps, dtype=torch.long)
        prev = torch.full((B,), prime, dtype=torch.long)
        for t in range(n_steps):
            rows = p.expand(B, -1) if self.order == 0 else p[prev]              # (B, V)
            prev = torch.multinomial(rows, 1, generator=generator)[:, 0]
            out[:, t] = prev
        return out

    def uniform_nats(self) -> float:
        """``ln V``: the loss of a uniform guess over the vocabulary."""
        return math.log(self.vocab_size)
