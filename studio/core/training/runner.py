"""``Runner``: starts a training process (``studio.core.processes``: a fresh interpreter that dies
with its parent) and relays its events to the caller.

The child writes events.jsonl; the runner tails it, so any other process (the GUI following a
CLI run) can follow the same run with ``EventTail`` and control it with ``send_control``.
Nothing the child does can raise in the caller: a crash shows up as an ``end`` event.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from studio.core import processes
from studio.core.training import lock
from studio.core.training.diskspace import crash_cause
from studio.core.training.plan import plan_run, prepare_run_folder
from studio.core.training.resume import reopen_for_resume
from studio.core.training.runs import EventTail, RunFolder, read_run, send_control

POLL_INTERVAL_S = 0.02


class Runner:
    """One training run in a child process.

    ``Runner(project, run_dir).start()`` checks the project (raising TrainingError before any
    process starts), writes the run folder and starts training. With ``resume=True``, ``run_dir``
    is an existing run; ``project`` may be None (use the snapshot) or a project whose training
    settings (e.g. more epochs) replace the snapshot's. ``dataset``: the project's dataset when the
    caller has it loaded already (the planner then does not load it again); the training process
    always loads its own copy, as arrays too big to send through a spawn pipe.
    """

    trainer: str | None = None  # "module:function" replacing the supervised loop (see engine.child_main)

    def __init__(self, project, run_dir: str | os.PathLike, resume: bool = False, dataset=None) -> None:
        self.project = project
        self.dataset = dataset
        self.folder = RunFolder(run_dir)
        self.resuming = resume
        self.plan = None
        self.stop_requested = False
        self._process: subprocess.Popen | None = None
        self._tail = EventTail(self.folder.path)
        self._ended = False
        self._killed = False
        self._controls = threading.Lock()  # ``stop`` may come from another thread while ``start`` runs
        self._folder_ready = False

    @property
    def run_dir(self) -> Path:
        return self.folder.path

    def start(self) -> None:
        """Check, prepare the folder and spawn the training process.

        Raises:
            TrainingError: the project cannot train (``plan_run``), the folder is not empty or not
                writable, the backend cannot start, the run is locked by another trainer, or (resuming)
                the run cannot be resumed.
        """
        if self.resuming:
            lock.acquire(self.folder.path)  # before anything changes: one trainer per folder
            with _unlocked_on_error(self.folder.path):
                self._reopen()
            self._tail = EventTail(self.folder.path)
            self._tail.read()  # the caller gets only this session's events
        else:
            self._prepare()
            lock.acquire(self.folder.path)
        with self._controls, _unlocked_on_error(self.folder.path):
            self._folder_ready = True
            if self.stop_requested:  # asked while the run was being prepared: ends before its first batch
                send_control(self.folder.path, "stop")
        self._spawn()

    def _prepare(self) -> None:
        """Check the project and write the new run folder (raises TrainingError)."""
        self.plan = plan_run(self.project, self.dataset)
        prepare_run_folder(self.plan, self.folder.path)

    def _reopen(self) -> None:
        """Ready a stopped, killed or crashed run to continue (raises TrainingError)."""
        reopen_for_resume(self.folder.path, self.project.training if self.project is not None else None)

    def _spawn(self) -> None:
        backend = self.folder.info().get("backend")
        target = processes.call("studio.core.training.engine:child_main",
                                [str(self.folder.path), self.resuming, self.trainer])
        with _unlocked_on_error(self.folder.path):  # the child takes the lock over once it runs
            self._process = processes.start(target, env={"KERAS_BACKEND": backend} if backend else None,
                                            log=self.folder.log_file)

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def exitcode(self) -> int | None:
        return self._process.poll() if self._process is not None else None

    @property
    def finished(self) -> bool:
        """True once the ``end`` event has been delivered by ``poll``."""
        return self._ended

    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """New events since the last call; waits up to ``timeout`` seconds for at least one.

        When the process is gone without an ``end`` event (killed, crashed), an ``end`` event
        with status ``killed`` or ``crashed`` is added and recorded in run.json.

        Args:
            timeout: seconds to wait for an event; 0 returns at once.

        Returns:
            The new events (dicts with ``type`` and ``time``), possibly none.
        """
        deadline = time.monotonic() + timeout
        while True:
            events = self._tail.read()
            if not events and self._process is not None and not self._ended and not self.alive:
                events = self._tail.read()
                if not events:
                    self._record_death()
                    events = self._tail.read() or [{"type": "end", "time": time.time(), "status": "crashed"}]
            if any(event["type"] == "end" for event in events):
                self._ended = True
            if events or time.monotonic() >= deadline:
                return events
            time.sleep(POLL_INTERVAL_S)

    def _record_death(self) -> None:
        """Write what the dead child could not: its final status and an end event."""
        # SIGKILL from us, the user or the system's out-of-memory killer: resumable, not a bug.
        status = "killed" if self._killed or self.exitcode == -signal.SIGKILL else "crashed"
        kind, message = crash_cause(self.folder.path, self.exitcode)
        try:
            for holder in (self._process.pid, os.getpid()):  # the child, or us if it died before taking it
                lock.release(self.folder.path, holder)
            if status == "crashed":
                self.folder.emit("error", kind=kind, message=message)
            self.folder.update_info(status=status, ended=time.time(),
                                    error=None if status == "killed" else {"kind": kind, "message": message})
            self.folder.emit("end", status=status)
        except OSError:
            pass  # the folder itself is gone or full; poll still hands the caller an end event

    def follow(self, interval: float = 0.1) -> Iterator[dict[str, Any]]:
        """Yield events as they come until the run ends."""
        while not self._ended:
            yield from self.poll(timeout=interval)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        """Block until the process ends (or ``timeout``); return ``read_run`` of the folder.

        Args:
            timeout: seconds to wait at most; None waits for the end.

        Returns:
            The run's summary (see ``read_run``), taken whether or not the process has ended.
        """
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout)
        return read_run(self.folder.path)

    def stop(self) -> None:
        """Graceful stop: the current batch finishes, a checkpoint is saved, status ``stopped``.

        Asked before the run folder exists (``start`` still preparing it, on another thread), the
        stop is kept and sent as soon as it does: the run then ends before its first batch.
        """
        with self._controls:
            self.stop_requested = True
            if self._folder_ready:
                send_control(self.folder.path, "stop")

    def pause(self) -> None:
        send_control(self.folder.path, "pause")

    def resume(self) -> None:
        send_control(self.folder.path, "run")

    def kill(self) -> None:
        """End the process at once (SIGKILL); the run can later be resumed from its backup."""
        if self.alive:
            self._killed = True
            self._process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)
            self._record_death()



@contextlib.contextmanager
def _unlocked_on_error(run_dir: Path):
    """Give up the run folder's lock if the block fails."""
    try:
        yield
    except BaseException:
        lock.release(run_dir)
        raise
