"""Text from a language model: prompt -> tokens, with temperature and top-k, seeded.

A language model maps (T,) token ids to next-token scores at every step (T, vocabulary). The
prompt sits at the start of the window (causal attention never looks at the padding after it);
once the text is longer than the window, the window slides. ``TextSamples`` writes text from
fixed prompts each epoch while a language model trains (``samples/epoch_NNN.txt``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from studio.core import fileio
from studio.core.data.tokenize import Vocabulary, dataset_vocabulary
from studio.core.generative.parts import GenerativeError
from studio.core.params import ParamSpec
from studio.core.training.callbacks import Hooks

VOCABULARY_FILE = "vocabulary.json"
MAX_NEW_TOKENS = 10_000
GENERATION_FIELDS = [
    ParamSpec("tokens", "int", 100, "How many tokens to write after the prompt.", 1, MAX_NEW_TOKENS),
    ParamSpec("temperature", "float", 0.8, "Below 1: safer, repetitive text; above 1: more surprising; "
              "0: always the likeliest token.", 0.0, 5.0, step=0.1),
    ParamSpec("top_k", "int", 5, "Sample among the K likeliest tokens only (0: all).", 0, 10_000, label="Top-k"),
    ParamSpec("seed", "int", 0, "Random seed: the same seed and settings write the same text.", 0, 2**31 - 1),
]
_DEFAULTS = {spec.name: spec.default for spec in GENERATION_FIELDS}


def is_language_model(dataset) -> bool:
    """Token inputs whose targets are the next token at every step (a corpus, not masked)."""
    return (bool(dataset.normalization.get("tokens")) and dataset.y_train.shape == dataset.x_train.shape
            and dataset.normalization.get("objective") != "mlm" and dataset_vocabulary(dataset) is not None)


def next_token(scores: np.ndarray, temperature: float, top_k: int, rng: np.random.Generator,
               logits: bool = True) -> int:
    """Sample one id from one step's scores (logits or probabilities); temperature 0 = argmax."""
    scores = np.asarray(scores, np.float64)
    if not logits:
        scores = np.log(np.maximum(scores, 1e-12))
    scores[:2] = -np.inf  # never write padding or the unknown token
    if temperature <= 0:
        return int(np.argmax(scores))
    scores = scores / temperature
    if 0 < top_k < len(scores):
        cutoff = np.partition(scores, -top_k)[-top_k]
        scores = np.where(scores >= cutoff, scores, -np.inf)
    probabilities = np.exp(scores - scores.max())
    return int(rng.choice(len(scores), p=probabilities / probabilities.sum()))


def generate(model, vocabulary: Vocabulary, prompt: str, tokens: int,
             temperature: float = _DEFAULTS["temperature"], top_k: int = _DEFAULTS["top_k"],
             seed: int = _DEFAULTS["seed"]) -> str:
    """``prompt`` followed by ``tokens`` generated tokens, as text."""
    return generate_many(model, vocabulary, [prompt], tokens, temperature, top_k, [seed])[0]


def generate_many(model, vocabulary: Vocabulary, prompts: list[str], tokens: int,
                  temperature: float = _DEFAULTS["temperature"], top_k: int = _DEFAULTS["top_k"],
                  seeds: list[int] | None = None) -> list[str]:
    """``generate`` for several prompts in one batch per step (each row with its own seeded
    generator, so every text equals ``generate`` of its prompt alone).

    Args:
        model: a next-token language model (token ids in, per-position scores out).
        vocabulary: the run's vocabulary.
        prompts: the start texts; an empty one starts from a space (characters) or id 1 (words).
        tokens: tokens to add to each, 0 to ``MAX_NEW_TOKENS``.
        temperature: sampling temperature.
        top_k: sample among the k most likely tokens; 0 for all.
        seeds: one seed per prompt; default 0, 1, 2...

    Returns:
        One text per prompt: the prompt followed by its generated tokens.

    Raises:
        GenerativeError: ``tokens`` out of range, or a negative temperature or top-k.
    """
    if not 0 <= tokens <= MAX_NEW_TOKENS:
        raise GenerativeError(f"the number of tokens must be between 0 and {MAX_NEW_TOKENS}, got {tokens}")
    if temperature < 0 or top_k < 0:
        raise GenerativeError("temperature and top-k must not be negative")
    window = int(model.inputs[0].shape[1])
    empty = [vocabulary.ids(" ")[0] if vocabulary.level == "char" else 1]
    rows = [vocabulary.ids(prompt) or list(empty) for prompt in prompts]
    starts = [len(ids) for ids in rows]
    rngs = [np.random.default_rng(seed) for seed in (seeds or range(len(prompts)))]
    logits = _outputs_logits(model)
    batch = np.zeros((len(rows), window), np.int32)
    for _ in range(tokens):
        batch[:] = 0
        for row, ids in enumerate(rows):
            context = ids[-window:]
            batch[row, :len(context)] = context
        scores = np.asarray(model.predict_on_batch(batch))  # compiled: fast per token
        for row, ids in enumerate(rows):
            ids.append(next_token(scores[row, min(len(ids), window) - 1], temperature, top_k, rngs[row], logits))
    return [vocabulary.decode(ids[:start]) + _joiner(vocabulary, start) + vocabulary.decode(ids[start:])
            for ids, start in zip(rows, starts)]


def _joiner(vocabulary: Vocabulary, start: int) -> str:
    return " " if vocabulary.level == "word" and start else ""


def _outputs_logits(model) -> bool:
    activation = getattr(model.layers[-1], "activation", None)
    return getattr(activation, "__name__", "linear") != "softmax"


def save_vocabulary(run_dir, vocabulary: Vocabulary) -> None:
    fileio.atomic_write_json(Path(run_dir) / VOCABULARY_FILE, {"level": vocabulary.level,
                                                               "tokens": vocabulary.tokens})


def run_vocabulary(run_dir) -> Vocabulary:
    """The vocabulary a language-model run was trained with (written when it started)."""
    path = Path(run_dir) / VOCABULARY_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Vocabulary(list(data["tokens"]), data["level"])
    except FileNotFoundError:
        raise GenerativeError(f"{run_dir} has no {VOCABULARY_FILE}: it is not a language-model run "
                              "(train a model on a text corpus, e.g. the tiny_gpt template)") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise GenerativeError(f"{path} is damaged ({exc}); train the run again") from None


def load_language_model(run_dir, which: str = "auto"):
    """The run's model (``which``: auto = final, else best/last checkpoint), through the one safe
    loader: size cap, and Lambda/custom/unknown layers refused before Keras deserializes anything.

    Args:
        run_dir: a language-model run folder.
        which: auto, final, best or last.

    Returns:
        The Keras model.

    Raises:
        GenerativeError: no model file yet, or one the safe loader refuses.
    """
    from studio.core.inspect.errors import InspectError
    from studio.core.inspect.runs import load_run_model

    try:
        return load_run_model(run_dir, which)
    except InspectError as exc:
        raise GenerativeError(str(exc)) from None


class TextSamples(Hooks):
    """Each epoch: text from fixed prompts -> ``samples/epoch_NNN.txt`` + a ``samples`` event."""

    def __init__(self, folder, vocabulary: Vocabulary, prompts: list[str], tokens: int = 60,
                 temperature: float = _DEFAULTS["temperature"], top_k: int = _DEFAULTS["top_k"]) -> None:
        self.folder, self.vocabulary, self.prompts = folder, vocabulary, prompts
        self.tokens, self.temperature, self.top_k = tokens, temperature, top_k

    def on_train_begin(self, logs=None):
        save_vocabulary(self.folder.path, self.vocabulary)

    def on_epoch_end(self, epoch, logs=None):
        # one batch per step for all prompts: half the per-epoch cost of one prompt at a time
        texts = generate_many(self.model, self.vocabulary, self.prompts, self.tokens, self.temperature, self.top_k)
        relative = f"samples/epoch_{epoch + 1:03d}.txt"
        (self.folder.path / "samples").mkdir(exist_ok=True)
        fileio.atomic_write_text(self.folder.path / relative, "\n\n".join(texts) + "\n")
        self.folder.emit("samples", epoch=epoch + 1, path=relative, kind="text")


def fixed_prompts(dataset, count: int = 2, length: int = 8) -> list[str]:
    """Prompts for the live samples: the starts of the first validation (else training) windows."""
    vocabulary = dataset_vocabulary(dataset)
    x = dataset.x_val if len(dataset.x_val) else dataset.x_train
    return [vocabulary.decode(row[:length]) for row in x[:count]]
