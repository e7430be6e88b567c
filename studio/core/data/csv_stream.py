"""CSV tables larger than memory: one pass converts them to cached .npy files, then memory-mapped.

The conversion (with progress and cancel) writes ``x.npy`` (float32 feature values, NaN where
missing or not a number) and ``y.npy`` (the target as a number and as a label code) into
``cache_root()/csv/<fingerprint>``, the fingerprint being the CSV's path, size and mtime: an
unchanged file converts once. Text feature columns are dropped (numeric columns only at this
size); missing values are filled with the training mean. Statistics take one streaming pass.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np

from studio.core.data.arrays import ArrayStore, file_stamp, release
from studio.core.data.dataset import DataError
from studio.core.data.raw import MISSING
from studio.core.data.disk_cache import cache_root
from studio.core.fileio import atomic_replace_dir, atomic_write_json

BLOCK_ROWS = 8192
MAX_LABELS = 100_000  # distinct target texts of a classification table
_NO_CODE = -1.0


def converted_csv(path: Path, open_reader, progress=None, cancel=None) -> tuple[np.ndarray, np.ndarray, dict]:
    """``(x memmap, y memmap, meta)`` of the CSV ``path``, converting it on first use."""
    stamp = file_stamp(path)
    folder = cache_root() / "csv" / hashlib.sha256(stamp.encode()).hexdigest()[:16]
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        try:
            folder.parent.mkdir(parents=True, exist_ok=True)
            atomic_replace_dir(folder, lambda tmp: _convert(path, Path(tmp), stamp, open_reader, progress, cancel))
        except OSError as exc:
            raise DataError(f"cannot write the converted table to {folder.parent} ({exc.strerror}): free disk "
                            f"space or set $DL_STUDIO_DATA_CACHE to a folder with room") from exc
    meta = json.loads(meta_path.read_text())
    return np.load(folder / "x.npy", mmap_mode="r"), np.load(folder / "y.npy", mmap_mode="r"), meta


def _convert(path: Path, folder: Path, stamp: str, open_reader, progress, cancel) -> None:
    from studio.core.data.scan import ScanCancelled

    folder.mkdir()
    upper = _count_lines(path)
    started, rows = time.monotonic(), 0
    with open_reader() as (header, target_index, reader):
        width = len(header) - 1
        x = np.lib.format.open_memmap(folder / "x.npy", "w+", np.float32, (max(upper, 1), width))
        y = np.lib.format.open_memmap(folder / "y.npy", "w+", np.float64, (max(upper, 1), 2))
        text_columns, labels, skipped = np.zeros(width + 1, bool), {}, []  # the last: the target
        block, line = [], 1
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                if len(skipped) < 20:
                    skipped.append(line)
                continue
            block.append(row)
            if len(block) == BLOCK_ROWS:
                rows = _store_block(block, target_index, x, y, rows, text_columns, labels)
                block = []
                if cancel is not None and cancel.cancelled:
                    raise ScanCancelled(f"converting {path.name} cancelled")
                if progress is not None:
                    rate = rows / max(time.monotonic() - started, 1e-6)
                    progress(rows, upper, rate, max(upper - rows, 0) / max(rate, 1e-6))
        rows = _store_block(block, target_index, x, y, rows, text_columns, labels) if block else rows
    if not rows:
        raise DataError(f"{path.name}: no row has as many fields as the header ({len(header)})")
    x.flush(), y.flush()
    del x, y
    _shrink(folder / "x.npy", rows, np.float32, width)
    _shrink(folder / "y.npy", rows, np.float64, 2)
    atomic_write_json(folder / "meta.json", {
        "stamp": stamp, "header": header, "target": header[target_index], "rows": rows,
        "text_columns": text_columns[:-1].tolist(), "text_target": bool(text_columns[-1]), "labels": list(labels) if len(labels) <= MAX_LABELS else None,
        "skipped_lines": skipped, "bad_lines": line - 1 - rows,
    })


def _store_block(block, target_index, x, y, start, text_columns, labels) -> int:
    """Parse one block of rows into ``x`` and ``y`` at ``start``; returns the next free row."""
    end = start + len(block)
    columns = list(zip(*block))
    targets = [value.strip() for value in columns.pop(target_index)]
    values = np.empty((len(block), len(columns)), np.float32)
    for c, column in enumerate(columns):
        values[:, c], text = _numbers(column)
        text_columns[c] |= text
    values[~np.isfinite(values)] = np.nan  # inf counts as missing, as in the in-memory path
    x[start:end] = values
    numbers, text = _numbers(targets)
    text_columns[-1] |= text
    codes = np.full(len(targets), _NO_CODE)
    if len(labels) <= MAX_LABELS:
        for i, value in enumerate(targets):
            if value and value.lower() not in MISSING:
                codes[i] = labels.setdefault(value, len(labels))
    y[start:end, 0], y[start:end, 1] = numbers, codes
    release(x), release(y)
    return end


def _numbers(column) -> tuple[np.ndarray, bool]:
    """``(float64 values, whether a non-missing value is not a number)``; missing -> NaN."""
    try:
        return np.array(column, dtype=np.float64), False
    except ValueError:
        pass
    out, text, missing = np.empty(len(column)), False, MISSING
    for i, value in enumerate(column):
        try:
            out[i] = float(value)
        except ValueError:
            out[i] = np.nan
            text = text or value.strip().lower() not in missing
    return out, text


def _count_lines(path: Path) -> int:
    count = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(16 << 20):
            count += chunk.count(b"\n")
    return count + 1


def _shrink(file: Path, rows: int, dtype, width: int) -> None:
    """Rewrite the .npy header for ``rows`` rows (same header length) and cut off the unused tail."""
    with open(file, "r+b") as handle:
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        read(handle)
        data_offset = handle.tell()
        length_bytes = 2 if version == (1, 0) else 4
        text_start = 6 + 2 + length_bytes
        header = repr({"descr": np.dtype(dtype).str, "fortran_order": False, "shape": (rows, width)})
        handle.seek(text_start)
        handle.write(header.ljust(data_offset - text_start - 1).encode("latin1") + b"\n")
        handle.truncate(data_offset + rows * width * np.dtype(dtype).itemsize)


def table_store(path: Path, x: np.ndarray, keep: np.ndarray, columns: list[int]) -> ArrayStore:
    """The kept rows and feature ``columns`` of a converted table."""
    return ArrayStore(x, keep, (x.shape[1],), file_stamp(path)).select_columns(columns)


class StreamedCsvEncoder:
    """Fills, then scales or standardizes the numeric columns of a streamed table, fitted on the
    training rows in one pass (the same arithmetic and records as ``tabular._CsvEncoder``)."""

    def __init__(self, names: list[str]):
        self.names = names

    def __call__(self, parts: dict, mode: str):
        stats = parts["train"].stats()
        count, rows = stats["count"], len(parts["train"])
        fill = np.where(count > 0, stats["mean"], 0.0)
        std = stats["std"] * np.sqrt(count / max(rows, 1))  # the spread after filling gaps with the mean
        low, high = np.minimum(stats["min"], fill), np.maximum(stats["max"], fill)
        low, high = np.where(np.isfinite(low), low, 0.0), np.where(np.isfinite(high), high, 0.0)
        columns = {name: {"kind": "numeric", "fill": float(fill[i])} for i, name in enumerate(self.names)}
        if mode == "standardize":
            offset, factor = fill, np.where(std > 0, std, 1.0)
            for i, name in enumerate(self.names):
                columns[name].update(mean=float(fill[i]), std=float(factor[i]))
        elif mode == "scale":
            offset, factor = low, np.where(high > low, high - low, 1.0)
            for i, name in enumerate(self.names):
                columns[name].update(min=float(low[i]), max=float(high[i]))
        else:
            offset, factor = np.zeros_like(low), np.ones_like(low)
        offset, factor = offset.astype(np.float32), factor.astype(np.float32)
        scaled = {s: x.converted(fill=fill.astype(np.float32), offset=offset, factor=factor) for s, x in parts.items()}
        value_range = (float(np.min((low - offset) / factor)), float(np.max((high - offset) / factor)))
        report = [f"column {name!r}: {int(rows - count[i])} missing training value(s) filled with the mean "
                  f"{fill[i]:.4g}" for i, name in enumerate(self.names) if count[i] < rows]
        return scaled, {"mode": mode, "columns": columns}, value_range, report, list(self.names)
