"""The first code of every child process ``studio.core.processes`` starts: tie the child's life to
its parent's, then run its target.

``python -m studio.core.child PARENT_PID call module:function '{"args", "kwargs", "result"}'``
(or ``module NAME ARGS...``, ``script PATH ARGS...``, ``program NAME ARGS...``,
``serve module:function``). A ``call`` whose function raises prints the traceback and a last line
``error: <message>`` to stderr and exits with code 1. ``serve`` answers the calls of a
``processes.Server`` (pickled, on stdin and stdout) until stdin closes.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import pickle
import runpy
import sys
import threading
import traceback

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, watch_stdin: bool = True) -> None:
    """End this process as soon as process ``parent`` (which started it) ends.

    Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``). Everywhere (with
    ``watch_stdin``): a watchdog thread ends the process when stdin, a pipe only the parent writes
    to, closes.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request above was in place
        os._exit(1)
    if watch_stdin:
        threading.Thread(target=_exit_when_closed, name="studio-parent-watchdog", daemon=True).start()


def _register_plugins() -> None:
    """Register the features the parent had registered (a run started here gets them too)."""
    from studio.core import hooks
    from studio.core.processes import PLUGINS_VARIABLE

    hooks.register(*filter(None, os.environ.get(PLUGINS_VARIABLE, "").split(",")))


def _exit_when_closed() -> None:
    stdin = sys.stdin.fileno()
    try:
        while os.read(stdin, 4096):
            pass
    except OSError:
        pass
    os._exit(1)


def main(argv: list[str]) -> None:
    parent, mode, what, *rest = argv
    if mode == "program":  # Linux keeps the death signal across exec; elsewhere nothing watches it
        die_with_parent(int(parent), watch_stdin=False)
        os.execvp(what, [what, *rest])
    if mode == "serve":
        die_with_parent(int(parent), watch_stdin=False)  # the request loop reads stdin itself
        _register_plugins()
        serve(what)
        return
    die_with_parent(int(parent))
    _register_plugins()
    sys.argv = [what, *rest]
    if mode == "module":
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    elif mode == "script":
        sys.path[0] = os.path.dirname(os.path.abspath(what))
        runpy.run_path(what, run_name="__main__")
    else:
        request = json.loads(rest[0])
        try:
            value = _function(what)(*request["args"], **request["kwargs"])
        except Exception as exc:  # the parent reads the last line; the traceback above it is for the log
            traceback.print_exc()
            print(f"error: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}", file=sys.stderr)
            sys.exit(1)
        if request["result"]:
            from studio.core import fileio

            fileio.atomic_write_text(request["result"], json.dumps(value, default=_plain))


def serve(what: str) -> None:
    """Answer ``processes.Server`` calls until the parent closes stdin."""
    from studio.core.processes import receive, send

    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # what the function prints goes to the log
    function, requests = _function(what), sys.stdin.buffer
    while True:
        try:
            args, kwargs = receive(requests)
        except EOFError:
            return
        try:
            reply = (False, function(*args, **kwargs))
        except Exception as exc:
            reply = (True, exc)
        try:
            send(replies, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            send(replies, (True, RuntimeError(f"{what} answered what cannot be sent back: {exc}")))


def _function(what: str):
    name, _, function = what.partition(":")
    return getattr(importlib.import_module(name), function)


def _plain(value):
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return str(value)  # paths


if __name__ == "__main__":
    main(sys.argv[1:])
