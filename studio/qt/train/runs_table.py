"""The Runs view: a project's runs in a table, their curves overlaid, open/follow/delete runs."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QMenu, QMessageBox,
                               QPushButton, QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.formatting import format_duration
from studio.core.training import TrainingError, delete_run, list_runs, read_events, read_run
from studio.core.training.runs import LIVE_STATUSES
from studio.qt.widgets.plots import CurvePlot
from studio.core.training.curves import RunCurves
from studio.qt.widgets.worker import TaskRunner

COLUMNS = ("Run", "Status", "Settings", "Best", "Duration")
LIVE_REFRESH_MS = 3000  # while a listed run is training, its row is refreshed this often
MAX_OVERLAY = 10


def settings_summary(config: dict) -> str:
    """``adam lr 0.001 · batch 32 · 5 epochs`` from a run's config."""
    if not config:
        return ""
    return (f"{config.get('optimizer', '?')} lr {config.get('learning_rate', 0):g} · "
            f"batch {config.get('batch_size', '?')} · {config.get('epochs', '?')} epochs")


def best_summary(run: dict) -> str:
    """The best checkpoint's monitored value, plus the last epoch's validation metrics."""
    parts = []
    best = run.get("best")
    if best:
        parts.append(f"{best['monitor']} {best['value']:.4g} (epoch {best['epoch']})")
    last = (run.get("last_epoch") or {}).get("logs", {})
    parts += [f"{key} {value:.4g}" for key, value in last.items()
              if key.startswith("val_") and key != "val_loss" and isinstance(value, (int, float))][:2]
    return " · ".join(parts)


def duration(run: dict) -> str:
    start = run.get("started") or run.get("created")
    if not start:
        return ""
    end = run.get("ended") or (time.time() if run["status"] in LIVE_STATUSES else None)
    return format_duration(end - start) if end else ""


class RunsView(QWidget):
    """Runs under one folder; select several to overlay their loss and metric curves.

    Signals:
        show_requested(str): a run folder to show (and follow, if it is training) in the live view.
        listed: the table shows a fresh listing.
    """

    show_requested = Signal(str)
    listed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.runs: list[dict] = []
        self.worker = TaskRunner(self)
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._overlay_selected)
        self.table.itemDoubleClicked.connect(lambda item: self.show_requested.emit(self.runs[item.row()]["path"]))
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.menu: QMenu | None = None  # the open context menu

        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open Run Folder…")
        self.open_button.setToolTip("Show a run from any folder, e.g. one started with `studio train`, and "
                                    "follow it live while it trains")
        self.show_button = QPushButton("Show in Live View")
        self.delete_button = QPushButton("Delete…")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_dialog)
        self.show_button.clicked.connect(self._show_selected)
        self.delete_button.clicked.connect(self.delete_selected)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.open_button, self.show_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.loss_plot = CurvePlot("Loss of the selected runs (solid: train, dashed: validation)", "loss")
        self.metric_plot = CurvePlot("Metric of the selected runs", "metric", legend_at_bottom=True)
        plots = QWidget()
        plots_layout = QHBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        plots_layout.addWidget(self.loss_plot)
        plots_layout.addWidget(self.metric_plot)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.where)
        top_layout.addLayout(buttons)
        top_layout.addWidget(self.table)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(plots)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)
        self._live_timer = QTimer(self, interval=LIVE_REFRESH_MS, singleShot=True)
        self._live_timer.timeout.connect(self.refresh)
        self._update_buttons()

    # -- listing -------------------------------------------------------------------------
    def set_root(self, root: Path, where: str) -> None:
        """List the runs under ``root``; ``where`` tells the user where new runs are written."""
        self.root = Path(root)
        self.where.setText(where)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the run folders on a worker thread (large event logs take a while to read)."""
        if self.root is None:
            return
        root = self.root
        self.worker.submit("list", lambda: list_runs(root), self._show_runs,
                           lambda message: self.where.setText(f"Cannot list the runs in {root}: {message}"))

    def _show_runs(self, runs: list[dict]) -> None:
        selected = set(self.selected_paths())
        self.runs = runs
        self.table.blockSignals(True)
        self.table.setRowCount(len(runs))
        for row, run in enumerate(runs):
            error = (run.get("error") or {}).get("message", "")
            values = (run["name"], run["status"], settings_summary(run.get("config") or {}),
                      best_summary(run), duration(run))
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(run["path"] if column == 0 else error if column == 1 else text)
                self.table.setItem(row, column, item)
        self.table.clearSelection()
        keep = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        for row, run in enumerate(runs):
            if run["path"] in selected:
                self.table.selectionModel().select(self.table.model().index(row, 0), keep)
        self.table.blockSignals(False)
        self._update_buttons()
        if any(run["status"] in LIVE_STATUSES for run in runs):
            self._live_timer.start()
        self.listed.emit()

    def selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.runs[row]["path"] for row in rows if row < len(self.runs)]

    def _update_buttons(self) -> None:
        count = len(self.selected_paths())
        self.show_button.setEnabled(count == 1)
        self.delete_button.setEnabled(count > 0)

    # -- overlay -------------------------------------------------------------------------
    def _overlay_selected(self) -> None:
        self._update_buttons()
        paths = self.selected_paths()[:MAX_OVERLAY]
        names = {run["path"]: run["name"] for run in self.runs}

        def load() -> list[tuple[str, RunCurves]]:
            loaded = []
            for path in paths:
                curves = RunCurves()
                curves.add(read_events(path))
                loaded.append((names[path], curves))
            return loaded

        self.worker.submit("overlay", load, self._draw_overlay,
                           lambda message: self.where.setText(f"Cannot read a run: {message}"))

    def _draw_overlay(self, loaded: list[tuple[str, RunCurves]]) -> None:
        for plot in (self.loss_plot, self.metric_plot):
            plot.clear_curves()
        metrics = {curves.metric for _name, curves in loaded if curves.metric}
        self.metric_plot.set_labels(self.metric_plot.plot_title, ", ".join(sorted(metrics)) or "metric")
        for index, (name, curves) in enumerate(loaded):
            for plot, prefix in ((self.loss_plot, "loss"), (self.metric_plot, "metric")):
                for kind, role, label in (("epoch", "points", name), ("val", "val", None)):
                    series = curves.get(f"{prefix}/{kind}")
                    if series is not None and len(series):
                        plot.curve(f"{name}/{kind}", label, index, role)
                        plot.set_data(f"{name}/{kind}", series.x, series.y)

    # -- actions -------------------------------------------------------------------------
    def _show_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.show_requested.emit(paths[0])

    def open_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open run folder", str(self.root or Path.home()))
        if folder:
            self.open_folder(folder)

    def open_folder(self, folder: str) -> bool:
        """Show a run folder from anywhere in the live view; a folder that is no run says why."""
        try:
            read_run(folder)
        except TrainingError as exc:
            QMessageBox.warning(self, "Not a run folder", str(exc))
            return False
        self.show_requested.emit(str(Path(folder)))
        return True

    def _context_menu(self, position) -> None:
        self.menu = QMenu(self)
        combine = self.menu.addAction("Combine as ensemble", self.combine_selected)
        combine.setEnabled(len(self.selected_paths()) >= 2)
        combine.setToolTip("Average the selected runs' outputs in one new run (same input and output needed)")
        self.menu.popup(self.table.viewport().mapToGlobal(position))

    def combine_selected(self) -> None:
        """Average the selected runs into a new finished run folder (built on the worker thread)."""
        paths, root = self.selected_paths(), self.root
        if len(paths) < 2 or root is None:
            return

        def build() -> Path:
            from studio.core.ensemble import combine, save_ensemble_run
            from studio.core.training.runs import new_run_dir

            return save_ensemble_run(combine(paths), new_run_dir(root, "ensemble"))

        def done(path: Path) -> None:
            self.where.setText(f"Saved the ensemble of {len(paths)} runs as run {path.name}.")
            self.refresh()

        self.where.setText(f"Combining {len(paths)} runs…")
        self.worker.submit("ensemble", build, done,
                           lambda message: self.where.setText(f"Cannot combine these runs: {message}"))

    def delete_selected(self) -> None:
        paths = self.selected_paths()
        if not paths:
            return
        names = ", ".join(Path(p).name for p in paths)
        answer = QMessageBox.question(self, "Delete runs", f"Delete {len(paths)} run(s) and all their files "
                                      f"(checkpoints, models)?\n{names}")
        if answer != QMessageBox.StandardButton.Yes:
            return
        refused = []
        for path in paths:
            try:
                delete_run(path)
            except (TrainingError, OSError) as exc:
                refused.append(str(exc))
        if refused:
            QMessageBox.warning(self, "Some runs were not deleted", "\n".join(refused))
        self.refresh()
