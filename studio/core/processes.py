"""Child processes: the one way the studio starts another process.

Every child is a fresh Python interpreter (spawn: nothing of this process's memory is inherited)
running ``studio.core.child``, which first ties its life to this process, then runs its target:
a function (``call``), a module as ``__main__`` (``module``), a script file (``script``) or,
on Linux, another program (``program``)::

    process = start(call("studio.core.training.engine:child_main", [run_dir, False]),
                    env={"KERAS_BACKEND": "jax"}, log=run_dir / "log.txt")
    done = run(module("studio.core.backends.probe", "jax"), timeout=60)   # waits; output captured
    reader = Server("studio.core.experiments.sweep:study_results")        # one child, many calls
    rows = reader.call(storage, name, 0)

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
import pickle
import signal
import struct
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

_LAUNCHER = ThreadPoolExecutor(1, thread_name_prefix="studio-launcher")


def call(function: str, args: Sequence[Any] = (), kwargs: dict[str, Any] | None = None,
         result: str | os.PathLike | None = None) -> list[str]:
    """The target ``module:function(*args, **kwargs)`` (JSON-able values); with ``result``, the child
    writes what it returns there as JSON (dataclasses as objects, paths as strings).

    Args:
        function: ``"package.module:function"``, imported in the child.
        args: positional arguments, JSON-able.
        kwargs: keyword arguments, JSON-able; None for none.
        result: the file the child writes the return value to, or None to drop it.

    Returns:
        The target list for ``start`` or ``run``.
    """
    return ["call", function, json.dumps({"args": list(args), "kwargs": kwargs or {},
                                          "result": None if result is None else str(result)})]


def module(name: str, *args: str) -> list[str]:
    """The target ``python -m name args``."""
    return ["module", name, *map(str, args)]


def script(path: str | os.PathLike, *args: str) -> list[str]:
    """The target ``python path args``."""
    return ["script", str(path), *map(str, args)]


def program(name: str, *args: str) -> list[str]:
    """The target: a program that is not Python (``ldd``), which replaces the child's interpreter.
    Only Linux ties it to its parent (the death signal survives ``exec``; no watchdog is left)."""
    return ["program", name, *map(str, args)]


PLUGINS_VARIABLE = "STUDIO_PLUGINS"  # the parent's registered features, registered again in the child


def start(target: Sequence[str], *, env: dict[str, str] | None = None, log: str | os.PathLike | None = None,
          cwd: str | os.PathLike | None = None, nice: int = 0,
          stdout: Any = None, stderr: Any = None) -> subprocess.Popen:
    """Start a child process running ``target``.

    Args:
        target: what the child runs (``call``, ``module``, ``script`` or ``program``).
        env: variables set for the child only (on top of this process's environment).
        log: file that receives the child's stdout and stderr (appended; unbuffered, so it can
            be followed live). Without it, ``stdout``/``stderr`` (file objects or ``subprocess.PIPE``).
        cwd: the child's working folder.
        nice: the child's CPU niceness (0: this process's; Windows: below normal when set); its
            own children inherit it.

    Returns:
        The child's ``Popen``. Keep it while the child should live: dropping it ends the child.

    Raises:
        OSError: the child cannot start.
    """
    import studio
    from studio.core import hooks

    root = str(Path(studio.__file__).resolve().parents[1])
    child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1", PLUGINS_VARIABLE: ",".join(hooks.registered()),
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


class ChildGone(RuntimeError):
    """The child serving calls ended (killed, crashed) before it answered."""


class Server:
    """One long-lived child that runs ``function`` (``module:function``) for each ``call``, so that
    work which would hold this process's GIL (e.g. Optuna reading a study) runs elsewhere.

    The child starts at the first call (again after it died) and ends with ``close``; its stderr
    (and anything the function prints) goes to ``log``. Calls from several threads take turns.
    """

    def __init__(self, function: str, *, log: str | os.PathLike | None = None, nice: int = 0) -> None:
        self.function, self.log, self.nice = function, log, nice
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """``function(*args, **kwargs)`` in the child (picklable values).

        Returns:
            What it returned.

        Raises:
            What it raised (the same exception), or ChildGone when the child ended first.
        """
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                with open(self.log or os.devnull, "ab") as log:
                    self._process = start(["serve", self.function], nice=self.nice, stdout=subprocess.PIPE,
                                          stderr=log)
            process = self._process
            try:
                send(process.stdin, (args, kwargs))
                failed, value = receive(process.stdout)
            except (OSError, ValueError, EOFError):  # ValueError: ``close`` closed the pipe meanwhile
                self._end()
                raise ChildGone(f"the process running {self.function} ended unexpectedly") from None
        if failed:
            raise value
        return value

    def close(self) -> None:
        """End the child (a call waiting for it raises ChildGone)."""
        self._end()

    def _end(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    stream.close()


def send(stream, value: Any) -> None:
    """Write one pickled message (length first) to a ``Server`` pipe."""
    data = pickle.dumps(value)
    stream.write(struct.pack("<Q", len(data)) + data)
    stream.flush()


def receive(stream) -> Any:
    """Read one message ``send`` wrote; EOFError when the pipe closed first."""
    header = stream.read(8)
    if len(header) < 8:
        raise EOFError
    data = stream.read(struct.unpack("<Q", header)[0])
    return pickle.loads(data)
