"""Long work (a sweep, a lesson) in a child process started by ``studio.core.processes``, so that it
never takes the window's time or GIL. The child runs at a lower CPU priority (nice
``BACKGROUND_NICE``; its own training processes inherit it), so the window is scheduled first when
the machine is busy; its output goes to a log file the caller reads by time.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from studio.core import processes

BACKGROUND_NICE = 10


def start_background(target: list[str], log_path: str | os.PathLike) -> subprocess.Popen:
    """Start ``target`` (``processes.call`` ...) at low priority with its output in ``log_path``;
    ``OSError`` when it cannot start."""
    return processes.start(target, log=log_path, nice=BACKGROUND_NICE)


def last_error(log_path: str | os.PathLike, fallback: str) -> str:
    """The child's one-line error (``error: ...``), else its last line of output, else ``fallback``."""
    try:
        lines = [line.strip() for line in Path(log_path).read_text(
            encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return (errors or lines or [fallback])[-1][:300]
