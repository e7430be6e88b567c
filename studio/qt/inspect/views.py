"""Inspect tabs for one sample: feature maps, filters, saliency and prediction.

Each tab asks the panel's worker for its numbers and pictures (TensorFlow never runs on the GUI
thread) and shows them when the newest answer arrives.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QHBoxLayout, QHeaderView, QLabel, QSpinBox, QSplitter,
                               QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from studio.core.inspect import activations, channel_stats, filter_images, gradient_saliency, grad_cam, predict
from studio.core.inspect.activations import model_outputs
from studio.core.inspect.render import colormap, feature_map_grid, filter_grid, heatmap_overlay
from studio.qt.inspect.pictures import PictureView, sample_picture
from studio.qt.inspect.plots import BarPlot

STATS = ("mean", "std", "min", "max", "zero_fraction")


def set_items(combo: QComboBox, names: list[str], keep: str | None = None) -> None:
    """Refill ``combo`` without emitting signals, keeping ``keep`` (or the current text) if present."""
    keep = keep if keep is not None else combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(names)
    if keep in names:
        combo.setCurrentText(keep)
    combo.blockSignals(False)


class InspectTab(QWidget):
    """A tab of the Inspect panel; ``host`` is the panel (source, sample, worker)."""

    title = ""

    def __init__(self, host) -> None:
        super().__init__()
        self.host = host
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("inspectMessage")

    def source_changed(self) -> None:
        """The model changed: refill choices (called for every tab)."""

    def refresh(self) -> None:
        """Recompute what the tab shows (called when it is visible and something changed)."""

    def say(self, text: str) -> None:
        self.message.setText(text)


class FeatureMapsTab(InspectTab):
    """A layer's activations: conv maps as a tile grid with per-channel stats, vectors as bars."""

    title = "Feature maps"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(lambda _name: self.refresh())
        self.grid = PictureView("Pick a layer, or click a layer on the Model canvas.")
        self.grid.tile_hovered.connect(self._select_channel)
        self.grid.tile_tooltip = self._channel_tooltip
        self.table = QTableWidget(0, len(STATS) + 1)
        self.table.setHorizontalHeaderLabels(["channel", "mean", "std", "min", "max", "zeros"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.bars = BarPlot("", "unit", "activation")
        maps = QSplitter()
        maps.addWidget(self.grid)
        maps.addWidget(self.table)
        maps.setSizes([700, 300])
        self.pages = QStackedWidget()
        self.pages.addWidget(maps)
        self.pages.addWidget(self.bars)
        self.stats: dict[str, np.ndarray] = {}
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)

    def source_changed(self) -> None:
        source = self.host.source
        set_items(self.layer, source.layers, source.cam_layer if not self.layer.currentText() else None)

    def show_layer(self, name: str) -> bool:
        """Show ``name``'s maps (e.g. a node clicked on the canvas); False if the model lacks it."""
        if self.host.source is None or name not in self.host.source.layers:
            return False
        if self.layer.currentText() == name:
            self.refresh()
        else:
            self.layer.setCurrentText(name)
        return True

    def refresh(self) -> None:
        source, sample, layer = self.host.source, self.host.sample, self.layer.currentText()
        if source is None or sample is None or not layer:
            return
        model = source.model

        def compute():
            activation = activations(model, sample, layer)[0]
            columns = max(1, math.ceil(math.sqrt(activation.shape[-1])))
            picture = feature_map_grid(activation, columns) if activation.ndim in (2, 3) else None
            return layer, activation, picture, columns, channel_stats(activation)

        self.say(f"Computing {layer}…")
        self.host.worker.submit("maps", compute, self._show, self.say)

    def _show(self, result) -> None:
        layer, activation, picture, columns, stats = result
        self.stats = stats
        shape = "×".join(str(d) for d in activation.shape)
        if activation.ndim == 3:
            self.grid.set_picture(picture, tiles=(activation.shape[-1], columns))
            self.say(f"{layer}: {shape} — {activation.shape[-1]} channels, each scaled to its own range "
                     "(hover a tile for its statistics)")
        elif activation.ndim == 2:
            self.grid.set_picture(picture)
            self.say(f"{layer}: {shape} — one row per channel along the sequence")
        else:
            self.bars.set_bars(activation.ravel())
            self.bars.set_title(f"{layer}: {activation.size} units")
            dead = float((activation == 0).mean())
            self.say(f"{layer}: {shape} — min {activation.min():.3g}, max {activation.max():.3g}, "
                     f"{dead:.0%} exactly zero")
        self.pages.setCurrentIndex(0 if activation.ndim in (2, 3) else 1)
        self._fill_table(stats if activation.ndim in (2, 3) else {})

    def _fill_table(self, stats) -> None:
        count = len(stats.get("mean", []))
        self.table.setRowCount(count)
        for row in range(count):
            self.table.setItem(row, 0, QTableWidgetItem(str(row)))
            for column, key in enumerate(STATS, start=1):
                value = stats[key][row]
                text = f"{value:.0%}" if key == "zero_fraction" else f"{value:.3g}"
                self.table.setItem(row, column, QTableWidgetItem(text))
        header = self.table.horizontalHeader()  # every column in view: the splitter gives way instead
        header.resizeSections(QHeaderView.ResizeMode.ResizeToContents)
        scroll_bar = self.table.verticalScrollBar().sizeHint().width()
        self.table.setMinimumWidth(header.length() + scroll_bar + 2 * self.table.frameWidth())

    def _select_channel(self, index: int) -> None:
        if index < self.table.rowCount():
            self.table.selectRow(index)

    def _channel_tooltip(self, index: int) -> str:
        if not self.stats or index >= len(self.stats["mean"]):
            return ""
        s = {key: self.stats[key][index] for key in STATS}
        return (f"channel {index}\nmean {s['mean']:.3g} · std {s['std']:.3g}\n"
                f"min {s['min']:.3g} · max {s['max']:.3g}\nzeros {s['zero_fraction']:.0%}")


class FiltersTab(InspectTab):
    """Convolution kernels as images; deeper layers one input channel at a time."""

    title = "Filters"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(self._layer_changed)
        self.channel = QSpinBox()
        self.channel.valueChanged.connect(lambda _value: self.refresh())
        self.picture = PictureView("This model has no 2-D convolution layers.")
        top = QHBoxLayout()
        top.addWidget(QLabel("Layer:"))
        top.addWidget(self.layer, 1)
        top.addWidget(QLabel("Input channel:"))
        top.addWidget(self.channel)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.picture, 1)

    def source_changed(self) -> None:
        set_items(self.layer, list(self.host.source.conv_layers))
        self._layer_changed(self.layer.currentText(), refresh=False)

    def _layer_changed(self, name: str, refresh: bool = True) -> None:
        inputs = self.host.source.conv_layers.get(name, 1) if self.host.source else 1
        self.channel.blockSignals(True)
        self.channel.setRange(-1 if inputs == 3 else 0, inputs - 1)  # -1: all three as colour
        self.channel.setSpecialValueText("RGB" if inputs == 3 else "")  # Qt shows it at the minimum
        self.channel.setEnabled(inputs > 1)
        self.channel.setValue(self.channel.minimum())
        self.channel.blockSignals(False)
        if refresh:
            self.refresh()

    def refresh(self) -> None:
        source, layer = self.host.source, self.layer.currentText()
        if source is None or not layer:
            self.picture.show_message("This model has no 2-D convolution layers.")
            return
        channel = None if self.channel.value() < 0 else self.channel.value()
        model = source.model

        def compute():
            images = filter_images(model, layer, channel)
            return layer, channel, images.shape, filter_grid(images)

        self.host.worker.submit("filters", compute, self._show, self.say)

    def _show(self, result) -> None:
        layer, channel, shape, picture = result
        self.picture.set_picture(picture, tiles=(shape[0], max(1, math.ceil(math.sqrt(shape[0])))))
        which = "as colour (R, G, B)" if channel is None else f"for input channel {channel}"
        self.say(f"{layer}: {shape[0]} filters of {shape[1]}×{shape[2]} {which}; one shared scale "
                 "(dark = negative, bright = positive)")


class SaliencyTab(InspectTab):
    """Grad-CAM of any layer and class, or plain gradient saliency, over the sample."""

    title = "Saliency"
    METHODS = ("Grad-CAM", "HiResCAM (per position)", "Gradient saliency")
    HIRESCAM = 1  # the default: Grad-CAM's map behind global pooling, and not blank behind Flatten→Dense
    SALIENCY = 2  # index of the method that needs no layer

    def __init__(self, host) -> None:
        super().__init__(host)
        self.method = QComboBox()
        self.method.addItems(self.METHODS)
        self.method.setCurrentIndex(self.HIRESCAM)
        self.layer = QComboBox()
        self.target = QComboBox()
        for combo in (self.method, self.layer, self.target):
            combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.method.setToolTip("Grad-CAM weights each channel by its average gradient; HiResCAM keeps the "
                               "gradient at each position, which stays faithful behind Flatten→Dense heads; "
                               "gradient saliency shows which input pixels move the score.")
        self.method.currentIndexChanged.connect(lambda index: self.layer.setEnabled(index != self.SALIENCY))
        self.overlay = PictureView("Pick a sample.")
        self.heatmap = PictureView()
        self.bars = BarPlot("", "", "saliency")  # inputs that are not images: one bar per value
        top = QHBoxLayout()
        for text, widget in (("Method:", self.method), ("Layer:", self.layer), ("Class:", self.target)):
            top.addWidget(QLabel(text))
            top.addWidget(widget, 1)
        pictures = QWidget()
        row = QHBoxLayout(pictures)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.overlay)
        row.addWidget(self.heatmap)
        self.pages = QStackedWidget()
        self.pages.addWidget(pictures)
        self.pages.addWidget(self.bars)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.pages, 1)

    def source_changed(self) -> None:
        source = self.host.source
        set_items(self.layer, source.spatial, source.cam_layer)  # only layers with a map to weigh
        if not source.spatial:
            self.method.setCurrentIndex(self.SALIENCY)
        set_items(self.target, ["predicted class", *source.class_names] if source.task.has_classes else
                  ["output"], "predicted class")

    def refresh(self) -> None:
        source, sample = self.host.source, self.host.sample
        if source is None or sample is None:
            return
        model, layer = source.model, self.layer.currentText()
        method = self.method.currentIndex()
        class_index = self.target.currentIndex() - 1 if self.target.currentIndex() > 0 else None

        def compute():
            if method != self.SALIENCY:
                result = grad_cam(model, sample, layer, class_index, per_position=method == 1)
            else:
                result = gradient_saliency(model, sample, class_index)
            heatmap = result.heatmaps[0]
            if heatmap.ndim == 2 and sample_picture(sample) is not None:
                return result, heatmap_overlay(sample, heatmap), colormap(heatmap)
            return result, None, None

        self.host.worker.submit("saliency", compute, self._show, self._failed)

    def _failed(self, message: str) -> None:
        self.pages.setCurrentIndex(0)
        self.overlay.show_message(message)
        self.heatmap.show_message("")
        self.say(message)

    def _show(self, result) -> None:
        saliency, overlay, heatmap = result
        if overlay is None:
            values = np.ravel(saliency.heatmaps[0])
            features = self.host.source.dataset.feature_names
            self.bars.set_bars(values, features if len(features) == len(values) else None)
            self.pages.setCurrentIndex(1)
        else:
            self.overlay.set_picture(overlay)
            self.heatmap.set_picture(heatmap)
            self.pages.setCurrentIndex(0)
        names = self.host.source.class_names
        index = int(saliency.class_indices[0])
        name = names[index] if index < len(names) else str(index)
        how = f"{self.method.currentText().split(' (')[0]} of {saliency.layer}" if saliency.layer \
            else "input-gradient saliency"
        if not saliency.heatmaps[0].any():
            self.say(f"{how} for class {name!r} is zero everywhere: weighted channel by channel, nothing in "
                     "this layer raises the class score (frequent with Flatten→Dense heads and barely trained "
                     "models); try HiResCAM, an earlier layer or gradient saliency")
        else:
            where = "bright" if self.pages.currentIndex() == 0 else "tall"
            self.say(f"{how} for class {name!r}: {where} = where the evidence for it lies")


class PredictTab(InspectTab):
    """The sample's prediction as its task shows it (bars, an overlay, a sentence); for classifiers the
    class probabilities with the Grad-CAM that explains the top class."""

    title = "Predict"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.bars = BarPlot("", "class", "probability")
        self.overlay = PictureView("Pick a sample or drop an image on the panel.")
        self.result = None
        row = QHBoxLayout()
        row.addWidget(self.bars, 3)
        row.addWidget(self.overlay, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addLayout(row, 1)

    def refresh(self) -> None:
        source, sample = self.host.source, self.host.sample
        if source is None or sample is None:
            return
        model, names, task = source.model, source.class_names, source.task
        index = self.host.sample_index
        truth = source.y_test[index] if index is not None else None

        def compute():
            prediction = predict(model, sample, names) if task.explains_class else None
            output = prediction.probabilities if prediction is not None else model_outputs(model, sample)[0]
            shown = task.show(output, sample, truth, names)
            if prediction is not None and prediction.heatmap is not None and sample_picture(sample) is not None:
                shown.picture = heatmap_overlay(sample, prediction.heatmap)
            return shown, prediction

        self.host.worker.submit("predict", compute, self._show, self.say)

    def _show(self, result) -> None:
        shown, prediction = result
        self.result = shown.value
        self.bars.set_bars(shown.bars, shown.bar_names, shown.highlight)
        self.bars.set_title(shown.title)
        self.say(shown.text)
        if shown.picture is not None:
            self.overlay.set_picture(shown.picture)
        elif prediction is not None:
            self.overlay.show_message("No Grad-CAM: the model has no layer with spatial output.")
        else:
            self.overlay.show_message("")
        if prediction is not None and shown.picture is not None and not prediction.heatmap.any():
            self.say(self.message.text() + f"; its Grad-CAM ({prediction.layer}) is zero everywhere")
