"""Reading only what was appended to an events log since a byte offset, streamed in chunks."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Iterator

CHUNK_BYTES = 1 << 20
MAX_LINE_BYTES = 16 << 20  # an event is a few KB; a longer "line" is damage and is skipped


def open_appended(path: str | os.PathLike, offset: int) -> tuple[int, Iterator[tuple[bytes, int]]]:
    """Where reading starts and the complete lines of ``path`` after it, read a chunk at a time.

    Args:
        path: an append-only log (events.jsonl).
        offset: the bytes already read.

    Returns:
        ``(start, lines)``: ``start`` is ``offset``, or 0 when the file is shorter (it was replaced);
        ``lines`` yields ``(line, end)``, ``end`` the offset just after the line. A line still being
        written (no newline yet) is left for the next call; memory stays bounded by the chunk and
        ``MAX_LINE_BYTES`` whatever the log's size (a longer line is yielded empty). A missing file has no lines; a path that is not a
        file raises OSError.
    """
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block the open itself
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        handle = open(Path(path), "rb")
    except FileNotFoundError:
        return offset, iter(())
    size = os.fstat(handle.fileno()).st_size
    start = 0 if size < offset else offset
    handle.seek(start)
    return start, _lines(handle, start)


def _lines(handle, position: int) -> Iterator[tuple[bytes, int]]:
    with handle:
        pending, skipping = b"", False
        while chunk := handle.read(CHUNK_BYTES):
            pieces = (pending + chunk).split(b"\n")
            pending = pieces.pop()
            for piece in pieces:
                position += len(piece) + 1
                yield (b"" if skipping else piece), position
                skipping = False
            if len(pending) > MAX_LINE_BYTES:  # drop an overlong line, keep counting its bytes
                position, pending, skipping = position + len(pending), b"", True

