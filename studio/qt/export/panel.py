"""The Export area: pick a run, tick formats, export them (verified) and read the result table.

Every export runs on the panel's worker thread (``TaskRunner``): loading the model, converting and
verifying import TensorFlow, which never happens on the GUI thread. The table shows, per format, whether the
check passed, the size on disk, the single-sample latency and how closely it matches Keras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem, QProgressBar,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.export import FORMATS, ExportError, ExportResult, ExportTargetExistsError, export_formats, format_size
from studio.qt.widgets.run_picker import RunPicker
from studio.qt.widgets.worker import TaskRunner

DEFAULT_FORMATS = ("keras", "tflite", "onnx")
PARTS = ("", "generator", "decoder", "encoder", "discriminator")
COLUMNS = ("Format", "Status", "Size", "Latency (ms)", "Max |diff|", "Agreement", "File / message")


class ExportPanel(QWidget):
    """Run chooser, format checklist, options, progress and the result table.

    ``runs_root`` returns the folder whose run folders are listed (``runs/`` beside the project).
    """

    def __init__(self, runs_root: Callable[[], Path], parent=None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.worker = TaskRunner(self)
        self._exporting = False  # from Export until its results are all shown
        self.results: list[ExportResult] = []
        self._default_folder = ""  # the chosen run's exports/ folder, while the field shows it

        self.run_combo = RunPicker(lambda: self.runs_root())
        self.run_combo.chosen.connect(self._run_chosen)
        refresh = QPushButton("Refresh")
        refresh.clicked.connect(self.refresh_runs)
        browse_run = QPushButton("Open run folder…")
        browse_run.clicked.connect(self._choose_run_folder)
        self.part_combo = QComboBox()
        self.part_combo.addItems(["whole model"] + list(PARTS[1:]))
        self.part_combo.setToolTip("Generative runs: which sub-model to export (the image-making one by default).")

        self.format_list = QListWidget()
        for name, spec in FORMATS.items():
            item = QListWidgetItem(f"{spec.title}")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setToolTip(spec.help)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if name in DEFAULT_FORMATS else Qt.CheckState.Unchecked)
            self.format_list.addItem(item)
        rows = self.format_list.count() * self.format_list.sizeHintForRow(0)
        self.format_list.setFixedHeight(rows + 2 * self.format_list.frameWidth() + 4)

        self.folder_edit = QLineEdit()
        browse_folder = QPushButton("Browse…")
        browse_folder.clicked.connect(self._choose_folder)
        self.name_edit = QLineEdit("model")
        self.normalization_box = QCheckBox("Include input normalization (the export reads raw 0..255 pixels)")
        self.training_box = QCheckBox("Python script: include the data loading and training setup")
        self.force_box = QCheckBox("Replace existing files")
        self.export_button = QPushButton("Export")
        self.export_button.clicked.connect(self.start_export)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Choose formats, then Export: each file is checked against the model")
        self.progress.setValue(0)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self._layout(refresh, browse_run, browse_folder)
        self.export_button.setEnabled(False)  # until a listing chooses a run
        self.refresh_runs()

    def _layout(self, refresh, browse_run, browse_folder) -> None:
        source = QGroupBox("Model")
        form = QFormLayout(source)
        row = QHBoxLayout()
        row.addWidget(self.run_combo, 1)
        row.addWidget(refresh)
        row.addWidget(browse_run)
        form.addRow("Run", row)
        form.addRow("Part", self.part_combo)
        formats = QGroupBox("Formats")
        QVBoxLayout(formats).addWidget(self.format_list)
        options = QGroupBox("Output")
        form = QFormLayout(options)
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(browse_folder)
        form.addRow("Folder", row)
        form.addRow("File name", self.name_edit)
        for box in (self.normalization_box, self.training_box, self.force_box):
            form.addRow(box)
        left = QVBoxLayout()
        for widget in (source, formats, options, self.export_button):
            left.addWidget(widget)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.progress)
        right.addWidget(self.status)
        right.addWidget(self.table, 1)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addLayout(right, 3)

    # -- choices ------------------------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the run folders under ``runs_root()``, newest first (on the picker's worker)."""
        self.run_combo.refresh(announce=True)

    def add_run(self, path: str | Path) -> None:
        """Choose a run folder that is not under the runs root."""
        self.run_combo.add_folder(path)

    def _run_chosen(self, path: str | None) -> None:
        self.export_button.setEnabled(bool(path) and not self.busy)
        previous_default = self._default_folder
        self._default_folder = str(Path(path) / "exports") if path else ""
        if path and self.folder_edit.text() in ("", previous_default):  # follow the run unless the user chose a folder
            self.folder_edit.setText(self._default_folder)
        if not path:
            self.status.setText("No run yet: train the model in the Train area, or open a run folder.")

    def _choose_run_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.runs_root()))
        if path:
            self.add_run(path)

    def _choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if path:
            self.folder_edit.setText(path)

    def checked_formats(self) -> list[str]:
        items = (self.format_list.item(i) for i in range(self.format_list.count()))
        return [item.data(Qt.ItemDataRole.UserRole) for item in items if item.checkState() == Qt.CheckState.Checked]

    def set_formats(self, names: list[str]) -> None:
        for index in range(self.format_list.count()):
            item = self.format_list.item(index)
            checked = item.data(Qt.ItemDataRole.UserRole) in names
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    # -- export -------------------------------------------------------------------------
    def start_export(self) -> None:
        """Export the checked formats of the chosen run on a worker thread."""
        run_dir, formats = self.run_combo.currentData(), self.checked_formats()
        folder, name = self.folder_edit.text().strip(), self.name_edit.text().strip()
        problem = ("choose a run" if not run_dir else "tick at least one format" if not formats else
                   "choose an output folder" if not folder else "give a file name" if not name else None)
        if problem:
            self.status.setText(f"Cannot export: {problem}.")
            return
        self.results = []
        self.table.setRowCount(0)
        self.progress.setRange(0, len(formats))
        self.progress.setValue(0)
        part = self.part_combo.currentText() if self.part_combo.currentIndex() > 0 else None
        options = (Path(run_dir), formats, Path(folder), name, part, self.normalization_box.isChecked(),
                   self.training_box.isChecked(), self.force_box.isChecked())
        self.export_button.setEnabled(False)
        self.status.setText("Exporting…")
        self._exporting = True
        self.worker.submit("export", lambda progress: export_formats(*options, progress), self._on_finished,
                           self._on_failed, self._on_progress)

    @property
    def busy(self) -> bool:
        return self._exporting

    def _on_progress(self, report: tuple) -> None:
        kind, *values = report
        {"stage": self._on_stage, "exported": self._on_result, "refused": self._on_refused}[kind](*values)

    def _on_stage(self, index: int, text: str) -> None:
        self.progress.setValue(index)
        self.progress.setFormat(f"{index}/{self.progress.maximum()}  {text}")

    def _on_result(self, result: ExportResult) -> None:
        self.results.append(result)
        status = "ok" if result.ok else "FAILED"
        if result.warnings:
            status += " (warnings)"
        detail = result.path if result.ok else result.message
        cells = [FORMATS[result.format].title, status, format_size(result.size_bytes) if result.ok else "-",
                 _number(result.latency_ms, "{:.3f}"), _number(result.max_abs_diff, "{:.2e}"),
                 _number(result.argmax_agreement, "{:.2%}"), detail]
        self._add_row(cells, "\n".join([result.message, *result.warnings]))

    def _on_refused(self, name: str, error: ExportError) -> None:
        message = str(error)
        if isinstance(error, ExportTargetExistsError):
            message += f"; tick “{self.force_box.text()}” to replace it"
        self._add_row([FORMATS[name].title, "not exported", "-", "-", "-", "-", message], message)

    def _add_row(self, cells: list[str], tooltip: str) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(tooltip)
            self.table.setItem(row, column, item)
        self.progress.setValue(row + 1)

    def _on_failed(self, message: str) -> None:
        self._on_finished(None)
        self.status.setText(f"Export stopped: {message}")

    def _on_finished(self, _result: None) -> None:
        self._exporting = False
        self.export_button.setEnabled(bool(self.run_combo.currentData()))
        done = sum(result.ok for result in self.results)
        warnings = sorted({w for result in self.results for w in result.warnings})
        self.progress.setFormat(f"{done} of {self.table.rowCount()} exported and verified")
        self.status.setText("\n".join(f"warning: {w}" for w in warnings) or "Done.")


def _number(value: float | None, pattern: str) -> str:
    return "-" if value is None else pattern.format(value)


def create_panel(window) -> ExportPanel:
    """The Export area of ``window``: runs are read from ``window.runs_root()``."""
    panel = ExportPanel(window.runs_root)
    window.document.path_changed.connect(lambda _path: panel.refresh_runs())
    return panel
