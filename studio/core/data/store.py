"""Image folders read lazily: decoded on first use, then served from the on-disk sample cache.

``ImageStore`` is an array-like (``shape``, ``dtype``, ``len``, indexing -> float32 numpy) that a
``Dataset`` holds instead of a numpy array when the images are streamed; ``read_batch`` is what
the pipelines call. Views (``view``, ``normalized``) share one ``ImageSource``, so splits cost
only their index arrays. A file that vanished or no longer decodes mid-run is dropped from its
batch and reported once (stderr, which a training run keeps in ``log.txt``); the run goes on.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

import numpy as np

from studio.core.data.disk_cache import SampleCache

DECODE_ERRORS = (OSError, ValueError, SyntaxError)
logger = logging.getLogger(__name__)


class ImageSource:
    """Decoded uint8 pixels of ``files`` at ``shape`` (H, W, C), through ``cache``."""

    def __init__(self, root: Path, files: list[Path], shape: tuple[int, int, int], cache: SampleCache):
        self.root, self.files, self.shape, self.cache = root, files, tuple(shape), cache
        self.skipped: dict[int, tuple[str, str]] = {}  # slot -> (relative path, reason)
        self._lock = threading.Lock()

    def pixels(self, slot: int) -> np.ndarray | None:
        """Slot ``slot`` from the cache, else decoded (and cached); None when unreadable now."""
        cached = self.cache.get(slot)
        if cached is not None:
            return cached
        try:
            pixels = decode(self.files[slot], self.shape[:2], self.shape[2] == 3)
        except DECODE_ERRORS as exc:
            self._skip(slot, exc)
            return None
        self.cache.put(slot, pixels)
        return pixels

    def read(self, slots: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(uint8 pixels of the readable slots, ok mask over slots)``."""
        out = np.empty((len(slots), *self.shape), np.uint8)
        ok = np.ones(len(slots), bool)
        for row, slot in enumerate(slots):
            pixels = self.pixels(int(slot))
            if pixels is None:
                ok[row] = False
            else:
                out[row] = pixels
        return out[ok], ok

    def _skip(self, slot: int, exc: Exception) -> None:
        with self._lock:
            if slot in self.skipped:
                return
            where = self.files[slot].relative_to(self.root).as_posix() if self.files[slot].is_relative_to(self.root) \
                else str(self.files[slot])
            self.skipped[slot] = (where, str(exc))
        logger.warning("skipped %s: cannot read it now (%s); left out of its batches", where, exc)

    def fingerprint(self) -> str:
        digest = hashlib.sha256(str(self.cache.folder).encode())
        digest.update(self.cache.meta[["size", "mtime"]].tobytes())
        return digest.hexdigest()


class ImageStore:
    """Samples ``indices`` of ``source`` as float32: ``pixels / divide`` then ``(x - offset) / factor``."""

    dtype = np.dtype(np.float32)
    ndim = 4

    def __init__(self, source: ImageSource, indices: np.ndarray, divide: float | None = None,
                 offset: np.ndarray | None = None, factor: np.ndarray | None = None):
        self.source, self.indices = source, np.asarray(indices, np.int64)
        self.divide, self.offset, self.factor = divide, offset, factor

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.indices), *self.source.shape)

    @property
    def nbytes(self) -> int:
        """Bytes held in memory (the pixels stay on disk)."""
        return int(self.indices.nbytes)

    def __len__(self) -> int:
        return len(self.indices)

    def view(self, key) -> ImageStore:
        """The samples ``key`` (index array or slice) of this store, not read yet."""
        return ImageStore(self.source, self.indices[key], self.divide, self.offset, self.factor)

    def normalized(self, divide: float | None, offset=None, factor=None) -> ImageStore:
        return ImageStore(self.source, self.indices, divide, offset, factor)

    def read_batch(self, key) -> tuple[np.ndarray, np.ndarray]:
        """``(float32 samples that could be read, ok mask)`` for positions ``key``."""
        pixels, ok = self.source.read(self.indices[key])
        return self._convert(pixels), ok

    def __getitem__(self, key):
        """Float32 samples; an unreadable sample is all zeros here (pipelines use ``read_batch``)."""
        single = isinstance(key, (int, np.integer))
        positions = np.atleast_1d(self.indices[key])
        pixels, ok = self.source.read(positions)
        out = np.zeros((len(positions), *self.source.shape), np.float32)
        out[ok] = self._convert(pixels)
        return out[0] if single else out

    def __array__(self, dtype=None, copy=None):
        array = self[:]
        return array if dtype is None else array.astype(dtype)

    def channel_stats(self, chunk: int = 512) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel mean and std of ``pixels / divide`` over every sample (one streaming pass)."""
        channels = self.source.shape[2]
        total, squares, count = np.zeros(channels), np.zeros(channels), 0
        for start in range(0, len(self.indices), chunk):
            pixels, _ = self.source.read(self.indices[start:start + chunk])
            values = pixels.astype(np.float32) / np.float32(self.divide or 1.0)
            total += values.sum(axis=(0, 1, 2), dtype=np.float64)
            squares += np.square(values, dtype=np.float64).sum(axis=(0, 1, 2))
            count += values.shape[0] * values.shape[1] * values.shape[2]
        self.source.cache.flush()
        mean = total / max(count, 1)
        return mean, np.sqrt(np.maximum(squares / max(count, 1) - mean**2, 0.0))

    def fingerprint_bytes(self) -> bytes:
        """What identifies these samples: the cache, the files' stamps, the indices, the scaling."""
        parts = [self.source.fingerprint(), self.indices.tobytes(), repr(self.divide)]
        for array in (self.offset, self.factor):
            parts.append(b"" if array is None else np.asarray(array, np.float32).tobytes())
        return b"|".join(p if isinstance(p, bytes) else p.encode() for p in parts)

    def _convert(self, pixels: np.ndarray) -> np.ndarray:
        x = pixels.astype(np.float32)
        if self.divide:
            x = x / np.float32(self.divide)
        if self.offset is not None:
            x = ((x - self.offset) / self.factor).astype(np.float32)
        return x


def decode(path: Path, size: tuple[int, int], colour: bool) -> np.ndarray:
    """Decode one file to uint8 (H, W, C); transparency is flattened onto white."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        if image.mode.startswith("I;16") or image.mode == "I":
            image = Image.fromarray((np.asarray(image, np.float32) / 257).clip(0, 255).astype(np.uint8))
        if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("RGB" if colour else "L")
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.BILINEAR)
        pixels = np.asarray(image, np.uint8)
    return pixels if colour else pixels[..., None]
