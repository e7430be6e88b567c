"""``RunWatcher``: one run's lifecycle, fed by a live ``Runner`` or by a run folder.

Every view of a run (the Train panel, the Runs table, Inspect, Generate), ``studio train`` and the
sweeps read a run's state from here instead of interpreting events and process ids themselves::

    starting -> running <-> paused
                running | paused -> stopping
    any live state -> completed | stopped | failed | killed | crashed   (final)

Before its first batch a run goes through the start-up ``STAGES`` (``stage`` events); Stop works
in any of them (the training process checks it between stages).

Example::

    watcher = RunWatcher.for_folder(run_dir)      # or RunWatcher.for_runner(runner)
    while not watcher.ended:
        for event in watcher.poll(timeout=0.2):   # new events, already applied to the state
            draw(event)
    print(watcher.state, watcher.error)
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from studio.core.training.runs import FINAL_STATUSES, LIVE_STATUSES, EventTail, RunFolder, run_status, send_control

POLL_INTERVAL_S = 0.02  # how often ``poll`` with a timeout looks for new events
LIVENESS_S = 1.0  # how often a folder-fed watcher checks that the run's process still lives
# event type -> state it moves a live run to
EVENT_STATES = {"start": "running", "batch": "running", "pause": "paused", "resume": "running", "stop": "stopping"}
# control command -> state shown until the training process confirms it with an event
CONTROL_STATES = {"pause": "paused", "run": "running", "stop": "stopping"}
# start-up stage (``stage`` events, in this order) -> what the run is doing
STAGES = {
    "loading_backend": "Loading Keras and its backend",
    "loading_data": "Loading the data",
    "building": "Building the model",
    "compiling": "Compiling the training step (the first batch takes longest)",
}


class RunWatcher:
    """The state of one run and its new events.

    Attributes:
        path: the run folder.
        state: one of ``LIVE_STATUSES`` or ``FINAL_STATUSES``.
        start: the run's last ``start`` event ({} before it), with epochs, device, notes.
        stage: the start-up stage (a ``STAGES`` key) while no batch has been reported since the
            run (re)started, else None.
        error: the last ``error`` event, or None.
        killed_by_user: ``kill()`` was called on this watcher.
    """

    def __init__(self, path: str | os.PathLike, runner=None, liveness_s: float = LIVENESS_S) -> None:
        self.path = Path(path)
        self.runner = runner
        self.liveness_s = liveness_s
        self.state = "stopping" if runner is not None and runner.stop_requested else "starting"
        self.start: dict[str, Any] = {}
        self.stage: str | None = None
        self.error: dict[str, Any] | None = None
        self.killed_by_user = False
        self._tail = None if runner is not None else EventTail(self.path)
        self._checked = float("-inf")

    @classmethod
    def for_runner(cls, runner) -> RunWatcher:
        """Watch a run this process started (its ``Runner`` notices a silent death at once)."""
        return cls(runner.run_dir, runner)

    @classmethod
    def for_folder(cls, path: str | os.PathLike, liveness_s: float = LIVENESS_S) -> RunWatcher:
        """Watch any run folder (e.g. a ``studio train`` run); its process is checked every ``liveness_s``."""
        return cls(path, None, liveness_s)

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATUSES

    @property
    def ended(self) -> bool:
        return self.state in FINAL_STATUSES

    @property
    def can_kill(self) -> bool:
        """Only the process that started a run holds its process handle."""
        return self.runner is not None and self.live

    @property
    def exit_code(self) -> int | None:
        return self.runner.exitcode if self.runner is not None else None

    def poll(self, timeout: float = 0.0) -> list[dict[str, Any]]:
        """The events since the last call, applied to ``state``.

        A run whose process is gone without an ``end`` event gets one (``crashed``, or the final
        status its run.json records).

        Args:
            timeout: seconds to wait for at least one event (0: never wait).

        Returns:
            The new events, oldest first.
        """
        deadline = time.monotonic() + timeout
        while not self.ended:
            events = self.runner.poll() if self.runner is not None else self._read_folder()
            for event in events:
                self._apply(event)
            if events or time.monotonic() >= deadline:
                return events
            time.sleep(POLL_INTERVAL_S)
        return []

    def _read_folder(self) -> list[dict[str, Any]]:
        events = self._tail.read()
        now = time.monotonic()
        if events or now - self._checked < self.liveness_s:
            return events
        self._checked = now
        status = run_status(RunFolder(self.path).info(), "starting")
        if status in FINAL_STATUSES:
            events = self._tail.read()  # the end event may have been written just now
            if not any(event["type"] == "end" for event in events):
                events.append({"type": "end", "time": time.time(), "status": status})
        return events

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "end":
            status = event.get("status")
            self.state = status if status in FINAL_STATUSES else "crashed"
        elif kind == "error":
            self.error = event
        elif kind == "start":
            self.start = event
            self.state = "running"
        elif kind == "stage":
            self.stage = event.get("stage")
        elif kind in EVENT_STATES and not (kind == "batch" and self.state != "starting"):
            self.state = EVENT_STATES[kind]
        if kind == "batch":
            self.stage = None

    def control(self, command: str) -> None:
        """Send ``run``, ``pause`` or ``stop`` to a live run; ``state`` shows the request at once.

        Raises OSError when the run folder cannot be written.
        """
        if not self.live:
            return
        if self.runner is not None:
            {"stop": self.runner.stop, "pause": self.runner.pause, "run": self.runner.resume}[command]()
        else:
            send_control(self.path, command)
        self.state = CONTROL_STATES[command]

    def kill(self) -> None:
        """End the training process at once (only for a run this process started)."""
        if self.can_kill:
            self.killed_by_user = True
            self.runner.kill()
