"""One trainer per run folder: ``RUN/train.lock`` names the process (pid, host, start time) that
owns the folder while it trains.

The program starting a run takes the lock (``acquire``: an ``O_CREAT|O_EXCL`` create, so of two
programs only one can win), the training process it spawns takes it over (``adopt``) and removes
it when it ends (``release``). A lock left by a dead process on this host is stale and taken over;
a lock from another host cannot be checked, so the refusal says how to clear it by hand.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.training.errors import TrainingError
from studio.core.training.runs import pid_alive

LOCK_FILE = "train.lock"
WRITE_GRACE_S = 10.0  # an empty lock younger than this is being written, not abandoned


def lock_path(run_dir: str | os.PathLike) -> Path:
    return Path(run_dir) / LOCK_FILE


def _record(pid: int) -> dict[str, Any]:
    return {"pid": pid, "host": socket.gethostname(), "started": time.time()}


def read_lock(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The lock's content; None when there is no lock, {} when it is empty or unreadable."""
    try:
        data = json.loads(lock_path(run_dir).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _stale(path: Path, holder: dict[str, Any]) -> bool:
    if "pid" not in holder:  # a half-written lock, or garbage
        try:
            return time.time() - path.stat().st_mtime > WRITE_GRACE_S
        except FileNotFoundError:
            return True
    return holder.get("host") == socket.gethostname() and not pid_alive(holder["pid"])


def _refusal(run_dir: Path, holder: dict[str, Any]) -> TrainingError:
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(holder.get("started", 0)))
    return TrainingError(
        f"run {run_dir.name} is being trained by process {holder.get('pid', '?')} on host "
        f"{holder.get('host', '?')} (since {since}): wait for it to end or stop it; if that process "
        f"is gone, delete {run_dir / LOCK_FILE}")


def _remove_stale(path: Path, holder: dict[str, Any]) -> None:
    """Remove a stale lock unless another program replaced it in the meantime."""
    aside = path.with_name(f".{LOCK_FILE}.stale-{os.getpid()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return
    try:
        taken = json.loads(aside.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        taken = {}
    if isinstance(taken, dict) and taken.get("pid") != holder.get("pid"):
        try:  # a fresh lock slipped in between reading and moving: give it back
            os.link(aside, path)
        except FileExistsError:
            pass
    aside.unlink(missing_ok=True)


def acquire(run_dir: str | os.PathLike, pid: int | None = None) -> None:
    """Take the lock of ``run_dir`` for ``pid`` (default: this process).

    Raises TrainingError naming the holder when a live process owns the folder.
    """
    run_dir = Path(run_dir)
    path = lock_path(run_dir)
    for _ in range(5):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            holder = read_lock(run_dir)
            if holder is not None:
                if not _stale(path, holder):
                    raise _refusal(run_dir, holder) from None
                _remove_stale(path, holder)
            continue
        except FileNotFoundError:
            raise TrainingError(f"no run folder at {run_dir}") from None
        except OSError as exc:
            raise TrainingError(f"cannot write the run folder {run_dir}: {exc.strerror or exc}; "
                                "choose a writable folder") from None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(_record(pid or os.getpid()), handle)
        return
    raise TrainingError(f"could not lock run {run_dir.name}: other programs keep taking it; try again")


def adopt(run_dir: str | os.PathLike) -> None:
    """Make this process (the training process) the holder of the lock its launcher took.

    A missing or stale lock is taken afresh; a lock of any other live process is refused.
    """
    holder = read_lock(run_dir)
    ours = (os.getpid(), os.getppid())
    if holder and holder.get("host") == socket.gethostname() and holder.get("pid") in ours:
        fileio.atomic_write_json(lock_path(run_dir), _record(os.getpid()))
    else:
        acquire(run_dir)


def release(run_dir: str | os.PathLike, pid: int | None = None) -> None:
    """Remove the lock if ``pid`` (default: this process) holds it; anyone else's stays."""
    holder = read_lock(run_dir)
    if holder and holder.get("pid") == (pid or os.getpid()) and holder.get("host") == socket.gethostname():
        lock_path(run_dir).unlink(missing_ok=True)
