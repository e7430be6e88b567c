"""Arrays larger than memory, read lazily: memory-mapped .npy files and uncompressed NPZ members.

``ArrayStore`` is the array-like a ``Dataset`` holds instead of a float32 numpy array when the
inputs exceed ``tabular.max_array_bytes()``: rows ``indices`` of a memory-mapped array of any
numeric dtype, converted to float32 one batch at a time (``read_batch``, what the pipelines call),
so the whole array is never copied. Conversion per batch: reshape to ``sample_shape``, ``* multiply``
(pixel fractions -> 0..255), NaN -> ``fill`` (per column), ``/ divide``, then ``(x - offset) / factor``.
Statistics (``stats``) take one streaming pass in chunks of ``CHUNK_BYTES``.
"""

from __future__ import annotations

import hashlib
import mmap
import zipfile
from pathlib import Path

import numpy as np

CHUNK_BYTES = 4 << 20  # float32 bytes per chunk of a streaming pass


class ArrayStore:
    """Rows ``indices`` of the memory-mapped ``array`` (N, ...) as float32 of ``sample_shape``."""

    dtype = np.dtype(np.float32)

    def __init__(self, array: np.ndarray, indices: np.ndarray, sample_shape: tuple[int, ...], stamp: str,
                 multiply=None, fill=None, divide=None, offset=None, factor=None, columns=None):
        self.array, self.indices, self.stamp = array, np.asarray(indices, np.int64), stamp
        self.sample_shape = tuple(sample_shape)
        self.multiply, self.fill, self.divide, self.offset, self.factor = multiply, fill, divide, offset, factor
        self.columns = columns  # kept feature columns of a 2-D table (None: all)

    def _with(self, **changes) -> ArrayStore:
        fields = {"multiply": self.multiply, "fill": self.fill, "divide": self.divide, "offset": self.offset,
                  "factor": self.factor, "columns": self.columns}
        fields.update(changes)
        indices = fields.pop("indices", self.indices)
        shape = fields.pop("sample_shape", self.sample_shape)
        return ArrayStore(self.array, indices, shape, self.stamp, **fields)

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.indices), *self.sample_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.sample_shape)

    @property
    def nbytes(self) -> int:
        """Bytes held in memory (the values stay on disk)."""
        return int(self.indices.nbytes)

    def __len__(self) -> int:
        return len(self.indices)

    def view(self, key) -> ArrayStore:
        """The rows ``key`` (index array or slice) of this store, not read yet."""
        return self._with(indices=self.indices[key])

    def select_columns(self, columns: list[int]) -> ArrayStore:
        """Only feature ``columns`` of a 2-D table."""
        return self._with(columns=np.asarray(columns, np.int64), sample_shape=(len(columns),))

    def converted(self, **changes) -> ArrayStore:
        """The same rows with other conversion settings (multiply, fill, divide, offset, factor)."""
        return self._with(**changes)

    def normalized(self, divide=None, offset=None, factor=None) -> ArrayStore:
        return self._with(divide=divide, offset=offset, factor=factor)

    def read_batch(self, key) -> tuple[np.ndarray, np.ndarray]:
        """``(float32 rows, ok mask)`` for positions ``key``; every row of a file array is readable.
        The pages read are released again, so an epoch over a larger-than-memory file stays flat."""
        x = self._convert(self._raw(np.atleast_1d(self.indices[key])))
        release(self.array)
        return x, np.ones(len(x), bool)

    def __getitem__(self, key):
        single = isinstance(key, (int, np.integer))
        rows = np.atleast_1d(self.indices[key])
        out = self._convert(self._raw(rows))
        return out[0] if single else out

    def __array__(self, dtype=None, copy=None):
        array = self[:]
        return array if dtype is None else array.astype(dtype)

    def _raw(self, rows: np.ndarray) -> np.ndarray:
        """The stored values of ``rows`` (sorted reads are sequential on disk)."""
        if len(rows) > 1 and np.any(rows[1:] < rows[:-1]):
            order = np.argsort(rows, kind="stable")
            raw = np.empty((len(rows), *self.array.shape[1:]), self.array.dtype)
            raw[order] = self.array[rows[order]]
        else:
            raw = self.array[rows]
        return raw if self.columns is None else raw[:, self.columns]

    def _convert(self, raw: np.ndarray) -> np.ndarray:
        x = raw.astype(np.float32).reshape(len(raw), *self.sample_shape)
        if self.multiply is not None:
            x *= np.float32(self.multiply)
        if self.fill is not None:
            x = np.where(np.isnan(x), np.asarray(self.fill, np.float32), x)
        if self.divide:
            x /= np.float32(self.divide)
        if self.offset is not None:
            x = ((x - self.offset) / self.factor).astype(np.float32)
        return x

    def chunks(self):
        """Float32 chunks of every row in order (one streaming pass; pages are released as it goes)."""
        step = max(1, CHUNK_BYTES // (4 * max(1, int(np.prod(self.sample_shape, dtype=np.int64)))))
        for start in range(0, len(self.indices), step):
            yield self[start:start + step]
            release(self.array)

    def stats(self) -> dict[str, np.ndarray]:
        """Per-last-axis ``count, mean, std, min, max`` of the finite converted values and the
        number of values that are not finite (one streaming pass, a chunk at a time)."""
        width = self.sample_shape[-1]
        count, total, squares = np.zeros(width), np.zeros(width), np.zeros(width)
        low, high = np.full(width, np.inf), np.full(width, -np.inf)
        for chunk in self.chunks():
            values = chunk.reshape(-1, width)
            sums = _per_column(np.add, values, np.float64)
            if not np.isfinite(sums).all():  # float64 sums of float32 values overflow only on inf/NaN
                finite = np.isfinite(values)
                count += finite.sum(axis=0)
                low = np.fmin(low, np.where(finite, values, np.inf).min(axis=0, initial=np.inf))
                high = np.fmax(high, np.where(finite, values, -np.inf).max(axis=0, initial=-np.inf))
                values = np.where(finite, values, np.float32(0))
                sums = _per_column(np.add, values, np.float64)
            elif len(values):
                count += len(values)
                low = np.fmin(low, _per_column(np.minimum, values))
                high = np.fmax(high, _per_column(np.maximum, values))
            total += sums
            squares += np.einsum("ij,ij->j", values, values, dtype=np.float64)
        mean = total / np.maximum(count, 1)
        std = np.sqrt(np.maximum(squares / np.maximum(count, 1) - mean**2, 0.0))
        size = len(self) * int(np.prod(self.sample_shape, dtype=np.int64))
        return {"count": count, "mean": mean, "std": std, "min": low, "max": high, "nonfinite": size - int(count.sum())}

    def channel_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-channel (last axis) mean and std, as ``store.ImageStore.channel_stats``."""
        stats = self.stats()
        return stats["mean"], stats["std"]

    def fingerprint_bytes(self) -> bytes:
        """What identifies these rows: the file's stamp, the indices, the conversion settings."""
        digest = hashlib.sha256(self.stamp.encode())
        digest.update(self.indices.tobytes())
        for value in (self.multiply, self.fill, self.divide, self.offset, self.factor, self.columns):
            digest.update(b"|" + (b"-" if value is None else np.asarray(value, np.float64).tobytes()))
        return digest.digest()


def _per_column(ufunc, values: np.ndarray, dtype=None) -> np.ndarray:
    """``ufunc.reduce(values, axis=0)`` for (rows, few columns): rows are folded into wide rows
    first (a reduction along 3 columns is many times slower than along 768)."""
    rows, width = values.shape
    fold = 256
    while rows % fold:
        fold //= 2
    wide = ufunc.reduce(values.reshape(rows // fold, fold * width), axis=0, dtype=dtype)
    return ufunc.reduce(wide.reshape(fold, width), axis=0)


def release(array: np.ndarray) -> None:
    """Drop the pages of the memory-mapped ``array`` this process has read (they stay in the page
    cache), so a pass over a file larger than memory does not grow the resident set."""
    handle = getattr(array, "_mmap", None)  # np.memmap's mapping
    if handle is not None and hasattr(mmap, "MADV_DONTNEED"):
        handle.madvise(mmap.MADV_DONTNEED)


def file_stamp(path: Path) -> str:
    """``path`` with its size and modification time: what invalidates a cache of it."""
    info = path.stat()
    return f"{path.resolve()}|{info.st_size}|{info.st_mtime_ns}"


def npz_member_memmap(path: Path, info: zipfile.ZipInfo, shape, dtype, fortran: bool) -> np.ndarray | None:
    """The .npy member ``info`` of the archive ``path`` memory-mapped in place, or None when it is
    compressed (only a stored member has its bytes as-is in the file)."""
    if info.compress_type != zipfile.ZIP_STORED or fortran:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        local = handle.read(30)
        if local[:4] != b"PK\x03\x04":
            return None
        name_length = int.from_bytes(local[26:28], "little")
        extra_length = int.from_bytes(local[28:30], "little")
        start = info.header_offset + 30 + name_length + extra_length  # the member's .npy bytes
        handle.seek(start)
        version = np.lib.format.read_magic(handle)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        read(handle, max_header_size=1 << 16)
        offset = handle.tell()
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))
