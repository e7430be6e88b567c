"""Child processes: the one way the studio starts another process.

Every child is a fresh Python interpreter (spawn: nothing of this process's memory is inherited)
running ``studio.core.child``, which first ties its life to this process, then runs its target:
a function (``call``), a module as ``__main__`` (``module``) or a script file (``script``)::

    process = start(call("studio.core.training.engine:child_main", run_dir, False),
                    env={"KERAS_BACKEND": "jax"}, log=run_dir / "log.txt")
    done = run(module("studio.core.backends.probe", "jax"), timeout=60)   # waits; output captured

- **Environment**: ``env`` is added to a copy of this process's environment for the child only;
  ``os.environ`` here is never changed, so threads starting children at once cannot race.
- **No child outlives its parent**: on Linux the child asks the kernel for SIGKILL when its parent
  dies (``PR_SET_PDEATHSIG``). The kernel ties that to the parent *thread* that started the child,
  so every child is started from one launcher thread that lives as long as this process. On every
  platform the child's stdin is also a pipe whose write end only this process holds, and a watchdog
  thread in the child ends it when the pipe closes: the parent died, or dropped the ``Popen``
  (keep it while the child should live). That pipe is the mechanism on macOS and Windows (the
  system closes a dead process's handles on both); there a child busy in C code that holds the
  GIL ends as soon as it returns to Python.
- **Output**: stdout and stderr go to ``log`` (appended), or are captured by ``run``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

_LAUNCHER = ThreadPoolExecutor(1, thread_name_prefix="studio-launcher")


def call(function: str, *args: Any, **kwargs: Any) -> list[str]:
    """The target ``module:function`` called with JSON-able ``args`` and ``kwargs`` in the child."""
    return ["call", function, json.dumps([args, kwargs])]


def module(name: str, *args: str) -> list[str]:
    """The target ``python -m name args``."""
    return ["module", name, *map(str, args)]


def script(path: str | os.PathLike, *args: str) -> list[str]:
    """The target ``python path args``."""
    return ["script", str(path), *map(str, args)]


def start(target: Sequence[str], *, env: dict[str, str] | None = None, log: str | os.PathLike | None = None,
          cwd: str | os.PathLike | None = None, nice: int = 0,
          stdout: Any = None, stderr: Any = None) -> subprocess.Popen:
    """Start a child process running ``target`` (from ``call``, ``module`` or ``script``).

    Args:
        target: what the child runs.
        env: variables set for the child only (on top of this process's environment).
        log: file that receives the child's stdout and stderr (appended; unbuffered, so it can
            be followed live). Without it, ``stdout``/``stderr`` (file objects or ``subprocess.PIPE``).
        cwd: the child's working folder.
        nice: how much lower the child's CPU priority is (its own children inherit it).

    Returns:
        The child's ``Popen``. Keep it while the child should live: dropping it ends the child.

    Raises:
        OSError: the child cannot start.
    """
    import studio

    root = str(Path(studio.__file__).resolve().parents[1])
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1",
                 "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}
    command = [sys.executable, "-m", "studio.core.child", str(os.getpid()), *target]
    windows = sys.platform == "win32"
    flags = (subprocess.CREATE_NEW_PROCESS_GROUP | (subprocess.BELOW_NORMAL_PRIORITY_CLASS if nice else 0)
             if windows else 0)
    with open(log, "ab") if log is not None else contextlib.nullcontext() as log_file:
        process = _LAUNCHER.submit(
            subprocess.Popen, command, stdin=subprocess.PIPE, env=child_env, cwd=cwd, creationflags=flags,
            stdout=log_file if log_file is not None else stdout,
            stderr=subprocess.STDOUT if log_file is not None else stderr).result()
    if nice and hasattr(os, "setpriority"):  # before the child gets to its work (it imports first)
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, process.pid, nice)
    return process


@dataclass
class Finished:
    """What a child started by ``run`` left: its exit code and its output."""

    returncode: int
    stdout: str
    stderr: str


def run(target: Sequence[str], *, timeout: float, env: dict[str, str] | None = None,
        cwd: str | os.PathLike | None = None) -> Finished:
    """Run ``target`` in a child process to its end.

    Args:
        target: what the child runs (``call``, ``module`` or ``script``).
        timeout: seconds before the child is killed.
        env: variables set for the child only.
        cwd: the child's working folder.

    Returns:
        Its exit code, stdout and stderr.

    Raises:
        subprocess.TimeoutExpired: it ran longer than ``timeout`` (it has been killed).
        OSError: it cannot start.
    """
    # Files, not pipes: ``communicate`` would close stdin, the child's lifeline.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = start(target, env=env, cwd=cwd, stdout=out, stderr=err)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        texts = []
        for file in (out, err):
            file.seek(0)
            texts.append(file.read().decode("utf-8", errors="replace"))
    return Finished(code, *texts)


def ask_to_stop(process: subprocess.Popen) -> None:
    """SIGTERM (CTRL_BREAK on Windows) to a child still running, for a graceful stop."""
    if process.poll() is None:
        process.send_signal(signal.CTRL_BREAK_EVENT if sys.platform == "win32" else signal.SIGTERM)
