"""The Inspect area: look inside a run's model (or the graph's current weights) for a sample.

Left: the model source and the sample (a test-split sample, or an image dropped on the panel),
with pinned samples for live probes. Right: feature maps, filters, saliency, prediction,
evaluation, weights and gradients, live probes. All TensorFlow work runs on one worker thread
(``studio.qt.widgets.worker``); the panel follows the project's runs folder and the chosen run's
events, so a run started in the Train area shows up and refreshes here.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QFileDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from studio.core.inspect import MAX_PINNED, InspectError, load_image
from studio.core.training import RunWatcher
from studio.core.training.runs import LIVE_STATUSES
from studio.core.training.probes import read_probes_config, write_probes_config
from studio.qt.inspect.boundary import BoundaryTab
from studio.qt.inspect.attention import AttentionTab
from studio.qt.inspect.evaluation import EvaluationTab
from studio.qt.inspect.pictures import PictureView, sample_picture
from studio.qt.inspect.progress import LiveProbesTab, WeightsTab
from studio.qt.inspect.source import InspectSource, load_graph_source, load_run_source
from studio.qt.inspect.views import FeatureMapsTab, FiltersTab, PredictTab, SaliencyTab
from studio.qt.widgets.run_picker import RunPicker
from studio.qt.widgets.worker import TaskRunner

GRAPH_SOURCE = "graph"
POLL_MS = 1000


class InspectPanel(QWidget):
    """See ``studio.qt.inspect.panel``. ``source`` is the loaded InspectSource (or None)."""

    def __init__(self, window) -> None:
        super().__init__()
        self.main_window = window
        self.document = window.document
        self.worker = TaskRunner(self)
        self.source: InspectSource | None = None
        self.sample: np.ndarray | None = None
        self.sample_index: int | None = None  # None for a dropped image
        self.pins: list[int] = []
        self.events: list[dict] = []
        self.watcher: RunWatcher | None = None  # the followed run
        self._run_names: list[str] | None = None
        self._started = False
        self.setAcceptDrops(True)

        # the newest run is followed: a run that appears (started here or elsewhere) is chosen
        self.source_combo = RunPicker(window.runs_root, extra=(("Current weights (the graph, untrained)", GRAPH_SOURCE),),
                                      follow_new=True)
        self.source_combo.chosen.connect(self.load_source)
        self.source_combo.listed.connect(self.update_probes_config)
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.reload_source)
        open_button = QPushButton("Open run folder…")
        open_button.clicked.connect(self._open_run_dialog)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.worker.busy_changed.connect(lambda busy: self.busy.setText("working…" if busy else ""))
        self.busy = QLabel()

        self.sample_spin = QSpinBox()
        self.sample_spin.setPrefix("test sample #")
        self.sample_spin.valueChanged.connect(self.choose_test_sample)
        self.thumbnail = PictureView("Drop an image file on this panel to inspect it.")
        self.thumbnail.setMinimumSize(140, 140)
        self.sample_label = QLabel()
        self.sample_label.setWordWrap(True)
        pin_button = QPushButton("Pin for live probes")
        pin_button.clicked.connect(self.pin_current)
        self.pinned = QListWidget()
        self.pinned.setToolTip("Samples whose maps refresh each epoch while a run trains; double-click to unpin.")
        self.pinned.itemDoubleClicked.connect(lambda item: self.unpin(item.data(Qt.ItemDataRole.UserRole)))

        self.feature_maps, self.filters = FeatureMapsTab(self), FiltersTab(self)
        self.saliency, self.prediction = SaliencyTab(self), PredictTab(self)
        self.evaluation, self.weights, self.live = EvaluationTab(self), WeightsTab(self), LiveProbesTab(self)
        self.boundary = BoundaryTab(self)
        self.attention = AttentionTab(self)
        self.tabs = QTabWidget()
        for tab in self.all_tabs:
            self.tabs.addTab(tab, tab.title)
        self.tabs.currentChanged.connect(lambda _index: self._refresh_visible())

        top = QHBoxLayout()
        top.addWidget(QLabel("Model:"))
        top.addWidget(self.source_combo, 1)
        top.addWidget(reload_button)
        top.addWidget(open_button)
        top.addWidget(self.busy)
        left = QVBoxLayout()
        left.addWidget(self.sample_spin)
        left.addWidget(self.thumbnail, 1)
        left.addWidget(self.sample_label)
        left.addWidget(pin_button)
        left.addWidget(QLabel(f"Pinned (up to {MAX_PINNED}):"))
        left.addWidget(self.pinned, 1)
        left_box = QWidget()
        left_box.setLayout(left)
        left_box.setMaximumWidth(240)
        body = QHBoxLayout()
        body.addWidget(left_box)
        body.addWidget(self.tabs, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addLayout(body, 1)

        self._dirty = set(self.all_tabs)
        self.document.selection_changed.connect(self._on_selection)
        self.document.project_replaced.connect(self._on_project_replaced)
        self._poll_timer = QTimer(self, interval=POLL_MS)
        self._poll_timer.timeout.connect(self.poll)

    @property
    def all_tabs(self):
        return (self.feature_maps, self.filters, self.saliency, self.prediction, self.evaluation, self.weights,
                self.live, self.boundary, self.attention)

    # -- start-up and runs -----------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._started:
            self._started = True
            self._poll_timer.start()
            self.refresh_runs(load=True)

    def refresh_runs(self, load: bool = False) -> None:
        """Re-list the project's runs (on the picker's worker); a changed choice is loaded, and with
        ``load`` the newest run (else the current weights) is loaded anyway."""
        self._run_names = self._scan(self.main_window.runs_root())
        self.source_combo.refresh(newest=load, announce=load)

    @staticmethod
    def _scan(root: Path) -> list[str]:
        try:
            return sorted(entry.name for entry in os.scandir(root) if entry.is_dir())
        except OSError:
            return []

    def _open_run_dialog(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open run folder", str(self.main_window.runs_root()))
        if path:
            self.source_combo.add_folder(path)

    def _on_project_replaced(self) -> None:
        if self._started:
            self.refresh_runs(load=True)

    # -- the model source ------------------------------------------------------------------
    def load_source(self, key: str | None) -> None:
        """Load a run folder's model, or the graph's current weights for ``GRAPH_SOURCE``."""
        if key is None:
            return
        if key == GRAPH_SOURCE:
            project = self.document.project.copy()
            function = lambda: load_graph_source(project)  # noqa: E731
        else:
            function = lambda: load_run_source(key)  # noqa: E731
        self.status.setText("Loading the model and its dataset…")
        self.worker.submit("source", function, self._source_loaded, self._source_failed)

    def reload_source(self) -> None:
        self.load_source(self.source_combo.currentData())

    def _source_failed(self, message: str) -> None:
        self.status.setText(f"Cannot inspect this model: {message}")

    def _source_loaded(self, source: InspectSource) -> None:
        same_run = self.source is not None and self.source.run_dir == source.run_dir
        self.source = source
        notes = "; ".join(source.notes)
        trained = "" if source.trained else " (no saved model yet: fresh weights until the first epoch ends)"
        self.status.setText(f"Inspecting {source.label}{trained} — {source.task.name}, "
                            f"{len(source.x_test)} test samples" + (f". {notes}" if notes and source.trained else ""))
        for tab in self.all_tabs:
            tab.source_changed()
        if not same_run:
            self._adopt_probes_config(source)
            self._follow_events(source.run_dir)
        self._show_pins()
        self.update_probes_config()
        count = len(source.x_test)
        self.sample_spin.blockSignals(True)
        self.sample_spin.setRange(0, max(count - 1, 0))
        self.sample_spin.blockSignals(False)
        if count:
            self.choose_test_sample(min(self.sample_index or 0, count - 1))
        else:
            self._set_sample(None, None, "The test split is empty.")

    def _follow_events(self, run_dir: Path | None) -> None:
        self.watcher = RunWatcher.for_folder(run_dir) if run_dir is not None else None
        self.events = self.watcher.poll() if self.watcher is not None else []
        self.weights.set_events(self.events)
        self.live.set_events(run_dir, self.events)
        self.boundary.set_events(run_dir, self.events)

    def run_info(self) -> dict | None:
        """The listed run the current source comes from (None for current weights)."""
        if self.source is None or self.source.run_dir is None:
            return None
        return self.source_combo.row(self.source.run_dir)

    # -- following the runs folder and the run's events -----------------------------------
    def poll(self) -> None:
        """Pick up new runs (following the newest) and the followed run's new events."""
        if self._scan(self.main_window.runs_root()) != self._run_names:
            self.refresh_runs()
        if self.watcher is None:
            return
        new = self.watcher.poll()
        if not new:
            return
        self.events += new
        self.weights.set_events(self.events)
        self.live.set_events(self.source.run_dir, self.events)
        self.boundary.set_events(self.source.run_dir, self.events)
        types = {event["type"] for event in new}
        if "end" in types or ("epoch" in types and not self.source.trained):
            self.refresh_runs()
            self.reload_source()
        elif "start" in types:
            self.update_probes_config()

    # -- samples ---------------------------------------------------------------------------
    def choose_test_sample(self, index: int) -> None:
        """Show test sample ``index`` in every tab (also used by the evaluation gallery)."""
        if self.source is None or not 0 <= index < len(self.source.x_test):
            return
        if self.sample_spin.value() != index:
            self.sample_spin.blockSignals(True)
            self.sample_spin.setValue(index)
            self.sample_spin.blockSignals(False)
        self._set_sample(self.source.x_test[index], index, f"true: {self.source.label_text(index)}")

    def load_dropped(self, path: str) -> bool:
        """Use an image file as the sample (converted to the model's input size and channels)."""
        if self.source is None:
            self.status.setText("Load a model before dropping an image.")
            return False
        try:
            sample = load_image(path, self.source.input_shape, self.source.dataset.normalization)
        except InspectError as exc:
            self.status.setText(f"Cannot use the dropped file: {exc}")
            return False
        self._set_sample(sample, None, f"dropped: {Path(path).name}")
        return True

    def sample_truth(self) -> str | None:
        """The true label of the current sample, when it comes from the test split."""
        return self.source.label_text(self.sample_index) if self.sample_index is not None else None

    def _set_sample(self, sample, index: int | None, text: str) -> None:
        self.sample, self.sample_index = sample, index
        picture = sample_picture(sample) if sample is not None else None
        if index is not None:  # a test sample: with its target drawn on it when the task draws one (boxes)
            drawn = self.source.task.target_picture(sample, self.source.y_test[index], self.source.class_names)
            picture = drawn if drawn is not None else picture
        if picture is None:
            self.thumbnail.show_message(self._values_text(sample) if sample is not None else "")
        else:
            self.thumbnail.set_picture(picture)
        self.sample_label.setText(text)
        self._dirty = set(self.all_tabs)
        self._refresh_visible()

    def _values_text(self, sample) -> str:
        """A table row (or other non-image input) as ``name = value`` lines."""
        values = np.ravel(sample)
        names = self.source.dataset.feature_names
        names = names if len(names) == len(values) else [f"value {i}" for i in range(len(values))]
        lines = [f"{name} = {value:.4g}" for name, value in zip(names[:12], values[:12])]
        return "\n".join(lines + ([f"… {len(values) - 12} more"] if len(values) > 12 else []))

    def _refresh_visible(self) -> None:
        tab = self.tabs.currentWidget()
        if tab in self._dirty and self.source is not None:
            self._dirty.discard(tab)
            tab.refresh()

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        urls = [url for url in event.mimeData().urls() if url.isLocalFile()]
        if urls:
            self.load_dropped(urls[0].toLocalFile())
            event.acceptProposedAction()

    # -- canvas selection ------------------------------------------------------------------
    def _on_selection(self, node_ids: list) -> None:
        if len(node_ids) != 1 or node_ids[0] not in self.document.graph.nodes or self.source is None:
            return
        name = self.document.graph.nodes[node_ids[0]].name
        if self.feature_maps.show_layer(name):
            self.tabs.setCurrentWidget(self.feature_maps)
        else:
            self.status.setText(f"Layer {name!r} is not part of {self.source.label} (an input, or edited since).")

    # -- pins and live probes ----------------------------------------------------------------
    def pin_current(self) -> None:
        if self.sample_index is None:
            self.status.setText("Only test samples can be pinned (the engine probes the test split).")
            return
        if self.sample_index not in self.pins:
            if len(self.pins) >= MAX_PINNED:
                self.status.setText(f"At most {MAX_PINNED} samples can be pinned; unpin one first.")
                return
            self.pins.append(self.sample_index)
        self._show_pins()
        self.update_probes_config()

    def unpin(self, index: int) -> None:
        if index in self.pins:
            self.pins.remove(index)
            self._show_pins()
            self.update_probes_config()

    def _adopt_probes_config(self, source: InspectSource) -> None:
        """Start from the pins and layer the run is already probing; keep the current pins for a
        run without probes (e.g. one just started after pinning)."""
        config = read_probes_config(source.run_dir) if source.run_dir is not None else None
        self.pins = [i for i in self.pins if i < len(source.x_test)]
        if config is not None:
            samples = config.get("samples") if isinstance(config.get("samples"), list) else []
            self.pins = [i for i in samples if isinstance(i, int) and 0 <= i < len(source.x_test)][:MAX_PINNED]
            if config.get("layer") in source.layers:
                self.live.layer.blockSignals(True)
                self.live.layer.setCurrentText(config["layer"])
                self.live.layer.blockSignals(False)

    def _show_pins(self) -> None:
        self.pinned.clear()
        for index in self.pins:
            item = QListWidgetItem(f"#{index}  {self.source.label_text(index)}" if self.source else f"#{index}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.pinned.addItem(item)

    def update_probes_config(self) -> None:
        """Tell the followed run which samples and layer to probe (only while it trains)."""
        run = self.run_info()
        layer = self.live.layer.currentText()
        if run is None or run["status"] not in LIVE_STATUSES or not self.pins or not layer:
            return
        try:
            write_probes_config(run["path"], self.pins, layer)
        except OSError as exc:
            self.status.setText(f"Cannot ask the run for live probes: {exc.strerror or exc}")
            return
        self.live.say(f"Probing {len(self.pins)} samples at {layer} after every epoch of {run['name']}…")


def create_panel(window) -> InspectPanel:
    return InspectPanel(window)
