"""Help > Lessons: a built-in lesson's core function (``transfer.lesson``, ``detection.lesson``) run from the app.

The lesson trains in a child process (``child_process``; never Keras in the window's process) with
its runs in the window's runs folder. Its output is followed by a timer that reads the new part of
its log; the figures are the rows it returns, written as JSON at its end. Cancel ends the child (a
run it was training is listed as crashed, as any run whose process died). "Overlay in Runs" selects
the lesson's runs in the Train area's Runs table, which overlays their curves.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from studio.core import processes
from studio.core.detection import options as rcnn
from studio.core.transfer import lesson as transfer
from studio.qt.widgets.child_process import last_error, readable_lines, start_background
from studio.qt.widgets.param_editors import make_editor

POLL_MS = 300
LOG_FILE = "lesson.log"
RESULT_FILE = "result.json"
MAX_LOG_LINES = 2000


@dataclass(frozen=True)
class Lesson:
    """What the dialog needs of a lesson: its core function (run in the child), options and figures."""

    title: str
    function: str  # "module:function" returning rows (dataclasses or dicts) with name and run_dir
    about: str
    settings: tuple
    quick: dict  # the options of the quick preset
    columns: tuple[tuple[str, str, str], ...]  # after the run's name: (header, row key, format)
    done: str  # the status line once the figures are shown
    check: Callable[[dict], str | None] = lambda options: None  # a refusal of the options, or None


def _transfer_check(options: dict) -> str | None:
    if not 0 <= options["fine_tune_epochs"] < options["epochs"]:
        return "Fine tune epochs must be fewer than epochs: lower it or raise epochs."
    return None


LESSONS = {
    "transfer": Lesson(
        "Learning with less data", "studio.core.transfer.lesson:run_lesson",
        "A network learns a new task from few examples far better when it starts from weights learned "
        "elsewhere. This lesson trains the same small CNN on only a few percent of the procedural shapes "
        "three ways: from a backbone pretrained on the bundled digits, from an encoder pretrained without "
        "labels (contrastive), and from scratch; each is then scored on shapes none of them saw.",
        transfer.SETTINGS, transfer.QUICK, (("Test accuracy", "accuracy", "{:.1%}"),),
        "Done: test accuracy on held-out shapes. Overlay the runs to compare their curves.", _transfer_check),
    "rcnn": Lesson(
        "Detection, the R-CNN way", "studio.core.detection.lesson:run_lesson",
        "R-CNN finds objects in two stages: propose regions (here sliding windows), then classify each crop with a "
        "CNN (with a background class) and keep the best after non-maximum suppression. A one-stage detector reads "
        "the whole image once. Both are trained on the same shape scenes and scored on the same test scenes; "
        "rcnn_lesson.png in the runs folder shows both on a few scenes (true boxes green, found red).",
        rcnn.SETTINGS, rcnn.QUICK, (("mAP@0.5", "map50", "{:.3f}"), ("mAP@[.5:.95]", "map", "{:.3f}"),
                                    ("ms/image", "ms_per_image", "{:.1f}")),
        "Done: pycocotools scores on the same test scenes; the picture is rcnn_lesson.png in the runs folder."),
}


class LessonDialog(QDialog):
    """Options, live progress, Cancel, and the figures of one lesson (``LESSONS``).

    Signals:
        finished_runs(list): the lesson's run folders, once it has ended successfully.
    """

    finished_runs = Signal(list)

    def __init__(self, runs_root: Path, lesson: Lesson = LESSONS["transfer"], parent=None) -> None:
        super().__init__(parent)
        self.lesson = lesson
        self.setWindowTitle(lesson.title)
        self.runs_root = Path(runs_root)
        self.process = None  # the child (a Popen) while the lesson runs
        self.folder: Path | None = None  # the child's log and result
        self._read = 0  # bytes of the log shown so far
        self._cancelled = False
        self.run_dirs: list[str] = []

        about = QLabel(lesson.about)
        about.setWordWrap(True)
        form = QFormLayout()
        self.editors = {}
        self.problems: dict[str, str] = {}  # the options whose text is refused, and why
        for spec in lesson.settings:
            editor = self.editors[spec.name] = make_editor(spec, spec.default)
            editor.problem.connect(lambda message, name=spec.name: self._set_problem(name, message))
            form.addRow(spec.title, editor)
        self.quick_button = QPushButton("Quick preset")
        self.quick_button.setToolTip("Few epochs: a first look in a few minutes (the figures are rougher)")
        self.quick_button.clicked.connect(lambda: self.set_options(lesson.quick))
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("End the lesson now (a run it was training is listed as crashed)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.overlay_button = QPushButton("Overlay in Runs")
        self.overlay_button.setToolTip("Select the lesson's runs in the Train area's Runs table (their curves overlaid)")
        self.overlay_button.setEnabled(False)
        self.overlay_button.clicked.connect(lambda: self.finished_runs.emit(self.run_dirs))
        buttons = QHBoxLayout()
        for button in (self.quick_button, self.start_button, self.cancel_button, self.overlay_button):
            buttons.addWidget(button)
        self.status = QLabel(f"Runs go to {self.runs_root}")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(MAX_LOG_LINES)
        self.log.setPlaceholderText("Press Start (or Quick preset, then Start): the lesson's progress shows here, "
                                    "then a table of its figures.")
        self.table = QTableWidget(0, 1 + len(lesson.columns))
        self.table.setHorizontalHeaderLabels(["Run", *(header for header, _key, _format in lesson.columns)])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)  # names whole
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.hide()

        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.table)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.resize(620, 560)

    def options(self) -> dict:
        return {name: editor.current_value() for name, editor in self.editors.items()}

    def set_options(self, values: dict) -> None:
        for name, value in values.items():
            self.editors[name].set_value(value)

    def target(self, result: Path) -> list[str]:
        """The child's call: the lesson with these options, its rows written to ``result``."""
        return processes.call(self.lesson.function, [str(self.runs_root)], self.options(), result=result)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _set_problem(self, name: str, message: str) -> None:
        self.problems.pop(name, None)
        if message:
            self.problems[name] = message
        self.start_button.setEnabled(not self.problems and not self.running)
        self.status.setText(next(iter(self.problems.values()), f"Runs go to {self.runs_root}"))

    def start(self) -> None:
        options = self.options()
        if self.problems:
            return
        refusal = self.lesson.check(options)
        if refusal:
            self.status.setText(refusal)
            return
        self._cleanup()
        self.folder = Path(tempfile.mkdtemp(prefix="studio-lesson-"))
        self.log.clear()
        self.table.hide()
        self._read, self._cancelled, self.run_dirs = 0, False, []
        try:
            self.runs_root.mkdir(parents=True, exist_ok=True)
            self.process = start_background(self.target(self.folder / RESULT_FILE), self.folder / LOG_FILE)
        except OSError as exc:
            self.status.setText(f"Cannot start the lesson: {exc.strerror or exc}. Check that {self.runs_root} "
                                "is writable, then press Start again.")
            return
        self._set_running(True)
        self.status.setText("Running the lesson… (the first run starts after the data and backbone load)")
        self.timer.start()

    def cancel(self) -> None:
        if self.running:
            self._cancelled = True
            self.process.kill()  # the run it was training is then listed as crashed, never as live
            self.process.wait()
        self.poll()

    def poll(self) -> None:
        """Show the child's new output; once it has ended, its figures or its error."""
        if self.process is None:
            return
        code = self.process.poll()
        self._show_new_output()
        if code is None:
            return
        self.timer.stop()
        self.process = None
        self._set_running(False)
        if self._cancelled:
            self.status.setText("Cancelled. Press Start to run the lesson again.")
        elif code != 0:
            error = last_error(self.folder / LOG_FILE, f"the lesson process ended with code {code}")
            self.status.setText(f"The lesson failed: {error}\nFix that (or try the quick preset), "
                                "then press Start again.")
        else:
            self._show_result()

    def _show_new_output(self) -> None:
        try:
            with open(self.folder / LOG_FILE, "rb") as log:
                log.seek(self._read)
                chunk = log.read()
        except OSError:
            return
        complete = chunk[:chunk.rfind(b"\n") + 1] if self.process is not None else chunk
        self._read += len(complete)
        for line in readable_lines(complete.decode("utf-8", errors="replace")):
            self.log.appendPlainText(line)

    def _show_result(self) -> None:
        columns = self.lesson.columns
        try:
            rows = json.loads((self.folder / RESULT_FILE).read_text(encoding="utf-8"))
            rows = [{"name": str(row["name"]), "run_dir": str(row["run_dir"]),
                     **{key: float(row[key]) for _header, key, _format in columns}} for row in rows]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.status.setText(f"The lesson ended but its figures cannot be read ({exc}); see the output above.")
            return
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            self.table.setItem(index, 0, QTableWidgetItem(row["name"]))
            for column, (_header, key, form) in enumerate(columns, start=1):
                figure = QTableWidgetItem(form.format(row[key]))
                figure.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(index, column, figure)
        self.table.resizeRowsToContents()
        self.table.setFixedHeight(self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
                                  + sum(self.table.rowHeight(row) for row in range(len(rows))))  # the log keeps the room
        self.table.show()
        self.run_dirs = [row["run_dir"] for row in rows]
        self.overlay_button.setEnabled(True)
        self.status.setText(self.lesson.done)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running and not self.problems)
        self.quick_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        for editor in self.editors.values():
            editor.setEnabled(not running)
        if running:
            self.overlay_button.setEnabled(False)

    def _cleanup(self) -> None:
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = None

    def done(self, result: int) -> None:
        """Closing the dialog ends a lesson still running."""
        self.cancel()
        self._cleanup()
        super().done(result)


def open_lesson_dialog(window, name: str = "transfer") -> LessonDialog:
    """Show the window's dialog of lesson ``name`` (one at a time each; a new one once the last was closed)."""
    dialogs = getattr(window, "lesson_dialogs", None)
    if dialogs is None:
        dialogs = window.lesson_dialogs = {}
    dialog = dialogs.get(name)
    if dialog is None or not dialog.isVisible():
        dialog = dialogs[name] = LessonDialog(window.runs_root(), LESSONS[name], window)
        dialog.finished_runs.connect(lambda paths: overlay_in_runs(window, paths))
    dialog.show()
    dialog.raise_()
    return dialog


def overlay_in_runs(window, paths: list[str]) -> None:
    """Show the Train area's Runs table with ``paths`` selected, so their curves are overlaid."""
    panel = window.area_widget("Train")
    window.show_area("Train")
    panel.tabs.setCurrentWidget(panel.runs_view)
    panel.runs_view.select_paths(paths)
    panel.runs_view.refresh()
