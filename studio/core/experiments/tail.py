"""Reading only what was appended to an events log since a byte offset."""

from __future__ import annotations

import os
from pathlib import Path


def read_appended(path: str | os.PathLike, offset: int) -> tuple[list[bytes], int]:
    """Complete lines of ``path`` after byte ``offset`` and the offset after them.

    A line still being written (no newline yet) is left for the next call; a file shorter than
    ``offset`` (replaced) is read from the start, signalled by a returned offset below ``offset``.
    """
    try:
        with open(Path(path), "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                offset = 0
            if size == offset:
                return [], offset
            handle.seek(offset)
            data = handle.read()
    except FileNotFoundError:
        return [], offset
    end = data.rfind(b"\n") + 1
    return data[:end].splitlines(), offset + end
