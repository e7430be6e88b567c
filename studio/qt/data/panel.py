"""The Data area: choose a dataset, see samples, class balance and loading notes, fit the model to it.

Loading runs on a worker thread (``TaskRunner``, newest request wins); a dataset becomes the project's (one undoable
``SetSection``) only once it loaded, so a bad source leaves the previous dataset in place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                               QScrollArea, QSplitter, QStackedWidget, QTableWidget, QTableWidgetItem,
                               QVBoxLayout, QWidget)

from studio.core.data import Dataset, DataError, default_dataset_spec
from studio.core.data.paths import spec_for_path
from studio.core.data.scan import CancelToken
from studio.core.data.source_options import DATA_SOURCES
from studio.core.formatting import format_duration
from studio.core.tasks import get_task
from studio.core.training.adapt import adapt_to_dataset
from studio.core.training.compat import DataFacts, check_compat
from studio.core.training.errors import TrainingError
from studio.core import formatting
from studio.qt.commands import SetParam, SetSection
from studio.core.data.cache import cached_dataset, load_cached, spec_key
from studio.qt.data.dataset_form import DatasetForm
from studio.qt.data.sample_array import SampleArrayView
from studio.qt.widgets.image_grid import ImageGrid
from studio.qt.widgets.worker import TaskRunner
from studio.qt.widgets.plot_theme import series_color, style_plot

SAMPLES_SHOWN = 32
TABLE_ROWS = 50
TARGET_VALUES, TARGET_CHARS = 4, 60  # a sequence target is shortened to this in the table
EDIT_DELAY_MS = 350  # spin boxes and sliders settle before a reload starts
SPLIT_TITLES = {"train": "train", "val": "validation", "test": "test"}
ERROR_STYLE = "background: rgba(217, 48, 37, 40); border: 1px solid #d93025; border-radius: 4px; padding: 6px;"


def create_panel(window) -> QWidget:
    return DataPanel(window)


def describe(spec: dict[str, Any]) -> str:
    """A short name for a dataset spec: ``digits``, ``keras mnist``, ``folder pets``..."""
    source = spec.get("source", "?")
    if spec.get("path"):
        return f"{source} {Path(str(spec['path'])).name}"
    if source in ("keras", "toy"):
        return f"{source} {spec.get('name', '')}".strip()
    return str(source)


def sample_indices(y: np.ndarray, num_classes: int, count: int) -> np.ndarray:
    """Up to ``count`` training indices taking each class in turn, so every class shows up
    (``num_classes`` 0: the first ones, for targets that are not one class per sample)."""
    if not num_classes:
        return np.arange(min(count, len(y)))
    members = [np.flatnonzero(y == c) for c in range(num_classes)]
    picked: list[int] = []
    for rank in range(max((len(m) for m in members), default=0)):
        for group in members:
            if rank < len(group):
                picked.append(int(group[rank]))
                if len(picked) == count:
                    return np.asarray(picked)
    return np.asarray(picked, dtype=int)


def target_text(dataset: Dataset, target: np.ndarray) -> str:
    """One sample's target as a reader sees it: a class name, a number, or a (shortened) sequence
    of tokens or values."""
    values = np.ravel(target)
    if not get_task(dataset.task).has_classes:
        shown = ", ".join(f"{float(v):.3g}" for v in values[:TARGET_VALUES])
        return shown + (f", … ({len(values)} values)" if len(values) > TARGET_VALUES else "")
    names = [dataset.class_names[int(v)] for v in values]
    if len(names) == 1:
        return names[0]
    joiner = "" if all(len(name) <= 1 for name in names) else " "  # characters, else words
    text = joiner.join(name for name in names if name)  # the padding token is empty
    return text if len(text) <= TARGET_CHARS else text[:TARGET_CHARS - 1] + "…"


def _label_classes(dataset: Dataset) -> int:
    """The classes to take samples from in turn: none unless each target is a class label."""
    return dataset.num_classes if get_task(dataset.task).class_labels and dataset.y_train.ndim == 1 else 0


def _samples_decoded(dataset: Dataset) -> Dataset:
    """Decode the samples the panel shows on the loader thread: a streamed folder then serves them
    from its sample cache, so showing the dataset never decodes images on the GUI thread."""
    if dataset.is_image and not isinstance(dataset.x_train, np.ndarray):
        dataset.x_train[sample_indices(dataset.y_train, _label_classes(dataset), SAMPLES_SHOWN)]
    return dataset


def model_changes(graph, dataset: Dataset) -> list[tuple[str, str, Any]]:
    """``(node_id, key, value)`` edits that fit the graph's Input and output layer to ``dataset``.

    Raises TrainingError when the model cannot be fitted (wrong input rank, no Dense output...).
    """
    adapted, _notes = adapt_to_dataset(graph, dataset)
    edits = []
    for node_id, node in adapted.nodes.items():
        old = graph.nodes[node_id].params
        edits += [(node_id, key, value) for key, value in node.params.items() if old.get(key) != value]
    return edits


class DataPanel(QWidget):
    """Dataset form (left) | samples, class chart and loading report (right)."""

    _scan_progress = Signal(int, int, float, float)  # emitted on the loader thread, shown on the GUI thread

    def __init__(self, window) -> None:
        super().__init__()
        self.doc = window.document
        self.dataset: Dataset | None = None
        self._shown_key: str | None = None
        self._requested: tuple[dict, bool] | None = None
        self._error_after_load = ""  # a failed attempt's message, kept while the project's data reloads
        self.setAcceptDrops(True)

        self.form = DatasetForm()
        self.loader = TaskRunner(self)
        self._edit_timer = QTimer(self, singleShot=True, interval=EDIT_DELAY_MS)
        self._edit_timer.timeout.connect(self.load_form)
        self.form.edited.connect(self._edit_timer.start)
        self.loader.busy_changed.connect(self._on_busy)

        self.busy = QProgressBar(minimum=0, maximum=0, textVisible=False, maximumHeight=6)
        self.busy_label = QLabel(wordWrap=True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop scanning this folder; the project keeps its dataset.")
        self.cancel_button.clicked.connect(self.cancel_load)
        self._cancel_token = CancelToken()
        self._scan_progress.connect(self._on_progress)
        self.hint_label = QLabel(wordWrap=True)
        self.error_label = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.fit_label = QLabel(wordWrap=True)
        self.apply_button = QPushButton("Apply to model")
        self.apply_button.setToolTip("Set the model's Input shape and its output layer (units, activation) to "
                                     "this dataset, as one step you can undo.")
        self.apply_button.clicked.connect(self.apply_to_model)

        model_group = QGroupBox("Model")
        model_layout = QVBoxLayout(model_group)
        model_layout.addWidget(self.fit_label)
        model_layout.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignLeft)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.form)
        left_layout.addWidget(self.busy)
        left_layout.addWidget(self.busy_label)
        left_layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignLeft)
        left_layout.addWidget(self.hint_label)
        left_layout.addWidget(self.error_label)
        left_layout.addWidget(model_group)
        left_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(left)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setFixedWidth(420)

        self.summary_label = QLabel()
        self.grid = ImageGrid()
        self.scatter = pg.PlotWidget()
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)  # a long text target is elided on one line, not cut mid-line
        self.samples = QStackedWidget()
        for view in (self.grid, self.scatter, self.table):
            self.samples.addWidget(view)
        self.array_view = SampleArrayView()  # a clicked image sample as its numbers
        self._picked = np.zeros(0, int)  # dataset index of each tile of the grid
        self.grid.tile_clicked.connect(self.show_sample_array)
        samples_row = QSplitter(Qt.Orientation.Horizontal)
        samples_row.addWidget(self.samples)
        samples_row.addWidget(self.array_view)
        samples_row.setSizes([600, 360])
        samples_group = self._group("Samples", self.summary_label, samples_row)

        self.chart = pg.PlotWidget()
        self.chart.setMouseEnabled(x=False, y=False)
        self.chart.hideButtons()
        self.chart.setMenuEnabled(False)
        self.chart_legend = QLabel()
        self.chart_group = self._group("Class distribution", self.chart_legend, self.chart)
        self.report = QPlainTextEdit(readOnly=True)
        report_group = self._group("Details and loading notes", self.report)

        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.chart_group)
        bottom.addWidget(report_group)
        bottom.setSizes([600, 400])
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(samples_group)
        right.addWidget(bottom)
        right.setSizes([520, 300])
        layout = QHBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(right, 1)

        self.doc.project_replaced.connect(self.sync_from_project)
        self.doc.section_changed.connect(self._on_section)
        self.doc.analysis_changed.connect(lambda _analysis: self._update_fit())
        self._style_plots()
        self._show_error("")
        self._show_hint("")
        self._on_busy(False)
        self.sync_from_project()

    # -- loading -------------------------------------------------------------------------
    def sync_from_project(self) -> None:
        """Show the project's dataset (after New/Open, undo/redo or another panel's change)."""
        spec = self.doc.project.dataset or default_dataset_spec()
        self.form.set_spec(spec)
        if spec_key(spec) != self._shown_key:
            self.request(spec, commit=False)

    def _on_section(self, name: str) -> None:
        if name == "dataset":
            self.sync_from_project()

    def load_form(self) -> None:
        """Load what the form shows; it becomes the project's dataset once it loaded."""
        spec = self.form.spec()
        self._error_after_load = ""
        if DATA_SOURCES[spec["source"]].takes_path and not spec.get("path"):
            self._edit_timer.stop()
            self._show_error("")
            self._show_hint("Choose a file or folder with Browse…, or drop it on the window.")
            self._show_nothing(f"{DATA_SOURCES[spec['source']].title}: no file or folder chosen yet. The project "
                               f"keeps its dataset ({describe(self.doc.project.dataset or {})}) until one loads.")
            return
        self.request(spec, commit=True)

    def open_path(self, path: str | Path) -> None:
        """Use a dropped (or otherwise given) folder or file as the data source."""
        try:
            spec = spec_for_path(path)
        except DataError as exc:
            self._show_error(str(exc))
            return
        if set(spec) == {"source", "path"}:
            self.form.set_path(spec["source"], spec["path"])  # keeps the split, seed, ... as they are
        else:
            self.form.set_spec(spec)
        self.load_form()

    def request(self, spec: dict[str, Any], commit: bool) -> None:
        self._edit_timer.stop()
        self._show_hint("")
        self._requested = (spec, commit)
        dataset = cached_dataset(spec)
        if dataset is not None:
            self.loader.cancel("load")
            self._on_loaded(dataset)
            return
        self.busy_label.setText(f"Loading {describe(spec)}…")
        if self.dataset is None:
            self.grid.show_message(f"Loading {describe(spec)}…")
        self._cancel_token.cancel()  # the newest request wins: stop an older scan
        token = self._cancel_token = CancelToken()
        self.busy.setRange(0, 0)
        self.loader.submit("load", lambda: _samples_decoded(load_cached(spec, self._scan_progress.emit, token)),
                           self._on_loaded, self._on_failed)

    def cancel_load(self) -> None:
        """Stop the running scan (the worker ends with a "cancelled" message)."""
        self._cancel_token.cancel()

    def _on_progress(self, done: int, total: int, rate: float, eta: float) -> None:
        self.busy.setRange(0, total)
        self.busy.setValue(done)
        self.busy_label.setText(f"Scanning {done:,} of {total:,} files ({rate:,.0f} files/s, "
                                f"{format_duration(eta)} left)…")

    def _on_loaded(self, dataset: Dataset) -> None:
        spec, commit = self._requested
        self._show_error(self._error_after_load)
        self._error_after_load = ""
        self.show_dataset(dataset, spec)
        if commit and spec_key(spec) != spec_key(self.doc.project.dataset):
            self.doc.push(SetSection(self.doc, "dataset", spec, f"Use dataset {describe(spec)}"))

    def _on_failed(self, reason: str) -> None:
        spec, commit = self._requested
        reason = reason.rstrip(".")
        if commit:
            project_spec = self.doc.project.dataset
            kept = describe(project_spec) if project_spec else "none"
            self._show_error(f"Cannot load {describe(spec)}: {reason}.\nThe project keeps its dataset ({kept}); "
                             "fix the source above and it loads again.")
            if project_spec and spec_key(project_spec) != self._shown_key:  # show what the project keeps
                self._error_after_load = self.error_label.text()
                self.request(project_spec, commit=False)
        else:
            self._show_error(f"The project's dataset ({describe(spec)}) cannot be loaded: {reason}.\n"
                             "Choose another source or fix the file or folder.")

    def _on_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.cancel_button.setVisible(busy)

    def _show_hint(self, text: str) -> None:
        self.hint_label.setText(text)
        self.hint_label.setVisible(bool(text))

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    # -- showing -------------------------------------------------------------------------
    def show_dataset(self, dataset: Dataset, spec: dict[str, Any]) -> None:
        self.dataset = dataset
        self._shown_key = spec_key(spec)
        sizes = " / ".join(f"{len(dataset.split(name)[0])}" for name in SPLIT_TITLES)
        what = f"{dataset.num_classes} classes" if get_task(dataset.task).has_classes else "numeric target"
        self.summary_label.setText(f"<b>{describe(spec)}</b> · {dataset.task} · input "
                                   f"{formatting.shape(dataset.input_shape)} · {what} · "
                                   f"train / validation / test: {sizes}")
        self._show_samples(dataset)
        self._show_chart(dataset)
        lines = dataset.summary()
        notes = dataset.report
        lines += ["", f"Loading notes ({len(notes)}):" if notes else "Loading notes: no file skipped, no value missing."]
        lines += [f"  • {note}" for note in notes]
        self.report.setPlainText("\n".join(lines))
        self._update_fit()

    def _show_nothing(self, text: str) -> None:
        """Clear the views (samples, chart, details, model fit) that would describe another dataset."""
        self.dataset = None
        self._shown_key = None
        self.summary_label.setText("")
        self.grid.show_message(text)
        self.samples.setCurrentWidget(self.grid)
        self.array_view.clear()
        self.array_view.hide()  # no image to click
        self.chart.clear()
        self.chart.hide()  # its axes would still count the old classes
        self.chart_group.setTitle("Class distribution")
        self.chart_legend.setText("")
        self.report.setPlainText(text)
        self._update_fit()

    def _show_samples(self, dataset: Dataset) -> None:
        x, y = dataset.split("train")
        names = dataset.class_names
        self.array_view.clear()
        self.array_view.setVisible(dataset.is_image)
        if dataset.is_image:
            self._picked = picked = sample_indices(y, _label_classes(dataset), SAMPLES_SHOWN)
            task = get_task(dataset.task)
            captions = [task.label_text(y[i], names) for i in picked]
            drawn = [task.target_picture(x[i], y[i], names) for i in picked]
            if drawn and drawn[0] is not None:  # targets drawn on the samples (boxes)
                self.grid.set_images(np.stack(drawn), captions, (0.0, 255.0))
            else:
                self.grid.set_images(x[picked], captions, dataset.value_range)
            self.samples.setCurrentWidget(self.grid)
        elif dataset.input_shape == (2,) and get_task(dataset.task).has_classes:
            self._show_points(x, y, names)
        else:
            self._show_table(dataset, x, y)

    def show_sample_array(self, tile: int) -> None:
        """Show the grid's ``tile``-th sample as its array of values, beside the grid."""
        dataset = self.dataset
        if dataset is None or not dataset.is_image or tile >= len(self._picked):
            return
        x, y = dataset.split("train")
        index = int(self._picked[tile])
        label = get_task(dataset.task).label_text(y[index], dataset.class_names)
        self.array_view.show_sample(x[index], f"training sample {index} ({label})", dataset.value_range)

    def _show_points(self, x: np.ndarray, y: np.ndarray, names: list[str]) -> None:
        self.scatter.clear()
        legend = self.scatter.getPlotItem().legend or self.scatter.addLegend(offset=(10, 10))
        legend.clear()
        for label, name in enumerate(names):
            points = x[y == label]
            colour = series_color(label)
            self.scatter.plot(points[:, 0], points[:, 1], pen=None, symbol="o", symbolSize=6,
                              symbolBrush=colour, symbolPen=None, name=name)
        style_plot(self.scatter)
        self.samples.setCurrentWidget(self.scatter)

    def _show_table(self, dataset: Dataset, x: np.ndarray, y: np.ndarray) -> None:
        rows = min(TABLE_ROWS, len(x))
        flat = x[:rows].reshape(rows, -1)
        headers = (dataset.feature_names or [f"x{i}" for i in range(flat.shape[1])])[:flat.shape[1]]
        self.table.clear()
        self.table.setRowCount(rows)
        self.table.setColumnCount(len(headers) + 1)
        self.table.setHorizontalHeaderLabels([str(dataset.spec.get("target", "target")), *headers])
        for row in range(rows):
            self.table.setItem(row, 0, QTableWidgetItem(target_text(dataset, y[row])))
            for col, value in enumerate(flat[row][:len(headers)], start=1):
                self.table.setItem(row, col, QTableWidgetItem(f"{value:.3g}"))
        self.samples.setCurrentWidget(self.table)

    def _show_chart(self, dataset: Dataset) -> None:
        """Stacked bars of samples (boxes, pixels) per class and split (a histogram of the values when targets name
        no class)."""
        self.chart.clear()
        self.chart.show()
        axis = self.chart.getAxis("bottom")
        task = get_task(dataset.task)
        if not dataset.class_counts():  # numbers: a histogram of the values
            self.chart_group.setTitle("Target distribution (training split)")
            counts, edges = np.histogram(dataset.y_train, bins=30)
            self.chart.addItem(pg.BarGraphItem(x=(edges[:-1] + edges[1:]) / 2, height=counts,
                                               width=np.diff(edges), brush=series_color(0)))
            axis.setTicks(None)
            self.chart_legend.setText("")
            self.chart.autoRange()
            return
        self.chart_group.setTitle("Class distribution" + ("" if task.class_labels else f" ({task.counted} per class)"))
        positions = np.arange(dataset.num_classes)
        bottom = np.zeros(dataset.num_classes)
        legend = []
        for index, name in enumerate(SPLIT_TITLES):
            counts = np.array(list(dataset.class_counts(name).values()), float)
            colour = series_color(index)
            self.chart.addItem(pg.BarGraphItem(x=positions, height=counts, y0=bottom, width=0.75,
                                               brush=colour, pen=pg.mkPen(colour.darker(130))))
            bottom += counts
            legend.append(f"<span style='color:{colour.name()}'>■</span> {SPLIT_TITLES[name]}")
        step = max(1, int(np.ceil(dataset.num_classes / 20)))
        axis.setTicks([[(int(i), dataset.class_names[i][:12]) for i in positions[::step]]])
        self.chart_legend.setText("   ".join(legend))
        self.chart.setXRange(-0.6, dataset.num_classes - 0.4, padding=0)
        self.chart.setYRange(0, max(float(bottom.max()), 1.0) * 1.05, padding=0)

    def _style_plots(self) -> None:
        for plot in (self.chart, self.scatter):
            style_plot(plot)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._style_plots()
            if self.dataset is not None:
                self._show_chart(self.dataset)

    @staticmethod
    def _group(title: str, *widgets: QWidget) -> QGroupBox:
        group = QGroupBox(title)
        layout = QVBoxLayout(group)
        for widget in widgets:
            layout.addWidget(widget, 1 if widget is widgets[-1] else 0)
        return group

    # -- fitting the model ---------------------------------------------------------------
    def _update_fit(self) -> None:
        """Say whether the model's Input and output match the dataset, and what Apply would change."""
        dataset = self.dataset
        if dataset is None:
            self.fit_label.setText("Load a dataset to compare it with the model.")
            self.apply_button.setEnabled(False)
            return
        if self.doc.project.generative:  # trained as a whole (generator and critic), never adapted
            problems = check_compat(self.doc.project, DataFacts.of(dataset))
            kind = self.doc.project.generative["kind"].upper()
            self.fit_label.setText(f"✗ The {kind} cannot train on this data: {problems[0].message}." if problems
                                   else f"✓ The {kind} fits this data (images {formatting.shape(dataset.input_shape)}).")
            self.apply_button.setEnabled(False)
            return
        facts = DataFacts.of(dataset)
        need = (f"This data needs input {formatting.shape(dataset.input_shape)} and outputs for "
                f"{get_task(dataset.task).target_text(facts.num_classes, facts.target_size)}.")
        try:
            edits = model_changes(self.doc.graph, dataset)
        except TrainingError as exc:
            self.fit_label.setText(f"{need}\n✗ Cannot fit the model automatically: {exc}.")
            self.apply_button.setEnabled(False)
            return
        if not edits:
            self.fit_label.setText(f"{need}\n✓ The model fits this data.")
        else:
            changes = ", ".join(f"{self.doc.graph.nodes[n].name}.{k} → {formatting.param_value(v)}" for n, k, v in edits)
            self.fit_label.setText(f"{need}\nApply to model will set {changes}.")
        self.apply_button.setEnabled(bool(edits))

    def apply_to_model(self) -> bool:
        """Fit the Input shape and output layer to the dataset as one undo step; False if impossible."""
        if self.dataset is None:
            return False
        try:
            edits = model_changes(self.doc.graph, self.dataset)
        except TrainingError as exc:
            self._show_error(f"Cannot apply the dataset to the model: {exc}.")
            return False
        if not edits:
            return True
        stack = self.doc.undo_stack
        stack.beginMacro(f"Apply dataset {describe(self.dataset.spec)} to model")
        for node_id, key, value in edits:
            self.doc.push(SetParam(self.doc, node_id, key, value))
        stack.endMacro()
        self.doc.message.emit(f"Model fitted to the data: input {formatting.shape(self.dataset.input_shape)}.")
        return True

    # -- drops ---------------------------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_path(paths[0])
