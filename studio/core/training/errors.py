"""The training engine's user-facing error and the mapping of failures to clear messages."""

from __future__ import annotations

import errno

from studio.core.backends.devices import DeviceError


class TrainingError(Exception):
    """A problem the user can fix (settings, graph, data, folder); the message says how."""


class DiskFull(OSError):
    """Too little free space for a write, found before writing: an ``ENOSPC`` OSError."""

    def __init__(self, directory, needed: int, free: int) -> None:
        super().__init__(errno.ENOSPC, f"needs about {needed / 2**20:.0f} MB, {free / 2**20:.0f} MB free",
                         str(directory))


def describe_failure(exc: BaseException, batch_size: int, kept: str = "") -> tuple[str, str]:
    """Map an exception raised while training to ``(kind, one-line message)``.

    Args:
        exc: what was raised.
        batch_size: the run's batch size (an out-of-memory message suggests half).
        kept: what the run keeps to resume from (``diskspace.kept_files``), said after a full disk.

    Returns:
        ``(kind, message)``, kind one of oom, disk_full, unwritable, data, config, internal.
    """
    name = type(exc).__name__
    if name == "ResourceExhaustedError" or "out of memory" in str(exc).lower():
        smaller = max(1, batch_size // 2)
        return "oom", (
            f"the device ran out of memory at batch size {batch_size}: "
            f"try batch size {smaller} (or a smaller model)"
        )
    oserror = exc if isinstance(exc, OSError) else exc.__cause__
    if isinstance(oserror, OSError):
        where = f" ({oserror.filename})" if getattr(oserror, "filename", None) else ""
        if oserror.errno in (errno.ENOSPC, errno.EDQUOT):
            need = f"the write {oserror.strerror}; " if isinstance(oserror, DiskFull) else ""
            return "disk_full", (f"the disk is full{where}: {need}free some space, then resume the run"
                                 + (f"; {kept}" if kept else ""))
        if oserror.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            why = "it is on a read-only file system" if oserror.errno == errno.EROFS else "permission denied"
            return "unwritable", f"cannot write the run folder{where}: {why}; choose a writable folder"
    if isinstance(exc, (TrainingError, DeviceError)):
        return "config", str(exc)
    if name == "DataError":
        return "data", str(exc)
    return "internal", f"{name}: {exc}".strip()
