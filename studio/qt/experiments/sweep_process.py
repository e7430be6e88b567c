"""The Sweep panel's work outside the GUI process, so that it never takes the window's time or GIL:
``SweepProcess`` runs ``core_sweep.run_sweep`` in a child process (its trials each load their
dataset and start a training process there), and ``StudyReader`` reads the study in a helper
process (a ``processes.Server``). Both run at a lower CPU priority
(``child_process.BACKGROUND_NICE``; the trials' training processes inherit it), so the window is
scheduled first when the machine is busy and training takes every idle cycle. Both end with the
window's process (``studio.core.processes``).

The project as open (saved or not) is written to a temporary folder the child reads; its output
goes to ``sweep.log`` there. The panel follows the study through its storage and polls
``returncode``; ``stop()`` asks the child for a graceful stop (SIGTERM, CTRL_BREAK on Windows).
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
from pathlib import Path
from typing import Any

from studio.core import processes
from studio.core.experiments import sweep as core_sweep
from studio.core.project import save_project
from studio.qt.widgets.child_process import BACKGROUND_NICE, last_error, start_background

LOG_FILE = "sweep.log"


class SweepProcess:
    """A sweep (``core_sweep.run_sweep``) of ``project`` over ``space`` (a space file's JSON) in a child
    process."""

    def __init__(self, project, space: dict, settings: core_sweep.SweepSettings, project_path,
                 runs_root) -> None:
        settings.check()
        self.storage_url = settings.storage or core_sweep.default_storage(project_path)
        self.study_name = settings.study_name or core_sweep.default_study_name(project)
        self.folder = Path(tempfile.mkdtemp(prefix="studio-sweep-"))
        settings = dataclasses.replace(settings, storage=self.storage_url, study_name=self.study_name)
        try:
            save_project(project, self.folder / "project.dlstudio")
            target = processes.call("studio.core.experiments.sweep:run_sweep", [
                str(self.folder / "project.dlstudio"), space, dataclasses.asdict(settings), str(runs_root)])
            self.process = start_background(target, self.folder / LOG_FILE)
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
            processes.ask_to_stop(self.process)

    def error(self) -> str:
        """The child's one-line error (``error: ...``), or its last line of output."""
        return last_error(self.folder / LOG_FILE, f"the sweep process ended with code {self.returncode}")

    def close(self) -> None:
        """Remove the temporary folder (after the process ended)."""
        shutil.rmtree(self.folder, ignore_errors=True)


class StudyReader:
    """``core_sweep.study_results`` in one helper process (started at the first read). ``read`` blocks
    its caller, a worker thread, which waits without holding the GIL while Optuna works elsewhere."""

    def __init__(self) -> None:
        self._server = processes.Server("studio.core.experiments.sweep:study_results", nice=BACKGROUND_NICE)

    def read(self, storage: str, study_name: str, known_complete: int) -> dict[str, Any]:
        try:
            return self._server.call(storage, study_name, known_complete)
        except processes.ChildGone:
            raise core_sweep.SweepError("the process reading the study ended unexpectedly; "
                                        "press Refresh to try again") from None

    def close(self) -> None:
        self._server.close()
