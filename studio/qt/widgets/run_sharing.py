"""Share runs with other tools: the HTML report and TensorBoard event files, written on a worker.

The window's File menu and the runs table's context menu both call these; the core does the work
(``studio.core.integrations``), this module only asks where and says how it went.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QWidget

from studio.qt.widgets.worker import TaskRunner


def save_report(parent: QWidget, worker: TaskRunner, run_dir: str | Path, say: Callable[[str], None]) -> None:
    """Ask where to save ``run_dir``'s HTML report (default: report.html in the run), then write it."""
    from studio.core.integrations.report import write_report

    name = Path(run_dir).name
    path, _ = QFileDialog.getSaveFileName(parent, "Save run report", str(Path(run_dir) / "report.html"),
                                          "HTML files (*.html)")
    if not path:
        return
    say(f"Writing the report of {name}…")
    worker.submit("report", lambda: write_report(run_dir, path), lambda written: say(f"Saved the report of {name} as {written}."),
                  lambda message: say(f"Cannot write the report of {name}: {message}"))


def export_tensorboard(parent: QWidget, worker: TaskRunner, run_dirs: list[str], say: Callable[[str], None]) -> None:
    """Ask for a TensorBoard log folder, then write the runs' event files into it."""
    from studio.core.integrations.tensorboard import export_tensorboard as write_events

    start = str(Path(run_dirs[0]).parent / "tensorboard")
    folder = QFileDialog.getExistingDirectory(parent, "Export runs to a TensorBoard folder", start)
    if not folder:
        return
    say(f"Writing {len(run_dirs)} run(s) as TensorBoard event files…")
    worker.submit("tensorboard", lambda: write_events(run_dirs, folder),
                  lambda written: say(f"Exported {len(written)} run(s) to {folder}: view with tensorboard --logdir {folder}"),
                  lambda message: say(f"Cannot export to TensorBoard: {message}"))
