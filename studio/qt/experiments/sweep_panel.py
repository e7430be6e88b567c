"""The Sweep panel: a search space built from the settings specs, an Optuna sweep of normal runs
(``studio.core.experiments.sweep``, as ``studio sweep`` runs it), and its results live.

The sweep runs as ``studio sweep`` in a child process (``SweepProcess``; each trial is a training
process of its own); the panel follows it by reading the study every few seconds in a helper process
(``StudyReader``, waited for on a worker thread), so the window never waits on Optuna, on datasets or
on training, nor shares its GIL with them. Stop asks the child to stop gracefully: no new trials,
the running ones stop and are queued again for the next start. The study is the project's
(``<project>.sweep.sqlite`` beside it, named after the project): starting again continues it.
Trial runs are listed in Train > Runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.experiments import sweep as core_sweep
from studio.core.experiments.space import SpaceError, grid_size, parse_space
from studio.core.formatting import plural
from studio.core.experiments.table import cell
from studio.qt.commands import ReplaceGraph, SetSection
from studio.qt.experiments.space_editor import SpaceEditor
from studio.qt.experiments.sweep_process import StudyReader, SweepProcess
from studio.qt.experiments.sweep_plots import ImportanceBars, ParallelCoordinates
from studio.qt.widgets.worker import TaskRunner

REFRESH_MS = 2000  # while a sweep runs, its study is read this often
ERROR_STYLE = "QLabel { color: #d93025; }"
TRIAL_COLUMNS = ("number", "state", "value")


class SweepPanel(QWidget):
    """Space, sweep settings, Start/Stop; trials table, parallel coordinates, importances.

    Signals:
        results_shown: the trials table shows a fresh reading of the study.
    """

    results_shown = Signal()

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.doc = window.document
        self.sweep: SweepProcess | None = None
        self.reader = TaskRunner(self)  # waits for the study readings and the best trial
        self.study_reader = StudyReader()
        self._importance_count = -1
        self._states: dict[int, str] = {}  # trial number -> state at the last reading
        self._plotted = None  # what the parallel coordinates show (redrawn only when it changes)
        self.maximize = False

        self.space_editor = SpaceEditor()
        self.space_editor.changed.connect(self.check_space)
        self.trials = QSpinBox()
        self.trials.setRange(1, core_sweep.MAX_TRIALS)
        self.trials.setValue(10)
        self.trials.setToolTip("How many trials the study should hold (a grid stops at its size)")
        self.sampler = QComboBox()
        self.sampler.addItems(core_sweep.SAMPLERS)
        self.sampler.setCurrentText("tpe")
        self.sampler.setToolTip("grid: every combination (ranges need a step); random; tpe: Bayesian (Optuna TPE)")
        self.workers = QSpinBox()
        self.workers.setRange(1, 16)
        self.workers.setToolTip("Trials trained at the same time (each in its own process)")
        for widget in (self.trials, self.sampler, self.workers):
            signal = widget.currentTextChanged if isinstance(widget, QComboBox) else widget.valueChanged
            signal.connect(lambda *_: self.check_space())
        form = QFormLayout()
        form.addRow("Trials", self.trials)
        form.addRow("Sampler", self.sampler)
        form.addRow("Workers", self.workers)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.start_button = QPushButton("Start Sweep")
        self.start_button.setToolTip("Train trials as normal runs until the study holds the trials asked for; "
                                     "a stopped sweep continues where it stopped")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Start no more trials; the running ones stop now and are trained again "
                                    "when the sweep starts again")
        self.best_button = QPushButton("Use Best Trial")
        self.best_button.setToolTip("Set the best finished trial's settings in the open project (undoable)")
        self.refresh_button = QPushButton("Refresh")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.best_button.clicked.connect(self.use_best)
        self.refresh_button.clicked.connect(self.refresh_results)
        buttons = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.best_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        space_box = QGroupBox("Search space")
        space_layout = QVBoxLayout(space_box)
        space_layout.addWidget(self.space_editor, 1)
        space_layout.addLayout(form)
        space_layout.addWidget(self.check_label)
        space_layout.addLayout(buttons)
        space_layout.addWidget(self.status)

        self.trials_table = QTableWidget(0, 0)
        self.trials_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trials_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trials_table.verticalHeader().hide()
        self.trials_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.parallel = ParallelCoordinates()
        self.importance = ImportanceBars()
        plots = QSplitter()
        plots.addWidget(self.parallel)
        plots.addWidget(self.importance)
        plots.setStretchFactor(0, 2)
        results = QSplitter(Qt.Orientation.Vertical)
        results.addWidget(self.trials_table)
        results.addWidget(plots)
        splitter = QSplitter()
        splitter.addWidget(space_box)
        splitter.addWidget(results)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self._follow)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.stop)
            app.aboutToQuit.connect(self.study_reader.close)
        self.destroyed.connect(self.study_reader.close)
        self.doc.project_replaced.connect(self._project_changed)
        self.doc.path_changed.connect(lambda _path: self._project_changed())
        self.doc.graph_changed.connect(lambda _event: self._offer_settings())
        self._project_changed()

    # -- space -----------------------------------------------------------------------------
    def _offer_settings(self) -> None:
        self.space_editor.set_project(self.doc.project)

    def _project_changed(self) -> None:
        self._offer_settings()
        self._importance_count, self._states, self._plotted = -1, {}, None
        self.refresh_results()

    @property
    def running(self) -> bool:
        return self.sweep is not None

    def dimensions(self):
        """The space of the editor checked against the open project; SpaceError when invalid."""
        return parse_space(self.space_editor.space(), self.doc.project)

    def check_space(self) -> bool:
        """Say whether the space is valid (one line when not) and enable Start accordingly."""
        try:
            dims = self.dimensions()
            size = grid_size(dims) if self.sampler.currentText() == "grid" else 0
        except SpaceError as exc:
            self._show_check(str(exc), ok=False)
            return False
        grid = f"; a grid of {size} trials" if self.sampler.currentText() == "grid" else ""
        if not self.doc.path:
            self._show_check("Save the project first: the study and its runs are kept beside it.", ok=False)
            return False
        self._show_check(f"Valid: {plural(len(dims), 'setting')} searched{grid}.", ok=True)
        return True

    def _show_check(self, text: str, ok: bool) -> None:
        self.check_label.setText(text)
        self.check_label.setStyleSheet("" if ok else ERROR_STYLE)
        self._draw_buttons(ok)

    def _draw_buttons(self, valid: bool | None = None) -> None:
        valid = self.check_label.styleSheet() == "" if valid is None else valid
        self.start_button.setEnabled(valid and not self.running)
        self.stop_button.setEnabled(self.running)
        for widget in (self.space_editor, self.trials, self.sampler, self.workers):
            widget.setEnabled(not self.running)

    # -- running ---------------------------------------------------------------------------
    def settings(self) -> core_sweep.SweepSettings:
        return core_sweep.SweepSettings(trials=self.trials.value(), sampler=self.sampler.currentText(),
                                        workers=self.workers.value())

    def start(self) -> bool:
        if self.running or not self.check_space():
            return False
        try:
            sweep = SweepProcess(self.doc.project.copy(), self.space_editor.space(), self.settings(), self.doc.path,
                                 self.window.runs_root())
        except core_sweep.SweepError as exc:
            self._show_check(str(exc), ok=False)
            return False
        self.sweep = sweep
        self.status.setText(f"Sweep running: study {sweep.study_name} in {core_sweep.redact(sweep.storage_url)}; "
                            "each trial is a run listed in Train > Runs.")
        self._timer.start()
        self._draw_buttons()
        return True

    def stop(self) -> None:
        """Ask the sweep process to stop gracefully (the running trials are queued again)."""
        if self.sweep is not None and not self.sweep.stopping:
            self.sweep.stop()
            self.status.setText("Stopping: no new trials; the running ones stop and will be trained again "
                                "when the sweep starts again…")

    def _follow(self) -> None:
        """Timer tick while a sweep runs: read the study, and notice when the process ended."""
        sweep = self.sweep
        if sweep is not None and sweep.returncode is not None:
            self.sweep = None
            self._timer.stop()
            if sweep.returncode == 0:
                self.status.setText("Sweep stopped. Start again to continue the study." if sweep.stopping else
                                    "Sweep done. Start again to continue the study (more trials, or after a stop).")
            else:
                self.status.setText(f"The sweep stopped: {sweep.error()}")
            sweep.close()
            self._draw_buttons()
        self.refresh_results()

    # -- results ---------------------------------------------------------------------------
    def _study(self) -> tuple[str, str] | None:
        if not self.doc.path:
            return None
        if self.sweep is not None:
            return self.sweep.storage_url, self.sweep.study_name
        return core_sweep.default_storage(self.doc.path), core_sweep.default_study_name(self.doc.project)

    def refresh_results(self) -> None:
        """Read the study in the helper process (no study yet: nothing to show)."""
        study = self._study()
        if study is None:
            return
        storage, name = study
        if storage.startswith("sqlite:///") and not Path(storage[10:]).exists():
            return  # no sweep yet (or its process has not created the study yet)
        known = self._importance_count
        self.reader.submit("results", lambda: self.study_reader.read(storage, name, known),
                           self._show_results, lambda message: None if self.running else self.status.setText(message))

    def _show_results(self, results: dict[str, Any]) -> None:
        rows, self.maximize = results["rows"], results["maximize"]
        if self.running:
            self._say_changes(rows)
        self._states = {row["number"]: row["state"] for row in rows}
        params = list(dict.fromkeys(key for row in rows for key in row if key.startswith("param.")))
        self._fill_table(rows, list(TRIAL_COLUMNS) + params + ["epochs", "run", "error"])
        done = [row for row in rows if row["state"] == "complete" and row["value"] is not None]
        names = [p.removeprefix("param.") for p in params]
        plotted = (names, [[row.get(p) for row in done] for p in params], [row["value"] for row in done],
                   self.maximize, results["logs"])
        if plotted != self._plotted:
            self._plotted = plotted
            self.parallel.show_trials(*plotted)
        if results["importances"] is not None:
            self._importance_count = results["complete"]
            self.importance.show_importances(results["importances"])
        self.best_button.setEnabled(bool(done))
        self.results_shown.emit()

    def _fill_table(self, rows: list[dict[str, Any]], columns: list[str]) -> None:
        """Show ``rows``, changing only the cells whose text changed (the study is read every few
        seconds while a sweep runs, mostly unchanged)."""
        table = self.trials_table
        headers = [c.removeprefix("param.") for c in columns]
        if [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())] != headers:
            table.setColumnCount(len(columns))
            table.setHorizontalHeaderLabels(headers)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, column in enumerate(columns):
                text = cell(column, row.get(column))
                item = table.item(r, c)
                if item is None:
                    item = QTableWidgetItem()
                    table.setItem(r, c, item)
                elif item.text() == text:
                    continue
                item.setText(text)
                item.setToolTip(str(row.get(column, "")))

    def _say_changes(self, rows: list[dict[str, Any]]) -> None:
        """Status line: the latest trial that started, finished, was pruned or failed."""
        texts = {"running": "Trial {number} running", "complete": "Trial {number} finished: {value:.4g}",
                 "pruned": "Trial {number} pruned", "fail": "Trial {number} failed: {error}"}
        changed = [row for row in rows if row["state"] in texts and self._states.get(row["number"]) != row["state"]]
        if changed:
            row = changed[-1]
            self.status.setText(texts[row["state"]].format(**{**row, "value": row["value"] or 0.0}))

    def use_best(self) -> None:
        """Put the best finished trial's settings into the open project, as one undoable edit."""
        study = self._study()
        if study is None:
            return
        storage, name = study
        project = self.doc.project.copy()

        def best():
            return core_sweep.best_project(core_sweep.load_study(storage, name), project)

        self.reader.submit("best", best, self._apply_best, lambda message: self.status.setText(
            f"Cannot use the best trial: {message}"))

    def _apply_best(self, best) -> None:
        doc = self.doc
        doc.undo_stack.beginMacro("Use best trial")
        if best.graph.to_dict() != doc.graph.to_dict():
            doc.push(ReplaceGraph(doc, best.graph, doc.positions, "Use best trial"))
        if best.training != doc.project.training:
            doc.push(SetSection(doc, "training", best.training, "Use best trial"))
        doc.undo_stack.endMacro()
        self.status.setText("The best trial's settings are now in the project (Edit > Undo takes them back).")

