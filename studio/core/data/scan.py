"""Scanning an image folder: headers only, with progress, cancellation and an incremental index.

Every file's header is read and verified (no pixels decoded); the result per file is kept in a
scan index under the data cache folder, keyed by relative path + size + mtime, so a re-scan of a
big folder only opens the files that are new or changed. The index is JSON lines, one file per
line, read and written a line at a time: one ``json`` call over 50,000 entries would hold the GIL
for most of a second and stall the GUI thread.
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from studio.core.data.dataset import DataError
from studio.core.data.disk_cache import cache_root
from studio.core.fileio import atomic_write_text

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DECODABLE_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF"}
_FORMAT_SUFFIXES = {"JPEG": {".jpg", ".jpeg"}, "MPO": {".jpg", ".jpeg"}, "TIFF": {".tif", ".tiff"}}
_PROGRESS_EVERY_S = 0.1
_FREEZE_EVERY = 2000  # files

Progress = Callable[[int, int, float, float], None]  # (done, total, files_per_s, eta_s)


class ScanCancelled(DataError):
    """The user cancelled a scan (nothing was loaded)."""


class CancelToken:
    """Set from any thread (``cancel()``); long data operations check it and stop."""

    def __init__(self):
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass
class Scan:
    """Readable files (absolute paths) with their label, header and (size, mtime_ns) stamp."""

    files: list[Path] = field(default_factory=list)
    labels: list[int] = field(default_factory=list)
    headers: list[dict] = field(default_factory=list)
    stamps: list[tuple[int, int]] = field(default_factory=list)
    report: list[str] = field(default_factory=list)
    reused: int = 0


class Scanner:
    """Checks files against the scan index of ``root`` and records new results in it."""

    def __init__(self, root: Path, max_pixels: int, progress: Progress | None, cancel: CancelToken | None):
        self.root, self.max_pixels = root, max_pixels
        self.progress, self.cancel = progress, cancel
        key = hashlib.sha256(f"{root.resolve()}|{max_pixels}".encode()).hexdigest()[:16]
        self.index_path = cache_root() / "scans" / f"{key}.jsonl"
        self.old = _read_index(self.index_path)
        keep_out_of_gc()
        self.new: dict[str, list] = {}
        self.reused = 0

    def scan(self, items: list[tuple[Path, int]]) -> Scan:
        """Check ``(path, label)`` items in order; raises ``ScanCancelled``."""
        result = Scan()
        started = last = time.perf_counter()
        for done, (path, label) in enumerate(items, start=1):
            if self.cancel is not None and self.cancel.cancelled:
                self.save()  # keep what was checked: the next scan resumes from it
                raise ScanCancelled(f"scan of {self.root} cancelled after {done - 1} of {len(items)} files")
            where = _relative(path, self.root)
            header, reason, stamp = self._check(path, where)
            if reason:
                result.report.append(f"skipped {where}: {reason}")
            else:
                if header["note"]:
                    result.report.append(f"{where}: {header['note']}")
                result.files.append(path)
                result.labels.append(label)
                result.headers.append(header)
                result.stamps.append(stamp)
            if done % _FREEZE_EVERY == 0:
                keep_out_of_gc()
            now = time.perf_counter()
            if self.progress is not None and (now - last >= _PROGRESS_EVERY_S or done == len(items)):
                last = now
                rate = done / max(now - started, 1e-9)
                self.progress(done, len(items), rate, (len(items) - done) / rate)
        result.reused = self.reused
        self.save()
        return result

    def _check(self, path: Path, where: str):
        try:
            stat = path.stat()
        except OSError as exc:
            return None, f"cannot read ({exc.strerror})", (0, 0)
        stamp = (int(stat.st_size), int(stat.st_mtime_ns))
        known = self.old.get(where)
        if known is not None and tuple(known[:2]) == stamp:
            self.reused += 1
            header, reason = known[2], known[3]
        else:
            header, reason = read_header(path, self.max_pixels, stat.st_size)
            if header is not None:
                header = {**header, "size": list(header["size"])}
        self.new[where] = [*stamp, header, reason]
        if header is not None:
            header = {**header, "size": tuple(header["size"])}
        return header, reason, stamp

    def save(self) -> None:
        try:
            self.index_path.parent.mkdir(parents=True, exist_ok=True)
            entries = {**self.old, **self.new}
            lines = [_INDEX_HEADER, *(json.dumps([where, *entry]) for where, entry in entries.items())]
            atomic_write_text(self.index_path, "\n".join(lines) + "\n")
        except OSError:
            pass  # the index only speeds up the next scan


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


_INDEX_HEADER = '{"version": 2}'


def keep_out_of_gc() -> None:
    """Move the objects alive now out of the cyclic garbage collector's sight (``gc.freeze``).

    A scan of 50,000 files keeps some 10^5 small objects (paths, index entries, headers) for as
    long as the dataset lives; each full collection walked them all with the GIL held, stalling
    the GUI thread for 200-500 ms. Frozen, they are still freed by reference counting.
    """
    gc.freeze()


def _read_index(path: Path) -> dict[str, list]:
    """``{relative path: [size, mtime_ns, header, reason]}`` from a scan index ({} when unreadable)."""
    try:
        lines = path.read_text().splitlines()
        if not lines or lines[0] != _INDEX_HEADER:
            return {}
        entries = {}
        for number, line in enumerate(lines[1:], start=1):
            where, *entry = json.loads(line)
            entries[where] = entry
            if number % _FREEZE_EVERY == 0:
                keep_out_of_gc()
        return entries
    except (OSError, ValueError, TypeError):
        return {}


def list_images(folder: Path) -> list[Path]:
    """Every non-hidden file under ``folder``, sorted (os.scandir: fast on big folders)."""
    found, stack = [], [folder]
    while stack:
        current = stack.pop()
        try:
            entries = list(os.scandir(current))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                is_file = not is_dir and entry.is_file()
            except OSError:  # a symbolic link loop: listed, so the scan reports it as unreadable
                is_dir, is_file = False, True
            if is_dir:
                stack.append(Path(entry.path))
            elif is_file:
                found.append(Path(entry.path))
                if len(found) % _FREEZE_EVERY == 0:
                    keep_out_of_gc()
    return sorted(found)


def read_header(path: Path, max_pixels: int, size: int | None = None):
    """Verify ``path`` without decoding pixels: ``({format, mode, size, note}, None)`` or
    ``(None, reason)``."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, "not an image file type"
    if (path.stat().st_size if size is None else size) == 0:
        return None, "empty file"
    try:
        with Image.open(path) as image:
            fmt, mode, (width, height) = image.format, image.mode, image.size
            if fmt not in DECODABLE_FORMATS:
                return None, f"unsupported image format {fmt}"
            if width * height > max_pixels:
                return None, f"too large ({width}x{height} pixels, limit {max_pixels}); shrink it or raise max_pixels"
            image.verify()
    except UnidentifiedImageError:
        return None, "not a readable image (unknown or corrupt content)"
    except Image.DecompressionBombError:
        return None, f"too large (over Pillow's safety limit, limit {max_pixels} pixels); shrink it"
    except (OSError, SyntaxError, ValueError) as exc:
        return None, f"corrupt ({exc})"
    note = None
    expected = _FORMAT_SUFFIXES.get(fmt, {"." + fmt.lower()})
    if path.suffix.lower() not in expected:
        note = f"{fmt} content under a {path.suffix} name (loaded as {fmt})"
    return {"format": fmt, "mode": mode, "size": (height, width), "note": note}, None
