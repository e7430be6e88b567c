"""The Data panel's form: a source with its options, split ratios, seed and normalization.

The Source list, its help and each source's option editors come from ``DATA_SOURCES``; the split,
seed, normalization and subset editors from ``DATASET_FIELDS`` (both declared in core).
``DatasetForm.spec()`` is the project's ``dataset`` dict (see ARCHITECTURE.md, "Dataset spec");
``set_spec`` shows one. Keys the form does not edit (e.g. a folder's ``image_size`` written by the
CLI) are kept while the source stays the same.
"""

from __future__ import annotations

import zipfile
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from studio.core.data.dataset import DataError
from studio.core.data.keras_cache import keras_datasets_dir
from studio.core.data.source_options import DATA_SOURCES, DATASET_FIELD, DATASET_FIELDS, DEFAULT_SPLIT, split_ratios
from studio.core.data.tabular import csv_header
from studio.core.params import ParamError
from studio.qt.widgets.param_editors import ParamEditor, make_editor

AUTO = DATASET_FIELD["normalize"].default  # normalize absent from the spec: the loader picks by the kind of data
SPLIT_FIELDS = ("train", "val")
SPEC_FIELDS = tuple(spec.name for spec in DATASET_FIELDS if spec.name not in SPLIT_FIELDS)  # keys of the spec


def list_group(source) -> str:
    """Which part of the Source list a source sits in."""
    if source.takes_path:
        return "files"
    return "keras" if source.name.startswith("keras") else "built-in"


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
        # A plain list below the box (not centred on the current item, so entries stay under the
        # mouse), in groups: built-in sets, Keras downloads, the user's files.
        self.source_box.setStyleSheet("QComboBox { combobox-popup: 0; }")
        self.source_box.setMaxVisibleItems(len(DATA_SOURCES) + 3)
        group = None
        for source in DATA_SOURCES.values():
            if list_group(source) != group and group is not None:
                self.source_box.insertSeparator(self.source_box.count())
            group = list_group(source)
            self.source_box.addItem(source.title, source.name)
            self.source_box.setItemData(self.source_box.count() - 1, source.help, Qt.ItemDataRole.ToolTipRole)
        self.source_help = QLabel(wordWrap=True)
        self.source_help.setObjectName("hint")
        self.pages: dict[str, QWidget] = {}  # only the current source's page is visible
        self.options: dict[str, dict[str, ParamEditor]] = {}
        for source in DATA_SOURCES:
            page = QWidget()
            form = QFormLayout(page)
            form.setContentsMargins(0, 0, 0, 0)
            self.options[source] = {}
            for spec in DATA_SOURCES[source].options:
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
        self.fields: dict[str, ParamEditor] = {}
        for spec in DATASET_FIELDS:
            check = self._check_val if spec.name == "val" else None
            editor = make_editor(spec, None, check=check, slider=spec.name in SPLIT_FIELDS)
            if spec.name in SPLIT_FIELDS:
                editor.edited.connect(lambda _value, name=spec.name: self._on_split(name))
            else:
                editor.edited.connect(self._changed)
            split_form.addRow(spec.title, editor)
            self.fields[spec.name] = editor
            if spec.name == "val":
                self.split_label = QLabel()
                split_form.addRow("", self.split_label)
        layout.addWidget(split_group)

        self.source_box.currentIndexChanged.connect(self._on_source)
        self.set_spec({"source": "digits"})

    # -- public --------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self.source_box.currentData()

    def option(self, source: str, key: str) -> ParamEditor:
        return self.options[source][key]

    def field(self, name: str) -> ParamEditor:
        """The editor of one of ``DATASET_FIELDS`` (train, val, seed, normalize, max_samples, bootstrap)."""
        return self.fields[name]

    def spec(self) -> dict[str, Any]:
        """The dataset spec the form shows."""
        source = self.source
        spec: dict[str, Any] = {"source": source}
        if self._base.get("source") == source:
            edited = set(self.options[source]) | {"split", *SPEC_FIELDS}
            spec.update({k: v for k, v in self._base.items() if k not in edited})
        for key, editor in self.options[source].items():
            value = editor.current_value()
            if value is not None and editor.isEnabled():
                spec[key] = value
        spec["split"] = split_ratios(*(self.fields[name].current_value() for name in SPLIT_FIELDS))
        for name in SPEC_FIELDS:  # an empty value, or normalize "auto", leaves the loader's default
            value = self.fields[name].current_value()
            if value is not None and not (name == "normalize" and value == AUTO):
                spec[name] = value
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
            values = {**{name: split.get(name) for name in SPLIT_FIELDS},
                      **{name: spec.get(name) for name in SPEC_FIELDS}}
            for name, editor in self.fields.items():
                _show(editor.set_value, values[name], editor.spec.default_value())
            self._update_split_label()
        finally:
            self._updating = False

    def set_path(self, source: str, path: str) -> None:
        """Switch to a file/folder ``source`` with ``path`` (a drop or a file dialog), as one edit."""
        self._updating = True
        try:
            if source != self.source:
                self.fields["normalize"].set_value(AUTO)
            self.source_box.setCurrentIndex(self.source_box.findData(source))
            self._show_page(source)
            self.option(source, "path").set_value(path)
            self._refresh_file_choices(source)
        finally:
            self._updating = False
        self._changed()

    # -- internals -----------------------------------------------------------------------
    def _show_page(self, source: str) -> None:
        for name, page in self.pages.items():
            page.setVisible(name == source)
        self.source_help.setText(DATA_SOURCES[source].help if source in DATA_SOURCES else "")
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
            self.fields["normalize"].set_value(AUTO)  # the suitable scaling depends on the kind of data
            self._changed()

    def _on_option(self, source: str, key: str) -> None:
        if source == "toy" and key == "name":
            self._enable_toy_classes()
        if key == "path":
            self._refresh_file_choices(source)
        self._changed()

    def _check_val(self, value):
        """The validation share, refused when train and validation leave the test split below 0."""
        value = DATASET_FIELD["val"].check(value)
        if self.fields["train"].current_value() + value > 1 + 1e-9:
            raise ParamError("train and validation shares must add up to at most 1")
        return value

    def _on_split(self, name: str) -> None:
        train, val = (self.fields[key].current_value() for key in SPLIT_FIELDS)
        if name == "train" and train + val > 1:  # a larger train share takes from validation first
            self.fields["val"].set_value(round(1 - train, 3))
        self._update_split_label()
        self._changed()

    def _update_split_label(self) -> None:
        split = split_ratios(*(self.fields[name].current_value() for name in SPLIT_FIELDS))
        self.split_label.setText(" · ".join(f"{title} {round(100 * split[name])}%" for name, title in
                                            (("train", "train"), ("val", "validation"), ("test", "test"))))

    def _changed(self, *_args: Any) -> None:
        if not self._updating:
            self.edited.emit()

