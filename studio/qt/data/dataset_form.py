"""The Data panel's form: a source with its options, split ratios, seed and normalization.

The source options are editors generated from ``SOURCE_OPTIONS`` (declared in core).
``DatasetForm.spec()`` is the project's ``dataset`` dict (see ARCHITECTURE.md, "Dataset spec");
``set_spec`` shows one. Keys the form does not edit (e.g. a folder's ``image_size`` written by the
CLI) are kept while the source stays the same.
"""

from __future__ import annotations

import zipfile
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from studio.core.data.dataset import DataError
from studio.core.data.keras_cache import keras_datasets_dir
from studio.core.data.loader import DEFAULT_SPLIT
from studio.core.data.source_options import SOURCE_OPTIONS
from studio.core.data.splits import NORMALIZE_MODES
from studio.core.data.tabular import csv_header
from studio.qt.widgets.param_editors import ParamEditor, make_editor

SOURCE_TITLES = {  # the order of the Source list: built-ins first
    "digits": "Digits (built-in)",
    "shapes": "Shapes (built-in)",
    "toy": "2-D points (built-in)",
    "sequences": "Sequences and text (built-in)",
    "shape_masks": "Shapes with masks (built-in, segmentation)",
    "shape_boxes": "Shapes with boxes (built-in, localization)",
    "keras": "Keras dataset (MNIST, CIFAR…)",
    "keras_text": "Keras text dataset (IMDB, Reuters)",
    "folder": "Image folder",
    "image_list": "Image list (CSV)",
    "csv": "CSV table",
    "text_csv": "Text in a CSV table",
    "text_folder": "Text folder",
    "corpus": "Text corpus (.txt)",
    "npz": "NumPy arrays (.npz)",
    "npy": "NumPy array (.npy)",
    "mask_folder": "Images with masks (segmentation)",
}
SOURCE_HELP = {
    "digits": "1,797 scanned handwritten digits (0-9), 8x8 pixels, upscaled to the chosen size.",
    "shapes": "Circles, squares, triangles... drawn at random places, sizes and angles.",
    "toy": "Points in a plane with two or more classes: the quickest way to watch a small MLP learn.",
    "sequences": "Generated sequences: noisy waves to forecast, sequence-to-sequence toys (reverse, dates) "
                 "and a small character corpus (grammar) for language models.",
    "keras": "Read from Keras's download cache only; a missing file is named with where to get it.",
    "keras_text": "Movie reviews (imdb) or newswires (reuters), read from Keras's download cache only.",
    "folder": "A folder with one sub-folder per class, each holding that class's images.",
    "image_list": "A CSV file listing image paths (relative to its folder) and their labels.",
    "csv": "A table with a header row; pick the column to predict. Text columns are one-hot encoded.",
    "text_csv": "A table with a column of text and a column of labels, for text classification.",
    "text_folder": "A folder with one sub-folder per class, each holding that class's .txt files.",
    "corpus": "One .txt file that a language model learns to continue.",
    "npz": "A numpy.savez file with inputs (N, features) or images (N, H, W[, C]) and labels.",
    "npy": "A .npy array of inputs (read memory-mapped) and a .npy array of labels.",
    "shape_masks": "Shapes with a per-pixel mask of their class: a dataset for segmentation (U-Net).",
    "shape_boxes": "One shape per image with its class and bounding box: a dataset for localization.",
    "mask_folder": "A folder with images/ and masks/ (same file names; mask pixels are class indices).",
}
AUTO = "auto"


def csv_columns(path: str) -> list[str]:
    """The header row of a CSV file (empty when it cannot be read; loading then says why)."""
    try:
        return csv_header(path)
    except DataError:
        return []


def npz_arrays(path: str) -> list[str]:
    """Names of the arrays in a ``.npz`` file (empty when it cannot be read)."""
    if not zipfile.is_zipfile(path):
        return []
    try:
        with np.load(path, allow_pickle=False) as data:
            return list(data.files)
    except (OSError, ValueError):
        return []


def _show(setter, value: Any, default: Any) -> None:
    """Show a spec value; one the widget cannot hold (a hand-edited file) shows the default
    instead, and loading the spec reports what is wrong with it."""
    try:
        setter(default if value is None else value)
    except (TypeError, ValueError):
        setter(default)


class DatasetForm(QWidget):
    """Source, its options, split, seed and normalization. ``edited`` fires on every user change."""

    edited = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._base: dict[str, Any] = {}
        self._updating = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

        source_group = QGroupBox("Source")
        source_layout = QVBoxLayout(source_group)
        self.source_box = QComboBox()
        for source, title in SOURCE_TITLES.items():
            self.source_box.addItem(title, source)
            self.source_box.setItemData(self.source_box.count() - 1, SOURCE_HELP[source], Qt.ItemDataRole.ToolTipRole)
        self.source_help = QLabel(wordWrap=True)
        self.source_help.setObjectName("hint")
        self.pages: dict[str, QWidget] = {}  # only the current source's page is visible
        self.options: dict[str, dict[str, ParamEditor]] = {}
        for source, specs in SOURCE_OPTIONS.items():
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            self.options[source] = {}
            for spec in specs:
                editor = make_editor(spec, None)
                form.addRow(spec.title, editor)
                editor.edited.connect(lambda _value, source=source, key=spec.name: self._on_option(source, key))
                self.options[source][spec.name] = editor
            if source == "keras":
                where = QLabel(f"Cache folder: {keras_datasets_dir()}", wordWrap=True)
                where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                where.setObjectName("hint")
                form.addRow(where)
            self.pages[source] = page
        source_layout.addWidget(self.source_box)
        source_layout.addWidget(self.source_help)
        for page in self.pages.values():
            source_layout.addWidget(page)
        layout.addWidget(source_group)

        split_group = QGroupBox("Split and preparation")
        split_form = QFormLayout(split_group)
        self.train_slider = self._slider(5, 100)
        self.val_slider = self._slider(0, 95)
        self.split_label = QLabel()
        split_form.addRow("Train", self.train_slider)
        split_form.addRow("Validation", self.val_slider)
        split_form.addRow("", self.split_label)
        self.seed_box = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed_box.setToolTip("Decides the split (and the drawing of generated sets): same seed, same data.")
        self.normalize_box = QComboBox()
        self.normalize_box.addItems([AUTO, *NORMALIZE_MODES])
        self.max_samples_box = QSpinBox(minimum=0, maximum=10_000_000, singleStep=100, specialValueText="all samples")
        self.max_samples_box.setToolTip("Keep a class-balanced subset of this many samples (quick experiments).")
        split_form.addRow("Seed", self.seed_box)
        split_form.addRow("Normalize", self.normalize_box)
        split_form.addRow("Use at most", self.max_samples_box)
        layout.addWidget(split_group)

        self.source_box.currentIndexChanged.connect(self._on_source)
        for box in (self.seed_box, self.max_samples_box):
            box.valueChanged.connect(self._changed)
        self.normalize_box.currentTextChanged.connect(self._changed)
        self.normalize_box.setToolTip("auto: images scaled to 0..1, tables standardized (mean 0, std 1) on "
                                      "the training split.")
        self.train_slider.valueChanged.connect(self._on_split)
        self.val_slider.valueChanged.connect(self._on_split)
        self.set_spec({"source": "digits"})

    # -- public --------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self.source_box.currentData()

    def option(self, source: str, key: str) -> ParamEditor:
        return self.options[source][key]

    def spec(self) -> dict[str, Any]:
        """The dataset spec the form shows."""
        source = self.source
        spec: dict[str, Any] = {"source": source}
        if self._base.get("source") == source:
            edited = set(self.options[source]) | {"split", "seed", "normalize", "max_samples"}
            spec.update({k: v for k, v in self._base.items() if k not in edited})
        for key, editor in self.options[source].items():
            value = editor.current_value()
            if value is not None and editor.isEnabled():
                spec[key] = value
        train, val = self.train_slider.value(), self.val_slider.value()
        spec["split"] = {"train": train / 100, "val": val / 100, "test": round(1 - train / 100 - val / 100, 2)}
        spec["seed"] = self.seed_box.value()
        if self.normalize_box.currentText() != AUTO:
            spec["normalize"] = self.normalize_box.currentText()
        if self.max_samples_box.value():
            spec["max_samples"] = self.max_samples_box.value()
        return spec

    def set_spec(self, spec: dict[str, Any]) -> None:
        """Show ``spec`` without emitting ``edited``."""
        self._updating = True
        try:
            self._base = dict(spec)
            source = spec.get("source", "digits")
            index = self.source_box.findData(source)
            self.source_box.setCurrentIndex(max(index, 0))
            self._show_page(source)
            for key, editor in self.options.get(source, {}).items():
                _show(editor.set_value, spec.get(key), editor.spec.default_value())
            self._refresh_file_choices(source)
            split = spec.get("split") if isinstance(spec.get("split"), dict) else DEFAULT_SPLIT
            _show(lambda v: self.train_slider.setValue(round(100 * float(v))), split.get("train"), 0.7)
            _show(lambda v: self.val_slider.setValue(round(100 * float(v))), split.get("val"), 0.15)
            self._update_split_label()
            _show(lambda v: self.seed_box.setValue(int(v)), spec.get("seed"), 0)
            self.normalize_box.setCurrentText(str(spec.get("normalize", AUTO)))
            _show(lambda v: self.max_samples_box.setValue(int(v or 0)), spec.get("max_samples"), 0)
        finally:
            self._updating = False

    def set_path(self, source: str, path: str) -> None:
        """Switch to a file/folder ``source`` with ``path`` (a drop or a file dialog), as one edit."""
        self._updating = True
        try:
            if source != self.source:
                self.normalize_box.setCurrentText(AUTO)
            self.source_box.setCurrentIndex(self.source_box.findData(source))
            self._show_page(source)
            self.option(source, "path").set_value(path)
            self._refresh_file_choices(source)
        finally:
            self._updating = False
        self._changed()

    # -- internals -----------------------------------------------------------------------
    def _slider(self, low: int, high: int) -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal, minimum=low, maximum=high)
        slider.setToolTip("Share of the samples in this split, in percent; the test split gets the rest.")
        return slider

    def _show_page(self, source: str) -> None:
        for name, page in self.pages.items():
            page.setVisible(name == source)
        self.source_help.setText(SOURCE_HELP.get(source, ""))
        self._enable_toy_classes()

    def _enable_toy_classes(self) -> None:
        self.option("toy", "classes").setEnabled(self.option("toy", "name").current_value() in ("spirals", "blobs"))

    def _refresh_file_choices(self, source: str) -> None:
        """Fill the column/array pickers from the chosen file."""
        if source not in ("csv", "npz"):
            return
        path = self.option(source, "path").current_value() or ""
        if source == "csv":
            columns = csv_columns(path) if path else []
            self.option("csv", "target").set_choices(columns, columns[-1] if columns else None)
        else:
            arrays = npz_arrays(path) if path else []
            self.option("npz", "x_key").set_choices(arrays or ["x"], "x")
            self.option("npz", "y_key").set_choices(arrays or ["y"], "y")

    def _on_source(self) -> None:
        if not self._updating:
            self._show_page(self.source)
            self.normalize_box.setCurrentText(AUTO)  # the suitable scaling depends on the kind of data
            self._changed()

    def _on_option(self, source: str, key: str) -> None:
        if source == "toy" and key == "name":
            self._enable_toy_classes()
        if key == "path":
            self._refresh_file_choices(source)
        self._changed()

    def _on_split(self) -> None:
        self.val_slider.blockSignals(True)
        self.val_slider.setMaximum(100 - self.train_slider.value())
        self.val_slider.blockSignals(False)
        self._update_split_label()
        self._changed()

    def _update_split_label(self) -> None:
        train, val = self.train_slider.value(), self.val_slider.value()
        self.split_label.setText(f"train {train}% · validation {val}% · test {100 - train - val}%")

    def _changed(self, *_args: Any) -> None:
        if not self._updating:
            self.edited.emit()

