"""CSV tables (target column, one-hot categories, imputed gaps) and NPZ / .npy arrays (``x``, ``y``).

Inputs over the memory limit (``max_array_bytes``) are streamed: .npy files and uncompressed NPZ
members memory-mapped (``arrays.ArrayStore``), large CSV converted once to cached .npy files
(``csv_stream``). Smaller ones are held in memory as float32; the report says when inputs are streamed.
"""

from __future__ import annotations

import contextlib
import csv
import os
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from studio.core.data.arrays import ArrayStore, file_stamp, npz_member_memmap
from studio.core.data.dataset import DataError
from studio.core.data.raw import MISSING, RawData, encode_labels, existing_path, task_for_classes
from studio.core.data.sequences import is_sequence_array, npz_sequences
from studio.core.data.source_options import source_option
from studio.core.fileio import open_regular, zip_bomb_problem

MAX_CLASSES_AUTO = 20  # an integer target with more distinct values is treated as regression
MAX_CATEGORIES = 50
MAX_FIELD_CHARS = 1 << 20  # one CSV field (the csv module's default limit is 131,072)
MAX_LINE_CHARS = 16 << 20  # one line of a CSV (many fields)
MAX_CSV_BYTES = 512 << 20  # a CSV is parsed in memory up to this size; larger ones are streamed
CSV_MEMORY_FACTOR = 10  # parsed in memory, a CSV takes about 10x its size in Python objects
MAX_ARRAY_BYTES_ENV = "DL_STUDIO_DATA_MAX_BYTES"
_MAX_ARRAY_BYTES = 4 << 30  # float32 inputs held in memory


def max_array_bytes() -> int:
    """The most bytes of float32 inputs loaded in memory (``$DL_STUDIO_DATA_MAX_BYTES``)."""
    try:
        return int(os.environ.get(MAX_ARRAY_BYTES_ENV, _MAX_ARRAY_BYTES))
    except ValueError:
        return _MAX_ARRAY_BYTES


def _targets(values: np.ndarray, numeric: bool, task: str, where: str):
    """``(y, task, class_names)`` from target values (strings or numbers)."""
    if task == "regression" or task == "auto" and numeric and not _few_integers(values):
        if not numeric:
            raise DataError(f"{where} has text values, so it cannot be a regression target; use task classification")
        return values.astype(np.float32), "regression", []
    if numeric and np.all(values == np.round(values)):
        values = values.astype(np.int64)  # class "3", not "3.0"
    y, names = encode_labels(values)
    return y, task_for_classes(names), names


def _few_integers(values: np.ndarray) -> bool:
    floats = values.astype(np.float64)
    return bool(np.all(floats == np.round(floats))) and len(np.unique(floats)) <= MAX_CLASSES_AUTO


# ---------------------------------------------------------------- CSV


def load_csv(spec: dict, progress=None, cancel=None) -> RawData:
    """Read a CSV with a header row; ``target`` names the label column (default: the last).

    A CSV too large to parse in memory is converted once to cached .npy files and streamed
    (``csv_stream``; ``progress`` and ``cancel`` as for image scans).
    """
    path = existing_path(spec)
    task = source_option(spec, "csv", "task")
    size = path.stat().st_size
    if size > MAX_CSV_BYTES or size * CSV_MEMORY_FACTOR > max_array_bytes():
        return _streamed_csv(spec, path, task, progress, cancel)
    header, rows, report = _read_rows(path)
    target = source_option(spec, "csv", "target") or header[-1]
    if target not in header:
        raise DataError(f"{path.name}: no column {target!r}; columns are {', '.join(header)}")
    table = np.array(rows, dtype=object)
    column = header.index(target)
    target_values = np.array([str(v).strip() for v in table[:, column]], dtype=object)
    present = np.array([v.lower() not in MISSING for v in target_values])
    if not present.all():
        report.append(f"dropped {int((~present).sum())} row(s) with no value in target column {target!r}")
    table, target_values = table[present], target_values[present]
    if not len(table):
        raise DataError(f"{path.name}: target column {target!r} has no values")
    numeric_target = _all_numeric(target_values)
    if numeric_target:
        finite = np.isfinite(target_values.astype(np.float64))
        if not finite.all():
            report.append(f"dropped {int((~finite).sum())} row(s) with an infinite value in target column {target!r}")
            table, target_values = table[finite], target_values[finite]
        if not len(table):
            raise DataError(f"{path.name}: target column {target!r} has no finite values")
    values = target_values.astype(np.float64) if numeric_target else target_values.astype(str)
    y, task, class_names = _targets(values, numeric_target, task, f"{path.name}: column {target!r}")
    features = [name for name in header if name != target]
    if not features:
        raise DataError(f"{path.name}: only the target column {target!r}; add feature columns")
    x = np.delete(table, column, axis=1)
    encoder = _CsvEncoder(path.name, features, x)
    report.extend(encoder.notes)
    return RawData(x=x, y=y, task=task, class_names=class_names, report=report, encode=encoder)


def _streamed_csv(spec: dict, path: Path, task: str, progress, cancel) -> RawData:
    from studio.core.data.csv_stream import (
        StreamedCsvEncoder,
        converted_csv,
        table_store,
    )

    @contextlib.contextmanager
    def open_reader():
        with open_csv_reader(path, bounded=False) as (header, reader):
            target = source_option(spec, "csv", "target") or header[-1]
            if target not in header:
                raise DataError(f"{path.name}: no column {target!r}; columns are {', '.join(header)}")
            if len(header) < 2:
                raise DataError(f"{path.name}: only the target column {target!r}; add feature columns")
            yield header, header.index(target), reader

    x, y, meta = converted_csv(path, open_reader, progress, cancel)
    target, header = meta["target"], meta["header"]
    if target != (source_option(spec, "csv", "target") or header[-1]):  # same file, another target column
        raise DataError(f"{path.name}: converted for target {target!r}; clear the data cache to change the target")
    streamed = (f"{path.stat().st_size >> 20} MiB table streamed from a converted copy in the data cache "
                f"({meta['rows']} rows; numeric columns only)")
    report = [streamed]
    if meta["bad_lines"]:
        report.append(f"skipped {meta['bad_lines']} line(s) whose field count differs from the header "
                      f"(first: {', '.join(map(str, meta['skipped_lines'][:5]))})")
    numbers, codes = np.asarray(y[:, 0]), np.asarray(y[:, 1])
    numeric_target = not meta["text_target"]
    present = np.isfinite(numbers) if numeric_target else codes >= 0
    if not present.all():
        report.append(f"dropped {int((~present).sum())} row(s) with no usable value in target column {target!r}")
    keep = np.flatnonzero(present)
    if not len(keep):
        raise DataError(f"{path.name}: target column {target!r} has no values")
    if numeric_target:
        y_out, task, class_names = _targets(numbers[keep], True, task, f"{path.name}: column {target!r}")
    else:
        if meta["labels"] is None:
            raise DataError(f"{path.name}: column {target!r} has more than 100000 distinct texts; "
                            "it cannot be a class label (pick another target)")
        if task == "regression":
            raise DataError(f"{path.name}: column {target!r} has text values, so it cannot be a regression "
                            "target; use task classification")
        order = np.argsort(np.array(meta["labels"], dtype=object), kind="stable")
        rank = np.empty(len(order), np.int32)
        rank[order] = np.arange(len(order), dtype=np.int32)
        y_out = rank[codes[keep].astype(np.int64)]
        class_names = [meta["labels"][i] for i in order]
        task = task_for_classes(class_names)
    features = [name for name in header if name != target]
    columns, names = [], []
    for index, name in enumerate(features):
        if meta["text_columns"][index]:
            report.append(f"dropped column {name!r}: it has text values (a streamed table uses numeric "
                          "columns only; encode categories as numbers)")
        else:
            columns.append(index)
            names.append(name)
    if not columns:
        raise DataError(f"{path.name}: no numeric feature column; encode categories as numbers")
    store = table_store(path, x, keep, columns)
    return RawData(x=store, y=y_out, task=task, class_names=class_names, report=report,
                   encode=StreamedCsvEncoder(names))


@contextlib.contextmanager
def open_csv_reader(path: Path, bounded: bool = True):
    """``(header, row reader)`` of a UTF-8 CSV read as a stream; every failure is a ``DataError``.
    ``bounded``: refuse files over ``MAX_CSV_BYTES`` (callers that hold the rows in memory)."""
    try:
        size = path.stat().st_size
        if bounded and size > MAX_CSV_BYTES:
            raise DataError(f"{path.name} is {size >> 20} MiB; CSV tables are read into memory up to "
                            f"{MAX_CSV_BYTES >> 20} MiB: convert it to .npy/.npz (streamed from disk)")
        with open(path, encoding="utf-8-sig", newline="") as handle:
            lines = (line for line in _bounded_lines(handle, path.name) if line.strip())
            first = next(lines, "")
            try:
                dialect = csv.Sniffer().sniff(first[:MAX_FIELD_CHARS], delimiters=",;\t|")
            except csv.Error:
                dialect = csv.excel
            lines = _chain(first, lines)
            csv.field_size_limit(MAX_FIELD_CHARS)
            reader = csv.reader(lines, dialect)
            header = [name.strip() for name in next(reader, [])]
            if len(set(header)) != len(header) or "" in header:
                raise DataError(f"{path.name}: header row has empty or repeated column names: {header[:20]}")
            yield header, reader
    except UnicodeDecodeError as exc:
        raise DataError(f"{path.name} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from exc
    except csv.Error as exc:
        raise DataError(f"{path.name}: unreadable CSV ({exc}; a field may be over "
                        f"{MAX_FIELD_CHARS} characters): fix or shorten that field") from exc
    except OSError as exc:
        raise DataError(f"cannot read {path} ({exc.strerror})") from exc


def csv_header(path: str | Path) -> list[str]:
    """The column names of a CSV file, read as the loader reads them (its delimiter sniffed).

    Args:
        path: the CSV file; its size is not limited (only the header row is read).

    Returns:
        The stripped column names; ``DataError`` when the file cannot be read as a table.
    """
    with open_csv_reader(Path(path), bounded=False) as (header, _rows):
        return header


def _chain(first: str, lines):
    yield first
    yield from lines


def _bounded_lines(handle, file_name: str):
    """The lines of a text ``handle``, refusing one over ``MAX_LINE_CHARS`` before holding it all
    (a file of zeros is one endless line)."""
    while line := handle.readline(MAX_LINE_CHARS + 1):
        if len(line) > MAX_LINE_CHARS:
            raise DataError(f"{file_name}: a line is over {MAX_LINE_CHARS:,} characters long; "
                            "this is not a CSV table (or a field is far too long)")
        yield line


def _read_rows(path: Path):
    rows, report = [], []
    with open_csv_reader(path) as (header, reader):
        for line_number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                report.append(f"skipped line {line_number}: {len(row)} fields, the header has {len(header)}")
                continue
            rows.append(row)
    if not header or not rows and not report:
        raise DataError(f"{path.name} needs a header row and at least one data row")
    if not rows:
        raise DataError(f"{path.name}: no row has as many fields as the header ({len(header)})")
    return header, rows, report


def _is_missing(value) -> bool:
    return str(value).strip().lower() in MISSING


def _all_numeric(values) -> bool:
    try:
        for value in values:
            float(value)
    except ValueError:
        return False
    return True


def _looks_like_id(values: list[str]) -> bool:
    distinct = len(set(values))
    return distinct > MAX_CATEGORIES or distinct == len(values) > 10


class _CsvEncoder:
    """Decides each feature column's kind on all rows; fits fills, categories and scaling on the
    training rows only, then encodes every split."""

    def __init__(self, file_name: str, names: list[str], table: np.ndarray):
        self.columns, self.notes = [], []
        for index, name in enumerate(names):
            present = [str(v).strip() for v in table[:, index] if not _is_missing(v)]
            if not present:
                self.notes.append(f"dropped column {name!r}: no values")
            elif _all_numeric(present):
                self.columns.append((index, name, "numeric"))
            elif _looks_like_id(present):
                self.notes.append(f"dropped column {name!r}: {len(set(present))} distinct texts look like an id, not a category")
            else:
                self.columns.append((index, name, "category"))
        if not self.columns:
            raise DataError(f"{file_name}: no usable feature column; for a column of text to classify use "
                            f'the text_csv source ({{"source": "text_csv", "path": ...}})')

    def __call__(self, parts: dict[str, np.ndarray], mode: str):
        blocks = {name: [] for name in parts}
        feature_names, report, stats = [], [], {}
        for index, name, kind in self.columns:
            raw = {split: part[:, index] for split, part in parts.items()}
            if kind == "numeric":
                encoded, info, note = _encode_numeric(name, raw, mode)
                feature_names.append(name)
            else:
                encoded, info, note = _encode_category(name, raw)
                feature_names.extend(f"{name}={c}" for c in info["categories"])
            stats[name] = info
            if note:
                report.append(note)
            for split, block in encoded.items():
                blocks[split].append(block)
        x = {split: np.concatenate(b, axis=1).astype(np.float32) for split, b in blocks.items()}
        train = x["train"]
        value_range = (float(train.min()), float(train.max())) if train.size else (0.0, 1.0)
        normalization = {"mode": mode, "columns": stats}
        return x, normalization, value_range, report, feature_names


def _encode_numeric(name, raw, mode):
    values = {s: np.array([np.nan if _is_missing(v) else float(str(v).strip()) for v in col]) for s, col in raw.items()}
    infinite = sum(int(np.isinf(v).sum()) for v in values.values())
    values = {s: np.where(np.isinf(v), np.nan, v) for s, v in values.items()}  # inf counts as missing
    missing = sum(int(np.isnan(v).sum()) for v in values.values())
    train = values["train"][~np.isnan(values["train"])]
    fill = float(train.mean()) if len(train) else 0.0
    values = {s: np.where(np.isnan(v), fill, v) for s, v in values.items()}
    info = {"kind": "numeric", "fill": fill}
    if mode == "standardize":
        mean, std = float(values["train"].mean()), float(values["train"].std()) or 1.0
        values = {s: (v - mean) / std for s, v in values.items()}
        info.update(mean=mean, std=std)
    elif mode == "scale":
        low, high = float(values["train"].min()), float(values["train"].max())
        values = {s: (v - low) / ((high - low) or 1.0) for s, v in values.items()}
        info.update(min=low, max=high)
    note = f"column {name!r}: {missing} missing value(s) filled with the training mean {fill:.4g}" if missing else None
    if infinite:
        note += f" ({infinite} of them infinite)"
    return {s: v[:, None] for s, v in values.items()}, info, note


def _encode_category(name, raw):
    values = {s: np.array(["(missing)" if _is_missing(v) else str(v).strip() for v in col]) for s, col in raw.items()}
    categories = sorted(set(values["train"]))
    encoded = {s: (v[:, None] == np.array(categories)[None, :]).astype(np.float32) for s, v in values.items()}
    notes = []
    missing = sum(int((v == "(missing)").sum()) for v in values.values())
    if missing:
        notes.append(f"{missing} missing value(s) kept as category '(missing)'")
    unseen = sum(int((~np.isin(v, categories)).sum()) for s, v in values.items() if s != "train")
    if unseen:
        notes.append(f"{unseen} value(s) in val/test not seen in training encoded as all zeros")
    note = f"column {name!r} one-hot encoded ({len(categories)} categories)" + (": " + "; ".join(notes) if notes else "")
    return encoded, {"kind": "category", "categories": categories}, note


# ---------------------------------------------------------------- NPZ


def load_npz(spec: dict) -> RawData:
    """Arrays ``x`` (N, features) or images (N, H, W[, C]) and labels ``y`` from a ``.npz`` file.

    Each member's .npy header is read and checked (shape, dtype, claimed vs stored size) before any
    data: archive bombs, non-.npy members, 0-d arrays and inputs too big for memory get one line.
    """
    path = existing_path(spec)
    x_key, y_key = source_option(spec, "npz", "x_key"), source_option(spec, "npz", "y_key")
    task = source_option(spec, "npz", "task")
    if not zipfile.is_zipfile(path):
        raise DataError(f"{path.name} is not a readable .npz file (not a zip archive); save it with numpy.savez")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {info.filename[:-4]: info for info in archive.infolist() if info.filename.endswith(".npy")}
            missing = [k for k in (x_key, y_key) if k not in members]
            if missing:
                others = [i.filename for i in archive.infolist() if i.filename[:-4] in missing or i.filename in missing]
                hint = f" ({others[0]!r} is not a .npy array)" if others else ""
                raise DataError(
                    f"{path.name} has no array {' or '.join(map(repr, missing))}{hint}; it holds "
                    f"{', '.join(members) or 'no .npy array'} (set x_key / y_key)"
                )
            for key in (x_key, y_key, "class_names"):
                bomb = zip_bomb_problem(members[key]) if key in members else None
                if bomb:
                    raise DataError(f"{path.name}: {bomb}")
            x = _read_member(archive, members[x_key], path, x_key)
            y = _read_member(archive, members[y_key], path, y_key, False)
            names = None
            if "class_names" in members:
                names = [str(n) for n in _read_member(archive, members["class_names"], path, "class_names", False)]
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        # damaged deflate data, an unknown compression method, an encrypted member
        raise DataError(f"{path.name} is not a readable .npz file ({exc})") from exc
    return _arrays_to_raw(x, y, names, task, path, x_key, y_key, spec)


def load_npy(spec: dict) -> RawData:
    """Inputs in ``path`` (.npy) and labels in ``labels`` (.npy; default: ``y.npy`` beside an
    ``x.npy``); memory-mapped: inputs over the memory limit are converted to float32 per batch."""
    path = existing_path(spec)
    default = str(path.with_name("y.npy")) if path.name == "x.npy" else None
    labels = source_option(spec, "npy", "labels") or default
    labels_path = Path(labels) if labels else Path("")
    if not labels_path.name:
        raise DataError(f"{path.name}: set the 'labels' option to the .npy file with one label per sample")
    task = source_option(spec, "npy", "task")
    arrays = []
    for file, key in ((path, "inputs"), (labels_path.expanduser(), "labels")):
        try:
            with open_regular(file) as handle:  # a FIFO given as labels must not block
                shape, dtype, _ = _npy_header(handle, file.name)
            _check_array(shape, dtype, file.name, key, file.stat().st_size)
            arrays.append(np.load(file, mmap_mode="r", allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise DataError(f"{file.name} is not a readable .npy file ({exc})") from exc
    return _arrays_to_raw(arrays[0], arrays[1], None, task, path, "inputs", "labels", spec)


def _npy_header(handle, file_name: str):
    try:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read(handle, max_header_size=1 << 16)
    except (ValueError, SyntaxError, EOFError, UnicodeDecodeError, tokenize.TokenError) as exc:
        # TokenError: numpy re-parses a header it takes for a Python 2 one with ``tokenize``
        raise DataError(f"{file_name}: not a .npy array ({exc})") from exc
    return shape, dtype, fortran


def _check_array(shape, dtype, file_name, key, stored_bytes) -> None:
    """Refuse 0-d arrays, objects and sizes the file cannot hold."""
    if dtype.hasobject:
        raise DataError(f"{file_name}: arrays must be plain numbers, not Python objects ({key})")
    if not shape:
        raise DataError(f"{file_name}: {key} is a single value (0-d array); it needs one row per sample")
    claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if claimed > stored_bytes + 1024:
        raise DataError(f"{file_name}: {key} claims shape {shape} ({claimed >> 20} MiB) but the file stores "
                        f"{stored_bytes >> 20} MiB; the file is damaged")


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, key: str, inputs: bool = True):
    """One .npy member, its header checked first; reads never exceed the size the header claims.

    Inputs over the memory limit are memory-mapped when stored uncompressed, else refused.
    """
    file_name = path.name
    with archive.open(info) as handle:
        shape, dtype, fortran = _npy_header(handle, f"{file_name}/{info.filename}")
        _check_array(shape, dtype, file_name, key, info.file_size)
        need = int(np.prod(shape, dtype=object)) * 4
        if inputs and need > max_array_bytes():
            mapped = npz_member_memmap(path, info, shape, dtype, fortran)
            if mapped is None:
                raise DataError(f"{file_name}: {key} needs {need >> 20} MiB as float32, over the memory limit "
                                f"({max_array_bytes() >> 20} MiB), and is compressed, so it cannot be streamed: "
                                "re-save it uncompressed (numpy.savez) or as .npy")
            return mapped
        count = int(np.prod(shape))
        data = handle.read(count * dtype.itemsize)
    if len(data) != count * dtype.itemsize:
        raise DataError(f"{file_name}: {key} is truncated ({len(data)} of {count * dtype.itemsize} bytes)")
    array = np.frombuffer(data, dtype)
    return array.reshape(shape[::-1]).T if fortran else array.reshape(shape)


def _arrays_to_raw(x, y, names, task, path: Path, x_key, y_key, spec) -> RawData:
    file_name, report = path.name, []
    y = np.asarray(y)
    if y.ndim == 0:
        raise DataError(f"{file_name}: {y_key} is a single value (0-d array); it needs one label per sample")
    if len(x) != len(y):
        raise DataError(f"{file_name}: {x_key} has {len(x)} samples but {y_key} has {len(y)}; they must match")
    if not len(x):
        raise DataError(f"{file_name}: {x_key} is empty")
    if not np.issubdtype(x.dtype, np.number) or not np.issubdtype(y.dtype, np.number):
        raise DataError(f"{file_name}: {x_key} and {y_key} must be numeric arrays")
    streamed = x.size * 4 > max_array_bytes()
    if is_sequence_array(x, y, spec):
        if streamed:
            raise DataError(f"{file_name}: sequences {x_key} need {x.size * 4 >> 20} MiB as float32, over the "
                            f"memory limit ({max_array_bytes() >> 20} MiB); keep fewer samples")
        return npz_sequences(np.asarray(x), y, file_name, task)
    x = _streamed_inputs(x, path, x_key, report) if streamed else _npz_inputs(np.asarray(x), file_name, x_key, report)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
        report.append(f"{y_key} looked one-hot: converted to class indices")
    y = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else np.asarray(y)
    if not np.all(np.isfinite(y)):
        raise DataError(f"{file_name}: {y_key} contains NaN or infinite values")
    y, task, class_names = _targets(y, True, task, f"{file_name}: {y_key}")
    if names is not None and task != "regression":
        if len(names) != len(class_names):
            raise DataError(f"{file_name}: class_names has {len(names)} names but {y_key} has {len(class_names)} classes")
        class_names = names
    return RawData(x=x, y=y, task=task, class_names=class_names, report=report)


def _sample_shape(shape: tuple[int, ...], file_name: str, key: str) -> tuple[int, ...]:
    """The float32 sample shape of inputs of ``shape``: (features,) or (H, W, C)."""
    tail = tuple(shape[1:])
    if len(tail) <= 1:
        return tail or (1,)
    if len(tail) == 2:
        tail = (*tail, 1)
    if len(tail) != 3:
        raise DataError(f"{file_name}: {key} has shape {tuple(shape)}; use (N, features), (N, H, W) or (N, H, W, C)")
    if tail[2] not in (1, 3):
        hint = " (it looks channels-first: transpose to (N, H, W, C))" if tail[0] in (1, 3) else ""
        raise DataError(f"{file_name}: images need 1 or 3 channels last, got shape {tuple(shape)}{hint}")
    return tail


def _streamed_inputs(x: np.ndarray, path: Path, key: str, report: list[str]) -> ArrayStore:
    """Memory-mapped inputs over the memory limit, checked in one streaming pass."""
    file_name = path.name
    store = ArrayStore(x, np.arange(len(x)), _sample_shape(x.shape, file_name, key), f"{file_stamp(path)}|{key}")
    stats = store.stats()
    if stats["nonfinite"]:
        raise DataError(f"{file_name}: {key} contains NaN or infinite values")
    report.append(f"{key}: {x.size * 4 >> 20} MiB as float32, over the memory limit ({max_array_bytes() >> 20} "
                  "MiB): memory-mapped and converted per batch")
    if len(store.sample_shape) == 3:
        low, high = float(stats["min"].min()), float(stats["max"].max())
        if low < 0 or high > 255:
            raise DataError(f"{file_name}: image values must be within 0..1 or 0..255, found {low:.3g}..{high:.3g}")
        if high <= 1.0:
            report.append(f"{key} values are within 0..1: treated as pixel fractions")
            store = store.converted(multiply=255.0)
    return store


def _npz_inputs(x: np.ndarray, file_name: str, key: str, report: list[str]) -> np.ndarray:
    x = x.astype(np.float32)
    if not np.all(np.isfinite(x)):
        raise DataError(f"{file_name}: {key} contains NaN or infinite values")
    if x.ndim == 1:
        return x[:, None]
    if x.ndim == 2:
        return x
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4:
        raise DataError(f"{file_name}: {key} has shape {x.shape}; use (N, features), (N, H, W) or (N, H, W, C)")
    if x.shape[3] not in (1, 3):
        hint = " (it looks channels-first: transpose to (N, H, W, C))" if x.shape[1] in (1, 3) else ""
        raise DataError(f"{file_name}: images need 1 or 3 channels last, got shape {x.shape}{hint}")
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 255:
        raise DataError(f"{file_name}: image values must be within 0..1 or 0..255, found {low:.3g}..{high:.3g}"
                        " (for (N, T, F) sequences set kind to sequence)")
    if high <= 1.0:
        report.append(f"{key} values are within 0..1: treated as pixel fractions")
        x = x * np.float32(255)
    return x
