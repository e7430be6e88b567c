"""Sequence data: offline built-ins written by us (seeded) and (N, T, F) arrays from NPZ files.

Built-ins (source ``sequences``, option ``name``):
- ``signals``: noisy sums of sines (N, T, 1) -> the next ``horizon`` values (many-to-one regression);
- ``signals_steps``: the same signals -> the next value at every step (N, T, 1) (many-to-many);
- ``reverse``: digit strings -> the same digits reversed (seq2seq, per-step classes);
- ``dates``: ``MM/DD/YYYY`` -> ``YYYY-MM-DD`` (seq2seq, per-step classes);
- ``grammar``: a character corpus from a small grammar of our own, for language modelling.
Targets per time step have shape (N, T) (class ids) or (N, T, F) (values).
"""

from __future__ import annotations

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.raw import RawData, option
from studio.core.data.source_options import source_option
from studio.core.data.text import corpus_raw
from studio.core.data.tokenize import PAD, UNKNOWN, Vocabulary, token_normalization

DIGITS = Vocabulary([PAD, UNKNOWN, *"0123456789/-"], "char")

_SUBJECTS = ("the cat", "a dog", "the old man", "my sister", "a small bird", "the robot", "our teacher")
_VERBS = ("sees", "likes", "follows", "draws", "finds", "helps", "watches")
_OBJECTS = ("the ball", "a red box", "the moon", "a green tree", "the river", "a paper boat", "the door")
_ENDINGS = ("", " today", " at night", " in the park", " again", " slowly")


def _unscaled(parts, mode):
    return parts, {"mode": "none"}, (float(parts["train"].min()), float(parts["train"].max())), [], []


def load_sequences(spec: dict) -> RawData:
    """One of the built-in sequence sets (``source_options.BUILTIN_SEQUENCES``), deterministic by ``seed``."""
    name = source_option(spec, "sequences", "name")
    rng = np.random.default_rng(option(spec, "seed", 0, int))
    samples = source_option(spec, "sequences", "samples")
    if name == "grammar":
        sentences = [_sentence(rng) for _ in range(samples)]
        return corpus_raw(" ".join(sentences), {**spec, "level": "char", "max_tokens": 0}, [])
    if name in ("reverse", "dates"):
        return _seq2seq(name, samples, rng, spec)
    length = source_option(spec, "sequences", "length") or 48
    noise = source_option(spec, "sequences", "noise")
    horizon = source_option(spec, "sequences", "horizon")
    total = length + (horizon if name == "signals" else 1)
    signal = _signals(samples, total, noise, rng)
    x = signal[:, :length, None]
    if name == "signals":
        y, what = signal[:, length:], f"the next {horizon} value(s) (many-to-one)"
    else:
        y, what = signal[:, 1:, None], "the next value at every step (many-to-many)"
    report = [f"{samples} noisy periodic signals of {length} steps; target: {what}"]
    return RawData(x=x, y=y.astype(np.float32), task="regression", class_names=[], report=report,
                   encode=_unscaled)


def _signals(count: int, steps: int, noise: float, rng: np.random.Generator) -> np.ndarray:
    """float32 (count, steps): two sines with random periods, phases and amplitudes, plus noise."""
    t = np.arange(steps)[None, :]
    out = np.zeros((count, steps))
    for _ in range(2):
        period = rng.uniform(6, 30, (count, 1))
        out += rng.uniform(0.3, 1.0, (count, 1)) * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi, (count, 1)))
    return (out + rng.normal(0, noise, out.shape)).astype(np.float32)


def _seq2seq(name: str, samples: int, rng: np.random.Generator, spec: dict) -> RawData:
    if name == "reverse":
        length = source_option(spec, "sequences", "length") or 8
        digits = rng.integers(0, 10, (samples, length))
        sources = ["".join(map(str, row)) for row in digits]
        targets = [text[::-1] for text in sources]
        what = f"{length}-digit strings -> reversed"
    else:
        days = rng.integers(0, 365 * 200, samples)
        dates = np.datetime64("1900-01-01") + days.astype("timedelta64[D]")
        targets = [str(d) for d in dates]
        sources = [f"{t[5:7]}/{t[8:10]}/{t[:4]}" for t in targets]
        what = "MM/DD/YYYY -> YYYY-MM-DD"
    width = max(len(t) for t in sources + targets)
    x, _ = DIGITS.encode(sources, width)
    y, _ = DIGITS.encode(targets, width)

    def encode(parts, mode):
        return parts, token_normalization(DIGITS), (0.0, float(len(DIGITS) - 1)), [], []

    report = [f"{samples} pairs, {what}; {width} characters in and out, one class per output step"]
    return RawData(x=x, y=y, task="classification", class_names=list(DIGITS.tokens), report=report, encode=encode)


def _sentence(rng: np.random.Generator) -> str:
    pick = lambda words: words[rng.integers(len(words))]  # noqa: E731
    clause = f"{pick(_SUBJECTS)} {pick(_VERBS)} {pick(_OBJECTS)}{pick(_ENDINGS)}"
    if rng.random() < 0.3:
        clause += f" and {pick(_VERBS)} {pick(_OBJECTS)}"
    return clause + "."


def is_sequence_array(x: np.ndarray, y: np.ndarray, spec: dict) -> bool:
    """Whether a 3-D array is sequences (N, T, F) rather than gray images: ``kind`` says so, or
    (``auto``) it has negative values or its targets have one value per time step."""
    kind = source_option(spec, spec.get("source", "npz"), "kind")
    if x.ndim != 3 or kind == "image":
        return False
    per_step = y.ndim >= 2 and y.shape[1] == x.shape[1] and (y.ndim == 3 or y.shape[1] > 1)
    return kind == "sequence" or per_step or bool(np.nanmin(x) < 0)


def npz_sequences(x: np.ndarray, y: np.ndarray, file_name: str, task: str) -> RawData:
    """(N, T, F) float sequences with per-sample targets (N,) / (N, D), or per-step targets
    (N, T) / (N, T, F'): integer per-step targets are classes unless ``task`` is regression."""
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)) or not np.all(np.isfinite(y)):
        raise DataError(f"{file_name}: the arrays contain NaN or infinite values")
    per_step = y.ndim >= 2 and y.shape[1] == x.shape[1] and (y.ndim == 3 or task != "regression")
    whole = np.all(y == np.round(y))
    if task == "classification" or task == "auto" and whole and (y.ndim == 1 or per_step and y.ndim == 2):
        if y.ndim not in (1, 2) or not whole or y.min() < 0:
            raise DataError(f"{file_name}: class targets must be whole numbers >= 0 of shape (N,) or (N, T), "
                            f"got {y.shape}")
        count = int(y.max()) + 1
        if count < 2:
            raise DataError(f"{file_name}: classification needs at least two classes, found {count}")
        names = [str(k) for k in range(count)]
        kind = "binary" if count == 2 and y.ndim == 1 else "classification"
        labels = y.astype(np.int32)
    else:
        names, kind, labels = [], "regression", y.astype(np.float32)
    report = [f"{file_name}: {len(x)} sequences of {x.shape[1]} steps x {x.shape[2]} features; "
              f"target {'per time step' if per_step else 'per sequence'} of shape {tuple(y.shape[1:])}"]
    return RawData(x=x, y=labels, task=kind, class_names=names, report=report, encode=_unscaled)
