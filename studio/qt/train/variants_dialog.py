""""Compare variants" in one click: copies of the open project that differ in one setting, trained one
after another as normal runs (listed, and followable live, in the Runs view), then overlaid.

The setting is any a sweep can search (``space.searchable_settings``), its values written as in the
Sweep panel; the variants are made by ``studio.core.experiments.variants.make_variants`` (the same as
``studio variants``); each run is started like the Train panel's Start (on a worker thread) and
tagged ``compare:<setting>``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from studio.core.experiments.labels import add_tag
from studio.core.experiments.space import SpaceError, entry_from_text, searchable_settings
from studio.core.experiments.variants import VariantError, make_variants
from studio.core.training import Runner, new_run_dir
from studio.qt.experiments.space_editor import suggested_text
from studio.qt.train.starting import start_runner
from studio.qt.widgets.worker import TaskRunner

POLL_MS = 300
FIRST_SETTING = "activation"  # shown first: the classic comparison
ERROR_STYLE = "QLabel { color: #d93025; }"


class VariantsDialog(QDialog):
    """Choose one setting and its values; "Create and Train" runs the variants one after another.

    Signals:
        started_runs(list): the run folders started so far (one more each time).
        finished_runs(list): every variant's run folder, once the last one ended.
    """

    started_runs = Signal(list)
    finished_runs = Signal(list)

    def __init__(self, document, runs_root: Path, parent=None,
                 start: Callable[[Runner], Any] = start_runner) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare variants")
        self.doc, self.runs_root, self.start_run = document, Path(runs_root), start
        self.worker = TaskRunner(self)
        self.queue: list[tuple[str, Any]] = []
        self.paths: list[str] = []
        self.runner = None
        self._end_status = ""
        self.settings = searchable_settings(document.project)
        self.choice = QComboBox()
        self.choice.addItems(sorted(self.settings, key=lambda name: name != FIRST_SETTING))
        self.values = QLineEdit()
        self.values.setToolTip("Comma-separated values (or LOW .. HIGH step S), one run each")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.choice.currentTextChanged.connect(self._choice_changed)
        self._choice_changed(self.choice.currentText())
        form = QFormLayout()
        form.addRow("Vary", self.choice)
        form.addRow("Values", self.values)
        form.addRow("", self.hint)
        self.problem = QLabel()
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.progress = QListWidget()
        guide = QListWidgetItem("One run per value; each shows its progress here once you press Create and Train.")
        guide.setFlags(Qt.ItemFlag.NoItemFlags)  # a note, not a run
        self.progress.addItem(guide)
        self.run_button = QPushButton("Create and Train")
        self.run_button.setDefault(True)
        self.run_button.setToolTip("One run per value, trained one after another with the project's settings")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setEnabled(False)
        close = QPushButton("Close")
        self.run_button.clicked.connect(self.create_and_train)
        self.stop_button.clicked.connect(self.stop)
        close.clicked.connect(self.hide)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Variants of {document.project.name}: every other setting stays as it is."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress, 1)
        layout.addLayout(buttons)
        self._timer = QTimer(self, interval=POLL_MS)
        self._timer.timeout.connect(self._poll)
        self.resize(560, 380)

    def _choice_changed(self, choice: str) -> None:
        spec, current = self.settings[choice]
        self.values.setText(suggested_text(choice, spec, current))
        self.hint.setText(spec.describe())

    @property
    def running(self) -> bool:
        return bool(self.runner is not None or self.queue or self.worker.busy)

    def create_and_train(self) -> bool:
        """Make the variants (refused with one line when a value does not fit) and start the first."""
        if self.running:
            return False
        choice = self.choice.currentText()
        try:
            entry = entry_from_text(choice, self.values.text(), self.settings[choice][0])
            variants = make_variants(self.doc.project.copy(), {choice: entry})
        except (SpaceError, VariantError) as exc:
            self.problem.setText(str(exc))
            self.problem.show()
            return False
        self.problem.hide()
        self.tag = f"compare:{self.choice.currentText()}"
        self.queue, self.paths = list(variants), []
        self.progress.clear()
        self.progress.addItems([f"{label}: waiting" for label, _project in variants])
        self._draw_buttons()
        self._start_next()
        return True

    def stop(self) -> None:
        """Stop the running variant (its checkpoint is kept) and start no more."""
        self.queue.clear()
        if self.runner is not None:
            self.runner.stop()
        self._draw_buttons()

    def _start_next(self) -> None:
        if not self.queue:
            self._draw_buttons()
            self.finished_runs.emit(list(self.paths))
            return
        label, project = self.queue.pop(0)
        row = len(self.paths)
        try:
            run_dir = new_run_dir(self.runs_root, project.name)
        except OSError as exc:
            self._set_row(row, f"{label}: cannot create a run folder in {self.runs_root}: {exc}")
            self.queue.clear()
            self._start_next()
            return
        self.paths.append(str(run_dir))
        self._set_row(row, f"{label}: starting…")
        self.worker.submit("start", lambda: self.start_run(Runner(project, run_dir)),
                           lambda runner: self._started(row, label, runner),
                           lambda message: self._failed(row, label, message))

    def _started(self, row: int, label: str, runner) -> None:
        self.runner, self._end_status = runner, ""
        try:
            add_tag(self.paths[row], self.tag)
        except (OSError, ValueError):
            pass  # a label only
        self._set_row(row, f"{label}: training ({Path(self.paths[row]).name})")
        self.started_runs.emit(list(self.paths))
        self._timer.start()
        self._draw_buttons()

    def _failed(self, row: int, label: str, message: str) -> None:
        self._set_row(row, f"{label}: not started: {message}")
        self._start_next()

    def _poll(self) -> None:
        for event in self.runner.poll(0):
            if event.get("type") == "end":
                self._end_status = event.get("status", "")
        if not self.runner.finished:
            return
        self._timer.stop()
        row = self.paths.index(str(self.runner.run_dir))
        text = self.progress.item(row).text().split(":", 1)[0]
        self._set_row(row, f"{text}: {self._end_status or 'ended'}")
        self.runner = None
        self._start_next()

    def _set_row(self, row: int, text: str) -> None:
        if row < self.progress.count():
            self.progress.item(row).setText(text)

    def _draw_buttons(self) -> None:
        self.run_button.setEnabled(not self.running)
        self.stop_button.setEnabled(self.running)
        self.choice.setEnabled(not self.running)
        self.values.setEnabled(not self.running)
