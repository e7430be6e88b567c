"""``python -m studio ...`` in a child process, so that long work (a sweep, a lesson) never takes the
window's time or GIL. The child runs at a lower CPU priority (nice ``BACKGROUND_NICE``; its own
training processes inherit it), so the window is scheduled first when the machine is busy; its
output (stdout and stderr) goes to a log file the caller reads by time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import studio

BACKGROUND_NICE = 10


def studio_command(*args: str) -> list[str]:
    """The command line of ``python -m studio ARGS`` with this interpreter."""
    return [sys.executable, "-m", "studio", *args]


def start_child(command: list[str], log_path: str | os.PathLike) -> subprocess.Popen:
    """Start ``command`` with its output in ``log_path`` (unbuffered, so it can be followed live) and
    this checkout of ``studio`` importable; ``OSError`` when it cannot start."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(
        filter(None, [str(Path(studio.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH")]))}
    windows = sys.platform == "win32"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
            creationflags=subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.BELOW_NORMAL_PRIORITY_CLASS
            if windows else 0)
    if hasattr(os, "setpriority"):  # before the child starts any training (it imports first)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, BACKGROUND_NICE)
    return process


def ask_to_stop(process: subprocess.Popen) -> None:
    """SIGTERM (CTRL_BREAK on Windows) to a child still running."""
    if process.poll() is None:
        process.send_signal(signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGTERM)


def last_error(log_path: str | os.PathLike, fallback: str) -> str:
    """The child's one-line error (``error: ...``), else its last line of output, else ``fallback``."""
    try:
        lines = [line.strip() for line in Path(log_path).read_text(
            encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        lines = []
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return (errors or lines or [fallback])[-1][:300]
