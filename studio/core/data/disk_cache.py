"""The on-disk cache of decoded samples: one fixed-size uint8 slot per file, fingerprinted.

``cache_root()`` is ``$DL_STUDIO_DATA_CACHE`` or ``~/.cache/dl-studio/data`` (safe to delete at
any time). A ``SampleCache`` is keyed by the folder, the target size and the colour mode; each
slot remembers the (size, mtime) of the file it was decoded from and a CRC of its pixels, so a
changed file invalidates only its own slot and a corrupted slot is decoded again. Slots are read
and written with ``pread``/``pwrite`` (not memory-mapped), so the process's memory stays flat
however big the cache is. Without space for the cache it is disabled with a clear note and every
read decodes again.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import threading
import zlib
from pathlib import Path

import numpy as np

from studio.core.fileio import atomic_write_bytes, atomic_write_json

ENV = "DL_STUDIO_DATA_CACHE"
EMPTY, FILLED = 0, 1
_META = np.dtype([("size", "<i8"), ("mtime", "<i8"), ("crc", "<u4"), ("state", "u1")])
_FLUSH_EVERY = 512
_SPARE_BYTES = 256 << 20  # leave this much free space on the disk


def cache_root() -> Path:
    """The folder holding the data caches (and scan indexes); the user can see and clear it."""
    return Path(os.environ.get(ENV) or Path.home() / ".cache" / "dl-studio" / "data").expanduser()


class SampleCache:
    """Slots ``0..N-1`` for the files named ``names`` (their order), each ``shape`` uint8."""

    def __init__(self, key: dict, names: list[str], stamps: np.ndarray, shape: tuple[int, ...]):
        self.shape, self.slot_bytes = tuple(shape), int(np.prod(shape))
        digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
        self.folder = cache_root() / "samples" / digest
        self.note, self.enabled = None, True
        self._lock, self._writes, self._fd = threading.Lock(), 0, None
        self.meta = np.zeros(len(names), _META)
        self.meta["size"], self.meta["mtime"] = stamps[:, 0], stamps[:, 1]
        try:
            self._open(key, names)
        except OSError as exc:
            self._disable(f"cannot use the data cache at {self.folder} ({exc.strerror or exc}); reading without cache")

    def _open(self, key: dict, names: list[str]) -> None:
        need = len(names) * self.slot_bytes
        self.folder.mkdir(parents=True, exist_ok=True)
        pixels = self.folder / "pixels.u8"
        have = pixels.stat().st_size if pixels.exists() else 0
        free = shutil.disk_usage(self.folder).free
        if need - have > free - _SPARE_BYTES:
            self._disable(f"no space for the data cache ({need >> 20} MiB needed, {free >> 20} MiB free at "
                          f"{self.folder}); training reads without cache (slower): free space or set {ENV}")
            return
        old = self._old_slots(key, names)
        self._fd = os.open(pixels, os.O_RDWR | os.O_CREAT, 0o644)
        if old is not None and old[0] == names:
            self._keep_unchanged(old[1])
        elif old is not None:  # the file list changed: move kept slots into a new pixel file
            fresh = pixels.with_name("pixels.u8.new")
            new_fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            self._move_unchanged(*old, names, new_fd)
            os.replace(fresh, pixels)
            os.close(self._fd)
            self._fd = new_fd
        os.ftruncate(self._fd, need)
        atexit.register(self.flush)
        atomic_write_json(self.folder / "info.json", {"key": key, "shape": list(self.shape), "count": len(names)})
        atomic_write_json(self.folder / "names.json", names)
        self.flush()

    def _old_slots(self, key, names):
        """(old names, old meta) of a cache for the same key, or None."""
        try:
            info = json.loads((self.folder / "info.json").read_text())
            old_names = json.loads((self.folder / "names.json").read_text())
            with open(self.folder / "meta.npy", "rb") as handle:
                old_meta = np.load(handle, allow_pickle=False)
        except (OSError, ValueError):
            return None
        if info.get("key") != key or list(info.get("shape", ())) != list(self.shape) or len(old_meta) != len(old_names):
            return None
        return old_names, old_meta

    def _keep_unchanged(self, old_meta) -> None:
        """Same file list: keep every filled slot whose file has the same size and mtime."""
        same = (old_meta["size"] == self.meta["size"]) & (old_meta["mtime"] == self.meta["mtime"])
        keep = same & (old_meta["state"] == FILLED)
        self.meta["crc"][keep], self.meta["state"][keep] = old_meta["crc"][keep], FILLED

    def _move_unchanged(self, old_names, old_meta, names, new_fd) -> None:
        """Copy the filled slots of unchanged files to their positions in the new file list."""
        where = {name: i for i, name in enumerate(old_names)}
        for new, name in enumerate(names):
            old = where.get(name)
            if old is None or old_meta["state"][old] != FILLED or old_meta["size"][old] != self.meta["size"][new] \
                    or old_meta["mtime"][old] != self.meta["mtime"][new]:
                continue
            os.pwrite(new_fd, os.pread(self._fd, self.slot_bytes, old * self.slot_bytes), new * self.slot_bytes)
            self.meta["crc"][new], self.meta["state"][new] = old_meta["crc"][old], FILLED

    def _disable(self, note: str) -> None:
        self.enabled, self.note = False, note
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def get(self, slot: int) -> np.ndarray | None:
        """The cached pixels of ``slot``, or None (not cached yet, stale or corrupted)."""
        if not self.enabled or self.meta["state"][slot] != FILLED:
            return None
        data = os.pread(self._fd, self.slot_bytes, slot * self.slot_bytes)
        if len(data) != self.slot_bytes or zlib.crc32(data) != self.meta["crc"][slot]:
            self.meta["state"][slot] = EMPTY  # corrupted entry: decoded again by the caller
            return None
        return np.frombuffer(data, np.uint8).reshape(self.shape)

    def put(self, slot: int, pixels: np.ndarray) -> None:
        """Store decoded pixels; a full disk disables the cache (with a note), never fails."""
        if not self.enabled:
            return
        data = np.ascontiguousarray(pixels, np.uint8).tobytes()
        try:
            os.pwrite(self._fd, data, slot * self.slot_bytes)
        except OSError as exc:
            self._disable(f"the data cache stopped ({exc.strerror}); training goes on reading without cache")
            return
        with self._lock:
            self.meta["crc"][slot], self.meta["state"][slot] = zlib.crc32(data), FILLED
            self._writes += 1
            if self._writes % _FLUSH_EVERY == 0:
                self.flush()

    def filled(self) -> int:
        return int((self.meta["state"] == FILLED).sum()) if self.enabled else 0

    def flush(self) -> None:
        """Write the slot table (size, mtime, CRC, state) next to the pixels."""
        if not self.enabled:
            return
        import io

        buffer = io.BytesIO()
        np.save(buffer, self.meta, allow_pickle=False)
        try:
            atomic_write_bytes(self.folder / "meta.npy", buffer.getvalue())
        except OSError as exc:
            self._disable(f"the data cache stopped ({exc.strerror}); training goes on reading without cache")
