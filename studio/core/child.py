"""The first code of every child process ``studio.core.processes`` starts: tie the child's life to
its parent's, then run its target.

``python -m studio.core.child PARENT_PID call module:function '[args, kwargs]'``
(or ``module NAME ARGS...``, ``script PATH ARGS...``). A ``call`` whose function raises prints the
traceback and a last line ``error: <message>`` to stderr and exits with code 1.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sys
import threading
import traceback

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process as soon as process ``parent`` (which started it) ends.

    Linux: the kernel sends SIGKILL when the parent dies (``PR_SET_PDEATHSIG``). Everywhere: a
    watchdog thread ends the process when stdin (a pipe only the parent writes to) closes.
    """
    if sys.platform.startswith("linux"):
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # it died before the request above was in place
        os._exit(1)
    threading.Thread(target=_exit_when_closed, name="studio-parent-watchdog", daemon=True).start()


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
    die_with_parent(int(parent))
    sys.argv = [what, *rest]
    if mode == "module":
        runpy.run_module(what, run_name="__main__", alter_sys=True)
    elif mode == "script":
        sys.path[0] = os.path.dirname(os.path.abspath(what))
        runpy.run_path(what, run_name="__main__")
    else:
        name, _, function = what.partition(":")
        args, kwargs = json.loads(rest[0])
        try:
            getattr(importlib.import_module(name), function)(*args, **kwargs)
        except Exception as exc:  # the parent reads the last line; the traceback above it is for the log
            traceback.print_exc()
            print(f"error: {(str(exc).strip().splitlines() or [type(exc).__name__])[0]}", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
