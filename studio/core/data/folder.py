"""Image folders (one sub-folder per class) and image lists (a CSV of path,label).

A scan reads and verifies every header (``scan.py``: progress, cancel, incremental index, the
quarantine report); decoding goes through the on-disk sample cache (``disk_cache.py``). Small sets
are then decoded into memory (``storage: memory``); sets whose float32 pixels exceed the memory
budget are streamed from disk (``storage: stream``, ``store.ImageStore``). ``storage: auto``
(default) picks by size, and the report says which was chosen.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from pathlib import Path

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.disk_cache import SampleCache
from studio.core.data.raw import RawData, existing_path, task_for_classes
from studio.core.data.scan import IMAGE_SUFFIXES, CancelToken, Progress, Scanner, ScanCancelled, list_images
from studio.core.data.source_options import source_option
from studio.core.data.store import ImageSource, ImageStore

GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
MEMORY_ENV = "DL_STUDIO_DATA_MEMORY"
_MEMORY_BUDGET = 128 << 20  # auto: float32 pixels up to this size are held in memory
_MAX_BYTES = 2 << 30  # storage "memory" refuses more than this
_MAX_LIST_ROWS = 10_000_000


def memory_budget() -> int:
    """Bytes of float32 pixels ``storage: auto`` keeps in memory (``$DL_STUDIO_DATA_MEMORY``)."""
    try:
        return int(os.environ.get(MEMORY_ENV, _MEMORY_BUDGET))
    except ValueError:
        return _MEMORY_BUDGET


def load_folder(spec: dict, progress: Progress | None = None, cancel: CancelToken | None = None) -> RawData:
    """Every image under ``spec["path"]``, labelled by its class sub-folder."""
    root = existing_path(spec, folder=True)
    report: list[str] = []
    class_dirs = _class_dirs(root, report)
    items = [(path, label) for label, folder in enumerate(class_dirs) for path in list_images(folder)]
    return _load_images(spec, root, items, [d.name for d in class_dirs], report, progress, cancel, "class folder")


def load_image_list(spec: dict, progress: Progress | None = None, cancel: CancelToken | None = None) -> RawData:
    """Images named in a CSV (``path_column``, default "path"; ``label_column``, default "label");
    relative paths are relative to the CSV's folder."""
    listing = existing_path(spec)
    path_column = source_option(spec, "image_list", "path_column")
    label_column = source_option(spec, "image_list", "label_column")
    from studio.core.data.tabular import open_csv_reader

    rows, report = [], []
    with open_csv_reader(listing) as (header, reader):
        missing = [c for c in (path_column, label_column) if c not in header]
        if missing:
            raise DataError(f"{listing.name}: no column {missing[0]!r}; columns are {', '.join(header)} "
                            "(set path_column / label_column)")
        p, l = header.index(path_column), header.index(label_column)
        for line, row in enumerate(reader, start=2):
            if len(rows) >= _MAX_LIST_ROWS:
                raise DataError(f"{listing.name}: more than {_MAX_LIST_ROWS} rows; split the list")
            if len(row) != len(header) or not row[p].strip() or not row[l].strip():
                report.append(f"skipped line {line}: needs a path and a label")
                continue
            rows.append((row[p].strip(), row[l].strip()))
    if not rows:
        raise DataError(f"{listing.name}: no row with a path and a label")
    class_names = sorted({label for _, label in rows})
    index = {name: i for i, name in enumerate(class_names)}
    items = [((listing.parent / path).expanduser(), index[label]) for path, label in rows]
    return _load_images(spec, listing.parent, items, class_names, report, progress, cancel, "class")


def _load_images(spec, root, items, class_names, report, progress, cancel, kind) -> RawData:
    source = spec.get("source", "folder")
    colour_mode = source_option(spec, source, "color")
    storage = source_option(spec, source, "storage")
    max_pixels = source_option(spec, source, "max_pixels")
    task = task_for_classes(class_names)
    scan = Scanner(root, max_pixels, progress, cancel).scan(items)
    report.extend(scan.report)
    found = Counter(scan.labels)
    for label, name in enumerate(class_names):
        if not found[label]:
            raise DataError(f"{kind} {name!r} has no readable image; add images "
                            f"({', '.join(sorted(IMAGE_SUFFIXES))}) or remove it")

    size = _target_size(spec, scan.headers)
    colour = colour_mode == "rgb" or colour_mode == "auto" and any(h["mode"] not in GRAY_MODES for h in scan.headers)
    shape = (size[0], size[1], 3 if colour else 1)
    names = [str(path) for path in scan.files]
    key = {"files": str(root.resolve()), "shape": list(shape), "version": 1}
    cache = SampleCache(key, names, np.asarray(scan.stamps, np.int64).reshape(-1, 2), shape)
    if cache.note:
        report.append(cache.note)
    source = ImageSource(root, scan.files, shape, cache)
    store = ImageStore(source, np.arange(len(scan.files)))
    needed = len(scan.files) * int(np.prod(shape)) * 4
    in_memory = storage == "memory" or storage == "auto" and needed <= memory_budget()
    if storage == "memory" and needed > _MAX_BYTES:
        raise DataError(f"{len(scan.files)} images of {shape[0]}x{shape[1]}x{shape[2]} need {needed >> 20} MiB "
                        f"in memory (limit {_MAX_BYTES >> 20} MiB); use storage stream or a smaller image_size")
    labels = np.asarray(scan.labels, np.int32)
    keep = np.ones(len(scan.files), bool)
    if in_memory:
        x = np.empty((len(scan.files), *shape), np.float32)
        for start in range(0, len(scan.files), 1024):
            if cancel is not None and cancel.cancelled:
                cache.flush()  # what was decoded so far is kept for the next load
                raise ScanCancelled(f"loading {root} cancelled after decoding {start} of {len(scan.files)} images")
            chunk, ok = store.read_batch(slice(start, start + 1024))
            x[start:start + len(ok)][ok] = chunk
            keep[start:start + len(ok)] = ok
        cache.flush()
        report.extend(f"skipped {where}: cannot decode ({reason})" for where, reason in source.skipped.values())
        x = x[keep]  # held in memory: Dataset.summary says so (a report line would count as a loading note)
    else:
        x = store
        where = f"cache at {cache.folder}" if cache.enabled else "without cache"
        report.append(f"storage: streamed from disk, {where} ({needed >> 20} MiB as float32 is over the "
                      f"{memory_budget() >> 20} MiB memory budget)")
    _report_conversions(scan.headers, keep, size, colour, report)
    y = labels[keep]
    empty = [class_names[c] for c in range(len(class_names)) if not np.any(y == c)]
    if empty:
        raise DataError(f"{kind} {empty[0]!r} has no decodable image; see the skipped files")
    return RawData(x=x, y=y, task=task, class_names=class_names, report=report)


def _class_dirs(root: Path, report: list[str]) -> list[Path]:
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    for loose in (p for p in entries if p.is_file()):
        report.append(f"ignored {loose.name}: images must be inside a class sub-folder")
    dirs = [p for p in entries if p.is_dir()]
    if not dirs:
        raise DataError(
            f"{root} has no class sub-folders; put the images in one sub-folder per class "
            f"(e.g. {root / 'cats'}, {root / 'dogs'})"
        )
    if len(dirs) == 1:
        raise DataError(f"{root} has a single class sub-folder ({dirs[0].name!r}); add a sub-folder per class, at least two")
    return dirs


def _target_size(spec: dict, headers: list[dict]) -> tuple[int, int]:
    size = spec.get("image_size")
    if size is None:
        return Counter(h["size"] for h in headers).most_common(1)[0][0]
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if (
        not isinstance(size, (list, tuple)) or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and 4 <= s <= 1024 for s in size)
    ):
        raise DataError(f"folder: image_size must be [height, width] between 4 and 1024, got {size!r}")
    return int(size[0]), int(size[1])


def _report_conversions(headers, keep, size, colour, report):
    kept = [h for h, k in zip(headers, keep) if k]
    resized = sum(h["size"] != size for h in kept)
    if resized:
        report.append(f"resized {resized} image(s) to {size[0]}x{size[1]} (the most common size unless image_size is set)")
    modes = Counter(h["mode"] for h in kept)
    target = "RGB" if colour else "L"
    converted = {m: n for m, n in modes.items() if m != target}
    if converted:
        listing = ", ".join(f"{n} {m}" for m, n in sorted(converted.items()))
        report.append(f"converted to {'RGB' if colour else 'grayscale'}: {listing} (transparent areas become white)")
