"""Tabs that follow a run over its epochs: weight/gradient histograms and live probes."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QComboBox, QGridLayout, QHBoxLayout, QLabel, QListWidget, QScrollArea, QSlider,
                               QSplitter, QVBoxLayout, QWidget)

from studio.core.inspect import (InspectError, gradient_norm_series, gradient_warnings, histograms_by_layer,
                                 load_probe_snapshot)
from studio.core.inspect.render import feature_map_grid, heatmap_overlay
from studio.qt.inspect.pictures import PictureView, sample_picture
from studio.qt.inspect.plots import HistogramPlot
from studio.qt.widgets.plots import CurvePlot
from studio.qt.inspect.views import InspectTab, set_items

MAX_WARNINGS = 200


def epoch_slider() -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 0)
    slider.setPageStep(1)
    return slider


class WeightsTab(InspectTab):
    """Per-layer weight and gradient histograms per epoch, gradient norms and their warnings."""

    title = "Weights && gradients"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.histograms = {}
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(lambda _name: self._show_layer(keep_epoch=False))
        self.epoch = epoch_slider()
        self.epoch.valueChanged.connect(lambda _value: self._draw())
        self.epoch_label = QLabel()
        self.weights = HistogramPlot("weights", "value", "count")
        self.grads = HistogramPlot("gradients", "value", "count")
        # a CurvePlot: legend outside the curves, in the theme's colours
        self.norms = CurvePlot("gradient norm per layer", "norm (log)", x_label="step", log_y=True)
        self.warnings = QListWidget()
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer, 1)
        top.addWidget(QLabel("Epoch:"))
        top.addWidget(self.epoch, 2)
        top.addWidget(self.epoch_label)
        histograms = QHBoxLayout()
        histograms.addWidget(self.weights)
        histograms.addWidget(self.grads)
        lower = QSplitter()
        lower.addWidget(self.norms)
        lower.addWidget(self.warnings)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addLayout(histograms, 3)
        layout.addWidget(lower, 2)
        self.set_events([])

    def set_events(self, events: list[dict]) -> None:
        """Show a run's events (all of them so far); called again as the run goes on."""
        self.histograms = histograms_by_layer(events)
        set_items(self.layer, list(self.histograms))
        self._show_layer(keep_epoch=True)
        self._draw_norms(events)
        if not self.histograms:
            self.say("No histograms yet: they are recorded at the end of each epoch of a run "
                     "(not for current weights).")
        else:
            self.say("Weights and gradients of the chosen layer at the end of each epoch.")

    def _show_layer(self, keep_epoch: bool) -> None:
        series = self.histograms.get(self.layer.currentText())
        count = len(series.epochs) if series else 0
        at_end = self.epoch.value() == self.epoch.maximum()
        self.epoch.blockSignals(True)
        self.epoch.setRange(0, max(count - 1, 0))
        if not keep_epoch or at_end:
            self.epoch.setValue(self.epoch.maximum())  # follow the newest epoch unless the user looks back
        self.epoch.blockSignals(False)
        self._draw()

    def _draw(self) -> None:
        series = self.histograms.get(self.layer.currentText())
        if not series:
            self.weights.set_histogram(None)
            self.grads.set_histogram(None)
            self.epoch_label.setText("")
            return
        index = self.epoch.value()
        self.epoch_label.setText(f"{series.epochs[index]}")
        self.weights.set_histogram(series.weights[index])
        self.grads.set_histogram(series.grads[index])

    def _draw_norms(self, events: list[dict]) -> None:
        self.norms.clear_curves()
        for number, (name, points) in enumerate(gradient_norm_series(events).items()):
            steps, values = np.array(points, dtype="float64").T
            positive = values > 0  # a log axis cannot show zeros; those layers are in the warnings
            self.norms.curve(name, name, number).setData(steps[positive], values[positive])
        self.warnings.clear()
        found = []
        for event in events:
            if event.get("type") == "grad_norms":
                where = f"epoch {event.get('epoch')}, step {event.get('step')}"
                found += [f"{where} — {warning}" for warning in gradient_warnings(event.get("norms", {}))]
        self.warnings.addItems(found[-MAX_WARNINGS:])
        if not found:
            self.warnings.addItem("No vanishing or exploding gradients detected.")


class LiveProbesTab(InspectTab):
    """Pinned samples' feature maps and Grad-CAM, refreshed at each epoch of the running run."""

    title = "Live probes"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.snapshots: list[dict] = []  # the run's probes events with a path
        self.run_dir: Path | None = None
        self.shown: dict | None = None  # the snapshot on screen
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(lambda _name: self.host.update_probes_config())
        self.epoch = epoch_slider()
        self.epoch.valueChanged.connect(lambda _value: self._draw())
        self.epoch_label = QLabel()
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_host)
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer, 1)
        top.addWidget(QLabel("Epoch:"))
        top.addWidget(self.epoch, 2)
        top.addWidget(self.epoch_label)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        self.say("Pin test samples (left), then train: their maps refresh here after every epoch.")

    def source_changed(self) -> None:
        source = self.host.source
        set_items(self.layer, source.layers, source.cam_layer if not self.layer.currentText() else None)

    def set_events(self, run_dir: Path | None, events: list[dict]) -> None:
        """The followed run's events so far; shows the newest snapshot unless the user looks back."""
        self.run_dir = run_dir
        probes = [event for event in events if event.get("type") == "probes"]
        errors = [event for event in probes if "error" in event]
        at_end = self.epoch.value() == self.epoch.maximum()
        self.snapshots = [event for event in probes if "path" in event]
        self.epoch.blockSignals(True)
        self.epoch.setRange(0, max(len(self.snapshots) - 1, 0))
        if at_end:
            self.epoch.setValue(self.epoch.maximum())
        self.epoch.blockSignals(False)
        if errors and (not self.snapshots or errors[-1]["epoch"] >= self.snapshots[-1]["epoch"]):
            self.say(f"Live probes failed at epoch {errors[-1]['epoch']}: {errors[-1]['error']}")
        self._draw()

    def _draw(self) -> None:
        if not self.snapshots or self.run_dir is None:
            self.shown = None
            return
        event = self.snapshots[self.epoch.value()]
        if self.shown is event:
            return
        try:
            snapshot = load_probe_snapshot(self.run_dir / event["path"])
        except InspectError as exc:
            self.say(str(exc))
            return
        self.shown = event
        self.epoch_label.setText(str(event["epoch"]))
        self._fill(snapshot, event.get("layer", ""))
        self.say(f"Epoch {event['epoch']}: layer {event.get('layer')} and Grad-CAM for "
                 f"{len(snapshot['activations'])} pinned samples.")

    def _fill(self, snapshot: dict, snapshot_layer: str) -> None:
        while self.grid.count():
            self.grid.takeAt(0).widget().deleteLater()
        source = self.host.source
        names = source.class_names if source else []
        outputs = snapshot.get("outputs")
        task = source.task if source is not None else None
        drawn = task is not None and bool(task.picture_title) and outputs is not None  # else: Grad-CAM
        second = task.picture_title if drawn else "Grad-CAM"
        for column, text in enumerate(("", "sample", second, f"{snapshot_layer} feature maps")):
            self.grid.addWidget(QLabel(text), 0, column, Qt.AlignmentFlag.AlignCenter)
        heatmaps = snapshot.get("heatmaps")
        for row, index in enumerate(snapshot.get("samples", []), start=1):
            sample = source.x_test[index] if source is not None and index < len(source.x_test) else None
            picture = sample_picture(sample) if sample is not None else None
            caption = f"#{index}"
            if source is not None and index < len(source.x_test):
                caption += f"\ntrue {source.label_text(index)}"
            if not drawn and "classes" in snapshot and int(snapshot["classes"][row - 1]) < len(names):
                caption += f"\npredicted {names[int(snapshot['classes'][row - 1])]}"
            self.grid.addWidget(QLabel(caption), row, 0)
            if drawn and sample is not None:
                overlay = task.show(outputs[row - 1], sample, None, names).picture
            else:
                overlay = (heatmap_overlay(sample, heatmaps[row - 1])
                           if heatmaps is not None and picture is not None and heatmaps[row - 1].ndim == 2 else None)
            activation = snapshot["activations"][row - 1]
            wide = max(1, min(activation.shape[-1], math.ceil(math.sqrt(activation.shape[-1] * 3))))
            cells = [self._view(picture, "not an image"), self._view(overlay, f"no {second}"),
                     self._view(feature_map_grid(activation, wide), "")]  # wide grids fill the row
            for column, view in enumerate(cells, start=1):
                self.grid.addWidget(view, row, column)
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(2, 1)
        self.grid.setColumnStretch(3, 3)

    def _view(self, pixels: np.ndarray | None, missing: str) -> PictureView:
        view = PictureView(missing)
        view.setMinimumSize(120, 120)
        if pixels is not None:
            view.set_picture(pixels)
        return view

    def grid_pictures(self) -> list[PictureView]:
        """The picture cells on screen (for tests and screenshots)."""
        widgets = (self.grid.itemAt(i).widget() for i in range(self.grid.count()))
        return [widget for widget in widgets if isinstance(widget, PictureView)]
