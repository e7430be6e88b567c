"""Text -> token ids: a vocabulary fitted on the training texts, word or character level.

The vocabulary follows Keras's ``TextVectorization`` rules (id 0 = padding, 1 = unknown, then
tokens by falling count, ties like TextVectorization) in plain Python, so every backend fits the
same one, TensorFlow installed or not. Encoding and decoding always go through ``Vocabulary`` so
datasets, prompts and generated text agree.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.source_options import TEXT_LEVELS as LEVELS

PAD, UNKNOWN = "", "[UNK]"
MAX_VOCABULARY = 1_000_000
# TextVectorization's "lower_and_strip_punctuation" (word level); characters are kept as they are.
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')


def split_tokens(text: str, level: str) -> list[str]:
    """The tokens of ``text``: lower-cased words without punctuation, or every character."""
    if level == "char":
        return list(text)
    return _PUNCTUATION.sub("", text.lower()).split()


@dataclass
class Vocabulary:
    """Tokens by id (``tokens[0]`` is padding, ``tokens[1]`` the unknown token) at one level."""

    tokens: list[str]
    level: str

    def __post_init__(self) -> None:
        self._ids = {token: index for index, token in enumerate(self.tokens)}

    def __len__(self) -> int:
        return len(self.tokens)

    def ids(self, text: str) -> list[int]:
        """Token ids of ``text`` (unknown tokens -> 1), no padding."""
        return [self._ids.get(token, 1) for token in split_tokens(text, self.level)]

    def encode(self, texts: list[str], length: int) -> tuple[np.ndarray, int]:
        """int32 (N, length) ids, zero-padded at the end; and how many texts were truncated."""
        out = np.zeros((len(texts), length), np.int32)
        truncated = 0
        for row, text in enumerate(texts):
            ids = self.ids(text)
            truncated += len(ids) > length
            ids = ids[:length]
            out[row, :len(ids)] = ids
        return out, truncated

    def decode(self, ids) -> str:
        """Text of ``ids`` (padding dropped; words joined by spaces)."""
        tokens = [self.tokens[i] if 0 <= i < len(self.tokens) else UNKNOWN for i in map(int, ids) if i != 0]
        return "".join(tokens) if self.level == "char" else " ".join(tokens)


def fit_vocabulary(texts: list[str], level: str, max_tokens: int | None) -> Vocabulary:
    """The vocabulary of ``texts``.

    Args:
        texts: the training texts.
        level: "word" or "char".
        max_tokens: at most this many ids, padding and unknown included (None: every token).

    Returns:
        The Vocabulary: padding, unknown, then tokens by falling count.
    """
    if level not in LEVELS:
        raise DataError(f"level must be one of {', '.join(LEVELS)}, got {level!r}")
    if max_tokens is not None and not 3 <= max_tokens <= MAX_VOCABULARY:
        raise DataError(f"max_tokens must be between 3 and {MAX_VOCABULARY}, got {max_tokens}")
    counts = Counter(token for text in texts for token in split_tokens(text, level))
    ranked = [token for token, _ in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)]
    keep = None if max_tokens is None else max_tokens - 2
    return Vocabulary([PAD, UNKNOWN, *ranked[:keep]], level)


def vocabulary_report(vocabulary: Vocabulary, texts: list[str], length: int, truncated: int) -> list[str]:
    """Report lines: tokenizer level, vocabulary size (and overflow), sequence lengths, truncation."""
    split = [split_tokens(text, vocabulary.level) for text in texts]
    lengths = np.array([len(tokens) for tokens in split] or [0])
    distinct = len({token for tokens in split for token in tokens})
    lines = [f"tokenizer: TextVectorization's rules, {vocabulary.level} level",
             f"vocabulary: {len(vocabulary)} tokens (0 = padding, 1 = unknown)"]
    if distinct + 2 > len(vocabulary):
        lines.append(f"vocabulary overflow: {distinct} distinct tokens, the {distinct + 2 - len(vocabulary)} "
                     "rarest map to [UNK] (raise max_tokens to keep more)")
    lines.append(f"sequence length: min {lengths.min()}, median {int(np.median(lengths))}, "
                 f"max {lengths.max()} tokens; padded/truncated to {length}")
    if truncated:
        lines.append(f"truncated {truncated} of {len(texts)} text(s) longer than {length} tokens "
                     "(raise max_length to keep more)")
    return lines


def dataset_vocabulary(dataset) -> Vocabulary | None:
    """The vocabulary a text dataset was encoded with (kept in its ``normalization``), or None."""
    info = dataset.normalization if hasattr(dataset, "normalization") else dataset
    tokens = (info or {}).get("vocabulary")
    return Vocabulary(list(tokens), info.get("level", "word")) if tokens else None


def token_normalization(vocabulary: Vocabulary) -> dict:
    """The ``normalization`` record of token-id inputs: not scaled, with the vocabulary to decode."""
    return {"mode": "none", "tokens": True, "level": vocabulary.level, "vocabulary": list(vocabulary.tokens)}
