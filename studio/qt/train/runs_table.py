"""The Runs view: a runs folder as a sortable, filterable table, with the selected runs' curves.

The table is backed by the runs folder's index (``RunIndex``: listing never parses whole event
logs; the first indexing reports progress), refreshed on a worker thread. Columns are any config
value, metric or dataset field (the column chooser); the filter line takes the filters of
``studio runs --filter`` separated by ``;``. Tags and notes are edited in the table. Selected runs
are overlaid (``run_overlay``); two selected runs can be compared (``run_diff``); the table exports
as CSV; "Compare Variants…" trains variants of the open project (``variants_dialog``); a run's
"Bagging Ensemble…" trains bootstrap members of its project (``bagging``).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.experiments import table as core_table
from studio.core.experiments.compare import compare_runs
from studio.core.experiments.index import RunIndex
from studio.core.training import TrainingError, delete_run, read_run
from studio.core.training.runs import LIVE_STATUSES
from studio.qt.train.run_diff import DiffDialog
from studio.qt.train.run_overlay import OverlayPlot, load_overlay
from studio.qt.train.runs_model import EDITABLE, RunsModel, split_filters
from studio.qt.widgets.plots import CurvePlot
from studio.qt.widgets.run_sharing import export_tensorboard, save_report
from studio.qt.widgets.worker import TaskRunner

LIVE_REFRESH_MS = 3000  # while a listed run is training, the table is refreshed this often
MAX_OVERLAY = 10
FIT_MAX_PX = 360  # a column fitted to its contents is at most this wide (a long name or note)
ERROR_STYLE = "QLabel { color: #d93025; }"


class RunsView(QWidget):
    """Runs under one folder; select several to overlay their curves.

    Signals:
        show_requested(str): a run folder to show (and follow, if it is training) in the live view.
        listed: the table shows a fresh listing.
        overlaid: the plots show the selected runs.
    """

    show_requested = Signal(str)
    listed = Signal()
    overlaid = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.root: Path | None = None
        self.worker = TaskRunner(self)
        self.bagging_worker = TaskRunner(self)  # bagging trains for minutes: not on the table's worker
        self._keep_selected: list[str] = []
        self._fitted: tuple = ()  # the column headers last fitted to their contents
        self.where = QLabel()
        self.where.setWordWrap(True)
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.indexing = QProgressBar()
        self.indexing.setFormat("Indexing runs: %v of %m")
        self.indexing.hide()

        self.model = RunsModel(self)
        self.model.failed.connect(self._show_problem)
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._restore_selection)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # newest first until a header is clicked
        self.table.setSortingEnabled(True)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._overlay_selected())
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.menu: QMenu | None = None  # the open context menu

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter, as studio runs --filter: optimizer=adam; val_loss<0.5; "
                                            "tags=baseline; note~relu  (Enter)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.returnPressed.connect(self.apply_filter)
        self.filter_edit.textChanged.connect(lambda text: self.apply_filter() if not text else None)
        self.problem = QLabel()
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.columns_button = QToolButton()
        self.columns_button.setText("Columns")
        self.columns_button.setToolTip("Choose the columns: any setting, metric or dataset field")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.columns_button.setMenu(self.columns_menu)
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.filter_edit, 1)
        filter_row.addWidget(self.columns_button)

        self.refresh_button = QPushButton("Refresh")
        self.open_button = QPushButton("Open Run Folder…")
        self.open_button.setToolTip("Show a run from any folder, e.g. one started with `studio train`, and "
                                    "follow it live while it trains")
        self.show_button = QPushButton("Show in Live View")
        self.compare_button = QPushButton("Compare Two…")
        self.compare_button.setToolTip("Settings, graph and data differences of the two selected runs")
        self.variants_button = QPushButton("Compare Variants…")
        self.variants_button.setToolTip("Train variants of the open project that differ in one choice "
                                        "(activation, optimizer, ...) one after another, then overlay them")
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.setToolTip("The table as shown (columns, filter, order) as a CSV file")
        self.delete_button = QPushButton("Delete…")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self.open_dialog)
        self.show_button.clicked.connect(self._show_selected)
        self.compare_button.clicked.connect(self.compare_selected)
        self.variants_button.clicked.connect(self.open_variants)
        self.csv_button.clicked.connect(self.export_csv)
        self.delete_button.clicked.connect(self.delete_selected)
        buttons = QHBoxLayout()
        for button in (self.refresh_button, self.open_button, self.show_button, self.compare_button,
                       self.variants_button, self.csv_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)

        self.loss_plot = CurvePlot("Loss of the selected runs (solid: train, dashed: validation)", "loss")
        self.metric_plot = CurvePlot("Metric of the selected runs", "metric", legend_at_bottom=True)
        self.overlays = (OverlayPlot(self.loss_plot, ("loss", "d_loss"), 0),
                         OverlayPlot(self.metric_plot, ("accuracy", "g_loss", "kl_loss"), 1))
        plots = QWidget()
        plots_layout = QHBoxLayout(plots)
        plots_layout.setContentsMargins(0, 0, 0, 0)
        for overlay in self.overlays:
            plots_layout.addWidget(overlay)
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addWidget(self.where)
        top_layout.addLayout(buttons)
        top_layout.addLayout(filter_row)
        top_layout.addWidget(self.problem)
        top_layout.addWidget(self.indexing)
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
        """Re-read the index on the worker thread (only changed run folders are read again)."""
        if self.root is None:
            return
        root = self.root
        self.worker.submit("list", lambda progress: RunIndex(root).rows(lambda *done: progress(done)),
                           self._show_runs, lambda message: self._listing_failed(root, message),
                           self._show_indexing)

    def _show_indexing(self, done_total: tuple[int, int]) -> None:
        done, total = done_total
        if total > 20:  # only a first (or large) indexing is worth a progress bar
            self.indexing.setRange(0, total)
            self.indexing.setValue(done)
            self.indexing.show()

    def _listing_failed(self, root: Path, message: str) -> None:
        self.indexing.hide()
        self.where.setText(f"Cannot list the runs in {root}: {message}")

    def _show_runs(self, rows: list[dict]) -> None:
        self.indexing.hide()
        self.model.set_rows(rows)
        if not self.model.columns:
            return
        if self.table.horizontalHeader().sectionSize(0) == self.table.horizontalHeader().defaultSectionSize():
            self.table.resizeColumnsToContents()
        if any(row["status"] in LIVE_STATUSES for row in rows):
            self._live_timer.start()
        self.listed.emit()

    def apply_filter(self) -> None:
        """Show the runs that pass every filter of the filter line (one line when one is wrong)."""
        if self.model.set_filters(split_filters(self.filter_edit.text())):
            self.problem.hide()

    def _show_problem(self, message: str) -> None:
        self.problem.setText(message)
        self.problem.show()

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        shown = set(self.model.columns)
        for column in self.model.available_columns():
            action = QAction(column, self.columns_menu, checkable=True, checked=column in shown)
            action.toggled.connect(lambda on, c=column: self.toggle_column(c, on))
            self.columns_menu.addAction(action)

    def toggle_column(self, column: str, on: bool) -> None:
        columns = [c for c in self.model.columns if c != column] + ([column] if on else [])
        self.model.set_columns(columns)

    # -- selection -----------------------------------------------------------------------
    def selected_paths(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.path(row) for row in rows if row < self.model.rowCount()]

    def select_paths(self, paths: list[str]) -> None:
        """Select the listed runs whose folders are ``paths`` (and overlay them)."""
        self._keep_selected = list(paths)
        self._restore_selection()

    def _remember_selection(self) -> None:
        self._keep_selected = self.selected_paths()

    def _restore_selection(self) -> None:
        selection = self.table.selectionModel()
        selection.blockSignals(True)
        selection.clearSelection()
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        wanted = set(self._keep_selected)
        for row in range(self.model.rowCount()):
            if self.model.path(row) in wanted:
                selection.select(self.model.index(row, 0), flags)
        selection.blockSignals(False)
        self.table.viewport().update()
        self._fit_columns()
        self._overlay_selected()

    def _fit_columns(self) -> None:
        """Columns as wide as their texts (at most FIT_MAX_PX): fitted when the columns change, only
        widened at later listings (a run that completes needs more room than "running")."""
        headers = tuple(self.model.headerData(c, Qt.Orientation.Horizontal) for c in range(self.model.columnCount()))
        if not self.model.rowCount():
            return
        changed, self._fitted = headers != self._fitted, headers
        cells = self.table.fontMetrics()
        titles = self.table.horizontalHeader().fontMetrics()
        rows = range(min(self.model.rowCount(), 200))  # measured, not laid out: the tab may be hidden
        for column, header in enumerate(headers):
            texts = (str(self.model.index(row, column).data() or "") for row in rows)
            wide = max([titles.horizontalAdvance(str(header)) + 24, *(cells.horizontalAdvance(t) + 16 for t in texts)])
            wide = min(wide, FIT_MAX_PX)
            if changed or wide > self.table.columnWidth(column):
                self.table.setColumnWidth(column, wide)

    def _update_buttons(self) -> None:
        count = len(self.selected_paths())
        self.show_button.setEnabled(count == 1)
        self.compare_button.setEnabled(count == 2)
        self.delete_button.setEnabled(count > 0)

    def _double_clicked(self, index) -> None:
        if self.model.columns[index.column()] not in EDITABLE:  # tags and notes open an editor instead
            self.show_requested.emit(self.model.path(index.row()))

    # -- overlay -------------------------------------------------------------------------
    def _overlay_selected(self) -> None:
        self._update_buttons()
        paths = self.selected_paths()[:MAX_OVERLAY]
        runs = [(path, Path(path).name) for path in paths]
        self.worker.submit("overlay", lambda: load_overlay(runs), self._draw_overlay,
                           lambda message: self._show_problem(f"Cannot read a run: {message}"))

    def _draw_overlay(self, loaded) -> None:
        for overlay in self.overlays:
            overlay.set_runs(loaded)
        self.overlaid.emit()

    # -- actions -------------------------------------------------------------------------
    def _context_menu(self, position) -> None:
        """The one context menu of the table (add run actions here)."""
        paths = self.selected_paths()
        menu = self.menu = QMenu(self)
        menu.addAction("Combine as ensemble", self.combine_selected).setEnabled(len(paths) >= 2)
        menu.addAction("Bagging Ensemble of This Run…", lambda: self.bag_selected()).setEnabled(len(paths) == 1)
        menu.addAction("Show in Live View", self._show_selected).setEnabled(len(paths) == 1)
        menu.addAction("Compare Two…", self.compare_selected).setEnabled(len(paths) == 2)
        menu.addAction("Save Report…", lambda: save_report(self, self.worker, paths[0], self.where.setText)
                       ).setEnabled(len(paths) == 1)
        menu.addAction("Export to TensorBoard…", lambda: export_tensorboard(self, self.worker, paths, self.where.setText)
                       ).setEnabled(bool(paths))
        index = self.table.indexAt(position)
        for column in EDITABLE:
            if column in self.model.columns and index.isValid():
                target = self.model.index(index.row(), self.model.columns.index(column))
                menu.addAction(f"Edit {column.capitalize()}", lambda t=target: self.table.edit(t))
        menu.addSeparator()
        menu.addAction("Delete…", self.delete_selected).setEnabled(bool(paths))
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _show_selected(self) -> None:
        paths = self.selected_paths()
        if len(paths) == 1:
            self.show_requested.emit(paths[0])

    def compare_selected(self) -> DiffDialog | None:
        """The differences of the two selected runs in a dialog (shown, not modal)."""
        paths = self.selected_paths()
        if len(paths) != 2:
            return None
        try:
            comparison = compare_runs(*paths)
        except (ValueError, OSError) as exc:
            QMessageBox.warning(self, "Cannot compare", f"Cannot compare these runs: {exc}")
            return None
        dialog = DiffDialog(comparison, Path(paths[0]).name, Path(paths[1]).name, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def export_csv(self) -> str | None:
        """Write the table as shown to a CSV file the user picks; returns the path written."""
        start = str((self.root or Path.home()) / "runs.csv")
        path, _ = QFileDialog.getSaveFileName(self, "Export runs table", start, "CSV files (*.csv)")
        if not path:
            return None
        try:
            core_table.write_csv(path, self.model.columns, self.model.shown)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot export", f"Cannot write {path}: {exc.strerror or exc}")
            return None
        return path

    def open_variants(self):
        """The "Compare variants" dialog for the window's open project."""
        from studio.qt.train.variants_dialog import VariantsDialog

        main = self.window()
        dialog = VariantsDialog(main.document, main.runs_root(), self)
        dialog.started_runs.connect(lambda _paths: self.refresh())
        dialog.finished_runs.connect(self._overlay_variants)
        dialog.show()
        return dialog

    def _overlay_variants(self, paths: list[str]) -> None:
        self.select_paths(paths)
        self.refresh()

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

    def bag_selected(self, members: int | None = None) -> None:
        """Train ``members`` (asked when None) bagging members of the selected run's project on bootstrap
        resamples, each an ordinary run listed here, then save and score their ensemble."""
        from studio.qt.train.bagging import start_bagging

        paths = self.selected_paths()
        if len(paths) == 1 and self.root is not None:
            start_bagging(self, self.bagging_worker, paths[0], self.root, members)

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
