"""Characters as integers, corpora made at run time, and (batch, time) windows (chapter 6).

* :class:`Vocab` maps characters to integer ids and back. Characters it does not know map to
  one *unknown* id (shown as ``"\\ufffd"``), so a model never meets an id it has no row for.
* Corpora: :func:`python_docs_text` is the English prose of Python's own documentation, which
  ships with every CPython (``pydoc_data.topics``); :func:`dyck_corpus` generates a bracket
  language whose closing brackets depend on what opened far back. Nothing is downloaded and
  no text the course did not write is stored in the repository.
* Batching: :func:`windows` cuts a stream of ids into ``(N, T)`` inputs and next-character
  targets; :class:`ContiguousBatches` cuts it into ``B`` parallel streams and serves them in
  consecutive ``(B, T)`` chunks, so row ``b`` of chunk ``k + 1`` continues row ``b`` of chunk
  ``k``: the layout truncated BPTT with a carried state needs.
"""
from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from ._validate import check_float, check_ids, check_instance, check_int, describe

__all__ = ["UNK", "Vocab", "python_docs_text", "dyck_word", "dyck_corpus", "is_well_formed",
           "well_formed_fraction", "opener_distances", "split_ids", "windows",
           "ContiguousBatches"]

#: How the unknown character is written (Unicode's replacement character).
UNK = "\ufffd"


class Vocab:
    """Character vocabulary: ``itos`` lists the tokens, ``stoi`` maps them back to ids.

    Ids are ``specials`` first (multi-character tokens such as ``"<pad>"``), then the unknown
    token, then the characters in sorted order.
    """

    def __init__(self, chars: Iterable[str], *, specials: Sequence[str] = (), unk: str = UNK):
        if isinstance(chars, (np.ndarray, torch.Tensor)) or not isinstance(chars, Iterable):
            raise TypeError("chars must be a string or an iterable of characters, got "
                            f"{describe(chars)}")
        chars = list(chars)
        for ch in chars:
            if not isinstance(ch, str) or len(ch) != 1:
                raise ValueError(f"chars must be single characters, got {ch!r}")
        chars = sorted(set(chars))
        if isinstance(specials, str) or not isinstance(unk, str):
            raise TypeError("specials must be a list of tokens and unk a token (str), got "
                            f"specials={specials!r}, unk={unk!r}")
        specials = list(specials)
        tokens = [*specials, unk, *chars]
        if len(set(tokens)) != len(tokens):
            raise ValueError(f"specials, unk and chars must be distinct tokens, got specials="
                             f"{specials}, unk={unk!r}")
        self.specials = specials
        self.unk = unk
        self.itos = tokens
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        self.unk_id = len(specials)

    @classmethod
    def from_text(cls, text: str, *, min_count: int = 1, specials: Sequence[str] = (),
                  unk: str = UNK) -> Vocab:
        """Every character of ``text`` seen at least ``min_count`` times (rarer ones -> unk)."""
        if not text:
            raise ValueError("text is empty: a vocabulary needs at least one character")
        counts = Counter(text)
        return cls([c for c, n in counts.items() if n >= min_count and c != unk],
                   specials=specials, unk=unk)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token) -> bool:
        return token in self.stoi

    def __repr__(self) -> str:
        return f"Vocab({len(self)} tokens: {len(self.specials)} special, 1 unknown)"

    def index(self, token: str) -> int:
        """The id of a character or special token (KeyError names the known specials)."""
        if token not in self.stoi:
            raise KeyError(f"{token!r} is not in the vocabulary (specials: {self.specials})")
        return self.stoi[token]

    def encode(self, text: str, *, strict: bool = False) -> torch.Tensor:
        """Ids of the characters of ``text``, shape ``(T,)``; unknown ones get ``unk_id``.

        With ``strict=True`` an unknown character raises ``ValueError`` instead.
        """
        check_instance(text, "text", str)
        if strict:
            missing = sorted(set(text) - set(self.stoi))
            if missing:
                raise ValueError(f"text has characters not in the vocabulary: {missing[:10]}")
        get, unk = self.stoi.get, self.unk_id
        return torch.tensor([get(ch, unk) for ch in text], dtype=torch.long)  # (T,)

    def decode(self, ids) -> str:
        """The string of a 1-D sequence of ids (specials written as their token)."""
        ids = check_ids(ids)
        if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= len(self)):
            raise ValueError(f"ids must lie in 0..{len(self) - 1}, got "
                             f"{int(ids.min())}..{int(ids.max())}")
        return "".join(self.itos[i] for i in ids.tolist())


def python_docs_text(max_chars: int | None = None) -> str:
    """The English documentation of Python's keywords and topics, from ``pydoc_data.topics``.

    It ships with CPython (about 460,000 characters); topics are joined in sorted order so the
    text is the same on every run. ``max_chars`` keeps only the beginning.
    """
    try:
        from pydoc_data.topics import topics
    except ImportError as exc:  # some minimal Python builds leave pydoc_data out
        raise RuntimeError("this Python has no pydoc_data.topics; use dyck_corpus(...) or "
                           "any str you have instead") from exc
    text = "\n".join(topics[key].strip() for key in sorted(topics))
    if max_chars is not None:
        text = text[:max_chars]
    return text


def _check_pairs(pairs: str) -> dict[str, str]:
    if (not isinstance(pairs, str) or len(pairs) < 2 or len(pairs) % 2
            or len(set(pairs)) != len(pairs)):
        raise ValueError(f"pairs must be an even-length string of distinct characters such as "
                         f"'()[]', got {pairs!r}")
    return dict(zip(pairs[0::2], pairs[1::2]))


def dyck_word(rng: random.Random, *, pairs: str = "()[]", max_depth: int = 8,
              p_open: float = 0.5, max_len: int = 60, p_stop: float = 0.3) -> str:
    """One well-formed bracket word drawn with ``rng``.

    At depth 0 the word stops with probability ``p_stop`` (once it has a pair), else opens a
    bracket; deeper, it opens one with probability ``p_open`` (below ``max_depth`` and if there
    is room left in ``max_len``), else closes the innermost open bracket.
    """
    match = _check_pairs(pairs)
    openers = list(match)
    out, stack = [], []
    while True:
        if not stack:
            if len(out) + 2 > max_len or (out and rng.random() < p_stop):
                return "".join(out)
            stack.append(rng.choice(openers))
            out.append(stack[-1])
        elif (len(stack) < max_depth and len(out) + len(stack) + 2 <= max_len
              and rng.random() < p_open):
            stack.append(rng.choice(openers))
            out.append(stack[-1])
        else:
            out.append(match[stack.pop()])


def dyck_corpus(n_words: int, *, seed: int = 0, pairs: str = "()[]", max_depth: int = 8,
                p_open: float = 0.5, max_len: int = 60, sep: str = "\n") -> str:
    """``n_words`` bracket words (see :func:`dyck_word`), each followed by ``sep``."""
    check_float(p_open, "p_open", minimum=0.0, maximum=1.0)
    if not isinstance(sep, str) or len(sep) != 1 or sep in pairs:
        raise ValueError(f"sep must be one character that is not a bracket, got {sep!r}")
    rng = random.Random(seed)
    return "".join(dyck_word(rng, pairs=pairs, max_depth=max_depth, p_open=p_open,
                             max_len=max_len) + sep for _ in range(n_words))


def is_well_formed(word: str, pairs: str = "()[]") -> bool:
    """True if ``word`` is a non-empty string of brackets in which every bracket is closed by
    its own partner, innermost first (``"([])"`` yes; ``"([)]"``, ``"(("``, ``")("`` no)."""
    match = _check_pairs(pairs)
    closers = set(match.values())
    stack = []
    for ch in word:
        if ch in match:
            stack.append(match[ch])
        elif ch not in closers or not stack or stack.pop() != ch:
            return False
    return bool(word) and not stack


def well_formed_fraction(text: str, *, pairs: str = "()[]", sep: str = "\n") -> float:
    """Fraction of the complete words of ``text`` (those followed by ``sep``) that are
    well-formed; an empty word counts as malformed. Raises if ``text`` has no complete word."""
    words = text.split(sep)[:-1]
    if not words:
        raise ValueError(f"text has no complete word (no {sep!r} in it)")
    return sum(is_well_formed(w, pairs) for w in words) / len(words)


def opener_distances(text: str, pairs: str = "()[]") -> torch.Tensor:
    """For each position of ``text``: how far back the bracket it closes was opened, or -1.

    Position ``i`` holding a closing bracket whose partner sits at ``j`` gets ``i - j``;
    every other position (openers, separators, unmatched closers) gets -1. Shape ``(T,)``.
    """
    match = _check_pairs(pairs)
    closers = set(match.values())
    dist = torch.full((len(text),), -1, dtype=torch.long)
    stack = []
    for i, ch in enumerate(text):
        if ch in match:
            stack.append((match[ch], i))
        elif ch in closers and stack and stack[-1][0] == ch:
            dist[i] = i - stack.pop()[1]
        else:
            stack = []  # a separator or a mismatch ends the word
    return dist


def split_ids(ids, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """Split a stream into its beginning (training) and its end (validation), no shuffling."""
    ids = check_ids(ids)
    val_fraction = check_float(val_fraction, "val_fraction", minimum=0.0, maximum=1.0,
                               strict_min=True)
    n_val = int(round(len(ids) * val_fraction))
    if n_val < 2 or len(ids) - n_val < 2:
        raise ValueError(f"val_fraction={val_fraction} of {len(ids)} ids leaves fewer than 2 "
                         "ids on one side")
    return ids[:-n_val], ids[-n_val:]


def windows(ids, length: int, *, stride: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Windows of ``length`` ids and their next-id targets: ``x, y`` of shape ``(N, T)``.

    ``y[n, t] = x[n, t + 1]`` in the stream; windows start every ``stride`` ids (default
    ``length``: non-overlapping).
    """
    ids = check_ids(ids)
    T = check_int(length, "length", minimum=1)
    stride = T if stride is None else stride
    if len(ids) < T + 1:
        raise ValueError(f"a window of length {T} needs at least {T + 1} ids (inputs plus one "
                         f"target), got {len(ids)}")
    chunks = ids.unfold(0, T + 1, stride)          # (N, T + 1)
    return chunks[:, :-1], chunks[:, 1:]           # (N, T), (N, T)


class ContiguousBatches:
    """Consecutive ``(B, T)`` chunks of ``B`` parallel streams, for truncated BPTT.

    The stream is cut into ``batch_size`` equal rows, ``streams`` of shape ``(B, L)``; chunk
    ``k`` is ``streams[:, kT : (k+1)T]`` with targets shifted by one. Carry the recurrent
    state from chunk ``k`` to chunk ``k + 1``: row ``b`` continues where it stopped.
    """

    def __init__(self, ids, batch_size: int, bptt: int):
        ids = check_ids(ids)
        self.batch_size = check_int(batch_size, "batch_size", minimum=1)
        self.bptt = check_int(bptt, "bptt", minimum=1)
        L = len(ids) // self.batch_size
        if L < self.bptt + 1:
            raise ValueError(f"{len(ids)} ids give {self.batch_size} streams of {L}; a chunk of "
                             f"bptt={self.bptt} needs streams of at least {self.bptt + 1}")
        self.streams = ids[: L * self.batch_size].view(self.batch_size, L)   # (B, L)

    def __len__(self) -> int:
        return (self.streams.shape[1] - 1) // self.bptt

    def __getitem__(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        k = check_int(k, "k", minimum=-len(self), maximum=len(self) - 1) % len(self)
        start = k * self.bptt
        x = self.streams[:, start: start + self.bptt]          # (B, T)
        y = self.streams[:, start + 1: start + self.bptt + 1]  # (B, T)
        return x, y

    def __iter__(self):
        return (self[k] for k in range(len(self)))
