"""Long work (a sweep, a lesson) in a child process started by ``studio.core.processes``, so that it
never takes the window's time or GIL. The child runs at a lower CPU priority (nice
``BACKGROUND_NICE``; its own training processes inherit it), so the window is scheduled first when
the machine is busy; its output goes to a log file the caller reads by time.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from studio.core import processes

BACKGROUND_NICE = 10
# what TensorFlow's and XLA's native code logs (absl format "I0000 00:00:1796.. 123 file.cc:31] ..."),
# such as the CUDA probe on a machine without a GPU: noise to a reader of the child's output
_NATIVE_LOG = re.compile(r"^[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.]+:\d+\] |^WARNING: All log messages before absl")


def readable_lines(text: str) -> list[str]:
    """The lines of a child's output worth showing: not blank, not the native libraries' log lines."""
    return [line.rstrip() for line in text.splitlines() if line.strip() and not _NATIVE_LOG.match(line)]


def start_background(target: list[str], log_path: str | os.PathLike) -> subprocess.Popen:
    """Start ``target`` (``processes.call`` ...) at low priority with its output in ``log_path``;
    ``OSError`` when it cannot start."""
    return processes.start(target, log=log_path, nice=BACKGROUND_NICE)


def last_error(log_path: str | os.PathLike, fallback: str) -> str:
    """The child's one-line error (``error: ...``), else its last line of output, else ``fallback``."""
    try:
        lines = [line.strip() for line in readable_lines(Path(log_path).read_text(encoding="utf-8", errors="replace"))]
    except OSError:
        lines = []
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return (errors or lines or [fallback])[-1][:300]
