"""The Sweep panel's work outside the GUI process, so that it never takes the window's time or GIL:
``SweepProcess`` runs ``studio sweep`` in a child process (its trials each load their dataset and
start a training process there), and ``StudyReader`` reads the study in a helper process. Both run
at a lower CPU priority (``child_process.BACKGROUND_NICE``; the trials' training processes inherit
it), so the window is scheduled first when the machine is busy and training takes every idle cycle.

The project as open (saved or not) and the space are written to a temporary folder the child reads;
its output goes to ``sweep.log`` there. The panel follows the study through its storage and polls
``returncode``; ``stop()`` asks the child for a graceful stop (SIGTERM, CTRL_BREAK on Windows).
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.experiments import sweep as core_sweep
from studio.core.project import save_project
from studio.qt.widgets.child_process import (
    BACKGROUND_NICE,
    ask_to_stop,
    last_error,
    start_child,
    studio_command,
)

LOG_FILE = "sweep.log"


class SweepProcess:
    """``studio sweep`` of ``project`` over ``space`` (the JSON the CLI reads) in a child process."""

    def __init__(self, project, space: dict, settings: core_sweep.SweepSettings, project_path,
                 runs_root) -> None:
        settings.check()
        self.storage_url = settings.storage or core_sweep.default_storage(project_path)
        self.study_name = settings.study_name or core_sweep.default_study_name(project)
        self.folder = Path(tempfile.mkdtemp(prefix="studio-sweep-"))
        try:
            save_project(project, self.folder / "project.dlstudio")
            fileio.atomic_write_text(self.folder / "space.json", json.dumps(space))
            command = studio_command(
                "sweep", str(self.folder / "project.dlstudio"), "--space", str(self.folder / "space.json"),
                "--trials", str(settings.trials), "--sampler", settings.sampler, "--workers", str(settings.workers),
                "--storage", self.storage_url, "--study", self.study_name, "--runs-dir", str(runs_root))
            self.process = start_child(command, self.folder / LOG_FILE)
        except OSError as exc:
            shutil.rmtree(self.folder, ignore_errors=True)
            raise core_sweep.SweepError(f"cannot start the sweep process: {exc.strerror or exc}") from None
        self.stopping = False

    @property
    def returncode(self) -> int | None:
        """None while the sweep runs, then its exit code."""
        return self.process.poll()

    def stop(self) -> None:
        """Graceful stop: no new trials; the running ones stop at their next batch, queued again."""
        if self.process.poll() is None:
            self.stopping = True
            ask_to_stop(self.process)

    def error(self) -> str:
        """The child's one-line error (``error: ...``), or its last line of output."""
        return last_error(self.folder / LOG_FILE, f"the sweep process ended with code {self.returncode}")

    def close(self) -> None:
        """Remove the temporary folder (after the process ended)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class StudyReader:
    """``core_sweep.study_results`` in one helper process (spawned at the first read). ``read`` blocks
    its caller, a worker thread, which waits without holding the GIL while Optuna works elsewhere."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def read(self, storage: str, study_name: str, known_complete: int) -> dict[str, Any]:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_lower_priority)
        try:
            return self._pool.submit(core_sweep.study_results, storage, study_name, known_complete).result()
        except BrokenProcessPool:
            self._pool = None
            raise core_sweep.SweepError("the process reading the study ended unexpectedly; "
                                        "press Refresh to try again") from None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def _lower_priority() -> None:
    if hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(BACKGROUND_NICE)
