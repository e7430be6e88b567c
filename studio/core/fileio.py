"""Atomic file writes and JSON helpers shared by every core sub-package."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path
from typing import Any

JSON_MAX_DEPTH = 64  # a project or a Keras config nests about 12 levels
STALE_TEMP_S = 60.0  # a temp file this old beside its target is left over from a killed save

_UMASK = os.umask(0)
os.umask(_UMASK)


def _publish(tmp: str, path: Path) -> None:
    """Give the temp file normal permissions (mkstemp makes it private) and move it into place."""
    os.chmod(tmp, 0o666 & ~_UMASK)
    os.replace(tmp, path)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temp file in the same folder and ``os.replace``.

    A crash or a full disk leaves the previous file untouched.

    Args:
        path: the file to write or replace; its folder must exist.
        data: the whole new content (flushed and fsynced before the replace).

    Raises:
        OSError: the temp file cannot be written or moved; it is removed first.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_temps(path: str | os.PathLike, older_than_s: float = STALE_TEMP_S) -> int:
    """Delete the hidden temp files that killed writes of ``path`` left beside it; returns how many.

    Only files named like ``atomic_write_bytes``'s temps for this target and older than
    ``older_than_s`` go, so a write in progress elsewhere keeps its file.

    Args:
        path: the target whose leftover temps to remove (it need not exist).
        older_than_s: the least age, in seconds, of a temp file that is removed.

    Returns:
        The number of temp files deleted; files that cannot be deleted are skipped.
    """
    path = Path(path)
    cutoff = time.time() - older_than_s
    removed = 0
    for tmp in path.parent.glob(f".{_glob_escape(path.name)}.*.tmp"):
        try:
            if tmp.is_file() and not tmp.is_symlink() and tmp.stat().st_mtime < cutoff:
                tmp.unlink()
                removed += 1
        except OSError:
            continue  # gone already, or not ours to delete
    return removed


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write UTF-8 ``text`` to ``path``."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as indented JSON."""
    atomic_write_text(path, json.dumps(obj, indent=1, sort_keys=False) + "\n")


def atomic_replace_with(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` to produce a file, then move it over ``path`` atomically.

    For writers that insist on a file name (``model.save``, ``Image.save``). The temp name keeps
    the target's suffixes, because Keras and Pillow pick the format from it.

    Args:
        path: the file to write or replace; its folder must exist.
        write: called with the temp file's path (a string; the empty file exists already).

    Raises:
        Whatever ``write`` raises, or OSError from the move; the temp file is removed first.
    """
    path = Path(path)
    # The whole compound suffix: Keras wants weights files to end in ".weights.h5".
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix="".join(path.suffixes), dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        _publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISSOCK, "a socket"))


def kind_of_mode(mode: int) -> str:
    """What an ``st_mode`` stands for: "a regular file", "a folder", "a character device", ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def special_kind(path: str | os.PathLike) -> str | None:
    """What ``path`` is when it exists but is neither a regular file nor a folder. Never opens it,
    so a FIFO cannot block.

    Args:
        path: any path.

    Returns:
        "a character device", "a named pipe (FIFO)", "a socket", "a symbolic link loop", ... or
        None for a regular file, a folder or a path that does not exist.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return "a symbolic link loop" if exc.errno == errno.ELOOP else None
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else kind_of_mode(mode)


def unwritable_reason(folder: str | os.PathLike) -> str | None:
    """Why nothing can be written in ``folder``.

    Args:
        folder: an existing folder.

    Returns:
        "it is on a read-only file system", "permission denied", or None when it is writable.
    """
    if os.access(folder, os.W_OK):
        return None
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "it is on a read-only file system"
    except (AttributeError, OSError):  # no statvfs on Windows
        pass
    return "permission denied"


def open_regular(path: str | os.PathLike):
    """Open ``path`` for binary reading, refusing anything but a regular file. It is opened
    without blocking, so a FIFO with no writer is refused at once instead of hanging.

    Args:
        path: the file to read.

    Returns:
        A binary file object. Raises ValueError ("a character device, not a regular file") for a
        device, FIFO, socket or folder, OSError when it cannot be opened.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"{kind_of_mode(mode)}, not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_prefix(path: str | os.PathLike, max_bytes: int) -> tuple[bytes, int]:
    """At most ``max_bytes`` from the start of the regular file ``path``, and the file's size.

    Returns:
        ``(data, size)``: the data was cut when ``size > len(data)``. Raises ValueError for what is
        not a regular file (a device, a FIFO, a folder) and OSError when it cannot be read.
    """
    with open_regular(path) as handle:
        return handle.read(max_bytes), os.fstat(handle.fileno()).st_size


def read_bytes_capped(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of ``path``; ValueError when it is larger than ``max_bytes`` (read no further) or
    not a regular file.

    Args:
        path: the file to read.
        max_bytes: the largest size accepted; at most ``max_bytes + 1`` bytes are read.

    Returns:
        The file's content.

    Raises:
        ValueError: the file is larger than ``max_bytes`` or not a regular file.
        OSError: the file is missing or cannot be opened.
    """
    with open_regular(path) as handle:
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValueError(f"larger than {max_bytes / 2**20:g} MiB, the most DL Studio reads")
    return data


ZIP_BOMB_RATIO = 200  # real data barely compresses this much; a big member that does is a bomb
ZIP_BOMB_MIN_BYTES = 64 * 2**20


def zip_bomb_problem(member) -> str | None:
    """Judge a zip member from its declared sizes alone, before inflating anything.

    Args:
        member: a ``zipfile.ZipInfo``.

    Returns:
        Why it is refused as a zip bomb (over 64 MiB and expanding more than 200 times), or None.
    """
    ratio = member.file_size // max(member.compress_size, 1)
    if member.file_size > ZIP_BOMB_MIN_BYTES and ratio > ZIP_BOMB_RATIO:
        return (f"{member.filename} expands {ratio:,} times (to {member.file_size / 2**20:,.0f} MiB): "
                "refused as a zip bomb")
    return None


def loads_json_bounded(text: str | bytes, max_depth: int = JSON_MAX_DEPTH) -> Any:
    """Parse JSON from an untrusted file; ValueError with one line for anything unusable.

    Refuses nesting deeper than ``max_depth`` (deep files crash ``json`` and ``deepcopy``),
    integers too long to convert and strings with lone surrogates (they cannot be printed).

    Args:
        text: the JSON document, as text or UTF-8 bytes.
        max_depth: the deepest nesting accepted.

    Returns:
        The parsed value.

    Raises:
        ValueError: invalid JSON, not UTF-8, too deep, or a value ``json_value_problem`` refuses.
    """
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError(f"nested more than {max_depth} levels deep") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8 text") from None
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise ValueError(f"not usable JSON ({exc})") from None
    problem = json_value_problem(value, max_depth)
    if problem:
        raise ValueError(problem)
    return value


def json_value_problem(value: Any, max_depth: int = JSON_MAX_DEPTH) -> str | None:
    """Why a parsed JSON value is unsafe to use (too deep, a lone surrogate), or None. Iterative,
    so it never recurses however deep ``value`` is."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return f"nested more than {max_depth} levels deep"
            if isinstance(item, dict):
                stack.extend((k, depth) for k in item)
                stack.extend((v, depth + 1) for v in item.values())
            else:
                stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return f"text {ascii(item[:40])} is not valid Unicode (a lone surrogate)"
    return None


def append_text(path: str | os.PathLike, text: str) -> None:
    """Append UTF-8 ``text`` to a log file (created if missing) and flush it to the OS at once.

    For append-only logs such as ``events.jsonl``: a crash can at worst cut the last line, which
    readers skip; rewriting the whole file atomically for every line would be far too slow.
    """
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)



def atomic_replace_dir(path: str | os.PathLike, write) -> None:
    """Call ``write(tmp_path)`` to create a folder, then move it to ``path`` (replacing any old one).

    For writers that produce a folder (a TensorFlow SavedModel). ``tmp_path`` does not exist yet
    and sits next to ``path``; if ``write`` raises, it is removed and ``path`` is left untouched.

    Args:
        path: the folder (or file) to create or replace; its parent must exist.
        write: called with the temp folder's path (a string) and must create it.
    """
    import shutil

    path = Path(path)
    holder = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp = holder / path.name
    try:
        write(str(tmp))
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        os.replace(tmp, path)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def atomic_copy(src: str | os.PathLike, dst: str | os.PathLike) -> None:
    """Make ``dst`` an atomic copy of ``src``: a hard link when the file system allows (instant,
    and safe because writers here always replace files rather than edit them), else a byte copy."""
    dst = Path(dst)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.link")
    try:
        tmp.unlink(missing_ok=True)
        os.link(src, tmp)
        os.replace(tmp, dst)
    except OSError:
        tmp.unlink(missing_ok=True)
        atomic_replace_with(dst, lambda path: shutil.copyfile(src, path))
