"""Text sources: a folder of .txt files per class, a CSV text column, one .txt corpus for language
modelling, and IMDB / Reuters from Keras's download cache (never the network).

Classification texts are tokenized after splitting, with the vocabulary fitted on the training
split only; inputs are int32 token ids (N, max_length), labels class indices. A corpus becomes
windows of ``max_length`` token ids whose targets are the next token at every step (N, T), or with
``objective: mlm`` masked windows whose targets are the hidden tokens (0 elsewhere, ignored).
"""

from __future__ import annotations

import codecs
import csv
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.keras_cache import _KERAS_URL, _RestrictedUnpickler, _missing, keras_datasets_dir
from studio.core.data.raw import RawData, encode_labels, existing_path, task_for_classes
from studio.core.data.source_options import source_option
from studio.core.data.tokenize import Vocabulary, fit_vocabulary, token_normalization, vocabulary_report
from studio.core.fileio import read_prefix
from studio.core.formatting import size_bytes

MASK_TOKEN = "[MASK]"
MASKED_SHARE = 0.15
MAX_DOCUMENT_CHARS = 100_000  # longer documents (or lines) are cut and reported
MAX_DOCUMENTS = 500_000
MAX_FIELD_CHARS = 4 * MAX_DOCUMENT_CHARS  # one text CSV field (its document is cut to the above)
MAX_TEXT_BYTES = 64 << 20  # a corpus or a text CSV is read up to this size; the rest is cut and reported
KERAS_TEXT = {"imdb": ["negative", "positive"], "reuters": [f"topic {k}" for k in range(46)]}


def _text_options(spec: dict, source: str) -> tuple[str, int | None, int]:
    """``(level, max_tokens or None for no limit, max_length)`` as ``source`` declares them."""
    level = source_option(spec, source, "level") if source != "keras_text" else "word"
    max_tokens = source_option(spec, source, "max_tokens") or None
    return level, max_tokens, source_option(spec, source, "max_length")


def _read_text(path: Path, name: str, max_bytes: int, report: list[str]) -> str:
    """The UTF-8 text of the regular file ``path``, reading at most ``max_bytes``: a longer file is
    cut at its last line end within them, and the cut is reported. Raises DataError naming ``name``."""
    try:
        raw, size = read_prefix(path, max_bytes)
    except ValueError as exc:  # a device, a FIFO, a folder
        raise DataError(f"{name} is {exc}") from None
    except OSError as exc:
        raise DataError(f"cannot read {name} ({exc.strerror or exc})") from None
    cut = size > len(raw)
    if cut:
        raw = raw[: raw.rfind(b"\n") + 1] or raw
        report.append(f"{name}: read its first {size_bytes(len(raw))} of {size_bytes(size)}; the rest is ignored")
    try:  # a cut can split a character: only a complete file must end on a whole one
        return codecs.getincrementaldecoder("utf-8-sig")().decode(raw, final=not cut)
    except UnicodeDecodeError as exc:
        raise DataError(f"{name} is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None


def _cut(text: str, name: str, report: list[str]) -> str:
    if len(text) > MAX_DOCUMENT_CHARS:
        report.append(f"{name}: cut to its first {MAX_DOCUMENT_CHARS} characters")
        return text[:MAX_DOCUMENT_CHARS]
    return text


def texts_raw(texts: list[str], labels: np.ndarray, class_names: list[str], spec: dict,
              report: list[str], task: str | None = None) -> RawData:
    """RawData of documents whose ``encode`` fits the vocabulary on the training split."""
    level, max_tokens, length = _text_options(spec, spec.get("source", "text_folder"))
    if not texts:
        raise DataError("no documents with text were found; add non-empty .txt files or rows")

    def encode(parts, mode):
        train = [str(t) for t in parts["train"]]
        vocabulary = fit_vocabulary(train, level, max_tokens)
        encoded, notes = {}, []
        for name, docs in parts.items():
            docs = [str(t) for t in docs]
            encoded[name], truncated = vocabulary.encode(docs, length)
            if name == "train":
                notes = vocabulary_report(vocabulary, docs, length, truncated)
            elif truncated:
                notes.append(f"{name}: truncated {truncated} text(s) longer than {length} tokens")
        return encoded, token_normalization(vocabulary), (0.0, float(len(vocabulary) - 1)), notes, []

    return RawData(x=np.array(texts, dtype=object), y=labels, task=task or task_for_classes(class_names),
                   class_names=class_names, report=report, encode=encode)


def load_text_folder(spec: dict) -> RawData:
    """``path/<class>/*.txt``: one document per file, the sub-folder names the class."""
    root = existing_path(spec, folder=True)
    report: list[str] = []
    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    texts, labels = [], []
    for label, name in enumerate(classes):
        for path in sorted((root / name).glob("*.txt")):
            where = f"{name}/{path.name}"
            try:  # at most 4 UTF-8 bytes a character
                text = _cut(_read_text(path, where, 4 * MAX_DOCUMENT_CHARS, []), where, report)
            except DataError as exc:  # one unreadable document costs only itself, as an image does
                report.append(f"skipped {exc}")
                continue
            if not text.strip():
                report.append(f"skipped empty document {where}")
                continue
            texts.append(text)
            labels.append(label)
            if len(texts) > MAX_DOCUMENTS:
                raise DataError(f"{root} holds more than {MAX_DOCUMENTS} documents; use a smaller folder")
    if not classes:
        raise DataError(f"{root} has no sub-folders: put each class's .txt files in a folder named after it")
    return texts_raw(texts, np.array(labels, np.int32), classes, spec, report)


def load_text_csv(spec: dict) -> RawData:
    """A CSV with a header: ``text`` names the text column, ``target`` the label (default: last)."""
    path = existing_path(spec)
    report: list[str] = []
    content = _read_text(path, path.name, MAX_TEXT_BYTES, report)
    csv.field_size_limit(MAX_FIELD_CHARS)  # process-wide, so set before each use (tables set theirs)
    try:
        rows = list(csv.reader(io.StringIO(content)))
    except csv.Error as exc:  # e.g. a field over that limit
        raise DataError(f"{path.name}: unreadable CSV ({exc})") from None
    if len(rows) < 2:
        raise DataError(f"{path.name} needs a header row and at least one data row")
    header, rows = [h.strip() for h in rows[0]], rows[1:]
    text_col = source_option(spec, "text_csv", "text") or header[0]
    target_col = source_option(spec, "text_csv", "target") or header[-1]
    for column in (text_col, target_col):
        if column not in header:
            raise DataError(f"{path.name}: no column {column!r}; columns are {', '.join(header)}")
    ti, yi = header.index(text_col), header.index(target_col)
    texts, targets = [], []
    for number, row in enumerate(rows, start=2):
        text = row[ti] if len(row) > ti else ""
        target = row[yi].strip() if len(row) > yi else ""
        if not text.strip() or not target:
            report.append(f"skipped row {number}: empty {'text' if not text.strip() else 'target'}")
            continue
        texts.append(_cut(text, f"{path.name} row {number}", report))
        targets.append(target)
    labels, names = encode_labels(np.array(targets, dtype=object).astype(str))
    return texts_raw(texts, labels, names, spec, report)


def load_corpus(spec: dict) -> RawData:
    """One .txt file for language modelling: windows of ``max_length`` tokens -> next tokens."""
    path = existing_path(spec)
    report: list[str] = []
    text = _read_text(path, path.name, MAX_TEXT_BYTES, report)
    lines = [_cut(line, f"{path.name} line {n}", report) for n, line in enumerate(text.split("\n"), 1)]
    return corpus_raw("\n".join(lines), spec, report)


def corpus_raw(text: str, spec: dict, report: list[str]) -> RawData:
    """Next-token windows over ``text``; the vocabulary is the classes of the per-step targets."""
    level, max_tokens, length = _text_options(spec, "corpus")
    stride = source_option(spec, "corpus", "stride") or max(1, length // 2)
    if not text.strip():
        raise DataError("the corpus is empty; give it some text")
    vocabulary = fit_vocabulary([text], level, max_tokens)
    ids = np.asarray(vocabulary.ids(text), np.int32)
    if len(ids) < length + 2:
        raise DataError(f"the corpus has {len(ids)} tokens: it needs more than max_length + 1 "
                        f"({length + 1}); add text or lower max_length")
    starts = np.arange(0, len(ids) - length, stride)
    windows = ids[starts[:, None] + np.arange(length + 1)]
    report.extend(vocabulary_report(vocabulary, [text], len(ids), 0)[:-1])
    report.append(f"corpus: {len(ids)} tokens")
    x, y = windows[:, :-1], windows[:, 1:]
    if source_option(spec, "corpus", "objective") == "mlm":
        vocabulary = Vocabulary([*vocabulary.tokens, MASK_TOKEN], vocabulary.level)
        x, y = mask_tokens(x, len(vocabulary) - 1, len(vocabulary), np.random.default_rng(spec.get("seed") or 0))
        report.append(f"{len(starts)} windows of {length} tokens (stride {stride}); masked language model: "
                      f"{MASKED_SHARE:.0%} of the tokens are hidden and predicted, the rest are ignored")
    else:
        report.append(f"{len(starts)} windows of {length} tokens (stride {stride}); target: the next token at each step")
    normalization = {**token_normalization(vocabulary), "objective": source_option(spec, "corpus", "objective")}

    def encode(parts, mode):
        return parts, normalization, (0.0, float(len(vocabulary) - 1)), [], []

    return RawData(x=x, y=y, task="classification", class_names=list(vocabulary.tokens), report=report,
                   encode=encode)


def mask_tokens(x: np.ndarray, mask_id: int, size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """BERT's masking: 15% of the non-padding tokens are chosen (at least one per row); of those 80%
    become ``mask_id``, 10% a random token, 10% stay. Targets: the original token where chosen,
    0 (padding, ignored by the loss) elsewhere."""
    chosen = (rng.random(x.shape) < MASKED_SHARE) & (x != 0)
    rows = np.flatnonzero(~chosen.any(axis=1) & (x != 0).any(axis=1))
    for row in rows:
        chosen[row, rng.choice(np.flatnonzero(x[row] != 0))] = True
    y = np.where(chosen, x, 0).astype(x.dtype)
    roll = rng.random(x.shape)
    masked = np.where(chosen & (roll < 0.8), mask_id, x)
    masked = np.where(chosen & (roll >= 0.8) & (roll < 0.9), rng.integers(2, mask_id, x.shape), masked)
    return masked.astype(x.dtype), y


def load_keras_text(spec: dict) -> RawData:
    """IMDB (sentiment) or Reuters (46 topics) as Keras caches them: word ids, already tokenized."""
    name = source_option(spec, "keras_text", "name")
    _, max_tokens, length = _text_options(spec, "keras_text")
    max_tokens = max_tokens or 20_000
    path = keras_datasets_dir() / f"{name}.npz"
    if not path.is_file():
        raise _missing(name, path, _KERAS_URL + f"{name}.npz", f"save it as {path}")
    arrays = _read_object_npz(path)
    if name == "reuters":  # one array; keras.datasets.reuters keeps the last 20% for testing
        xs, ys = arrays["x"], arrays["y"]
        cut = int(len(xs) * 0.8)
        x, y, x_test, y_test = xs[:cut], ys[:cut], xs[cut:], ys[cut:]
    else:
        x, y, x_test, y_test = (arrays[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    # Keras shifts word ids by 3 (0 padding, 1 start, 2 unknown); ids >= max_tokens become 2.
    report = [f"{name}: word ids from Keras's cache, vocabulary {max_tokens}, length {length}",
              f"{name}: the official test set ({len(y_test)} texts) is the test split"]
    train_ids, cut_train = _pad_ids(x, max_tokens, length)
    test_ids, _ = _pad_ids(x_test, max_tokens, length)
    if cut_train:
        report.append(f"truncated {cut_train} of {len(x)} training text(s) longer than {length} tokens")
    names = KERAS_TEXT[name][: int(max(y.max(), y_test.max())) + 1]

    def encode(parts, mode):
        return parts, {"mode": "none", "tokens": True}, (0.0, float(max_tokens - 1)), [], []

    return RawData(x=train_ids, y=np.asarray(y, np.int32), task=task_for_classes(names), class_names=names,
                   test=(test_ids, np.asarray(y_test, np.int32)), report=report, encode=encode)


def _pad_ids(sequences, max_tokens: int, length: int) -> tuple[np.ndarray, int]:
    out = np.zeros((len(sequences), length), np.int32)
    truncated = 0
    for row, ids in enumerate(sequences):
        ids = np.asarray(ids[:length], np.int64)
        truncated += len(sequences[row]) > length
        out[row, :len(ids)] = np.where(ids < max_tokens, ids, 2)
    return out, truncated


def _read_object_npz(path) -> dict[str, np.ndarray]:
    """Arrays of a Keras text .npz (object arrays of id lists) without running pickled code."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                with archive.open(member) as handle:
                    version = np.lib.format.read_magic(handle)
                    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                                   else np.lib.format.read_array_header_2_0)
                    shape, _, dtype = read_header(handle)
                    raw = handle.read()
                if dtype.hasobject:
                    arrays[member.removesuffix(".npy")] = _RestrictedUnpickler(io.BytesIO(raw)).load()
                else:
                    arrays[member.removesuffix(".npy")] = np.frombuffer(raw, dtype).reshape(shape)
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise DataError(f"{path} is not a valid Keras text dataset ({exc}); delete it and download it again") from None
    return arrays
