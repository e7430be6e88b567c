"""Editor widgets generated from catalog ParamSpecs; each emits ``edited(value)`` only for valid values."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLineEdit, QSpinBox,
                               QWidget)

from studio.core.graph.catalog import ParamSpec
from studio.qt.widgets.param_text import ParamTextError, format_value, parse_value

_INT_LIMIT = 2**31 - 1
REGULARIZERS = ("none", "L1", "L2", "L1L2")
RECURRENT = ("SimpleRNN", "LSTM", "GRU")
INVALID_STYLE = "background-color: rgba(217, 48, 37, 60); border: 1px solid #d93025;"


class ParamEditor(QWidget):
    """Base class: ``edited(value)`` for a valid edit, ``problem(message)`` ('' once valid again)."""

    edited = Signal(object)
    problem = Signal(str)

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(spec.help)
        self._last: Any = None

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def current_value(self) -> Any:
        """The value the editor shows now (None if it does not hold a valid one)."""
        return self._last

    def _emit(self, value: Any) -> None:
        self._last = value
        self.problem.emit("")
        self.edited.emit(value)


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QSpinBox()
        self.box.setRange(int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT,
                          int(spec.maximum) if spec.maximum is not None else _INT_LIMIT)
        self.box.setKeyboardTracking(True)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._emit)

    def set_value(self, value: Any) -> None:
        self._last = value
        self.box.blockSignals(True)
        self.box.setValue(int(value))
        self.box.blockSignals(False)


class FloatEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QDoubleSpinBox(decimals=6)
        self.box.setRange(spec.minimum if spec.minimum is not None else -1e9,
                          spec.maximum if spec.maximum is not None else 1e9)
        unit_range = spec.maximum is not None and spec.maximum <= 1
        self.box.setSingleStep(0.05 if unit_range else 0.1)
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._emit)

    def set_value(self, value: Any) -> None:
        self._last = value
        self.box.blockSignals(True)
        self.box.setValue(float(value))
        self.box.blockSignals(False)


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QCheckBox()
        self._layout.addWidget(self.box)
        self.box.toggled.connect(self._emit)

    def set_value(self, value: Any) -> None:
        self._last = value
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(ParamEditor):
    """Combo box of the spec's choices (a value outside them, e.g. from an import, is kept as an item)."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.box = QComboBox()
        self.box.addItems([str(c) for c in spec.choices])
        self._layout.addWidget(self.box)
        self.box.currentTextChanged.connect(self._emit)

    def set_value(self, value: Any) -> None:
        self._last = value
        text = value.get("class_name", "custom") if isinstance(value, dict) else str(value)
        self.box.blockSignals(True)
        if self.box.findText(text) < 0:
            self.box.addItem(text)
        self.box.setCurrentText(text)
        self.box.blockSignals(False)


class TextEditor(ParamEditor):
    """Line edit for tuples, shapes, optional numbers: checked as you type, red while invalid."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.line = QLineEdit()
        self.line.setPlaceholderText("empty = default" if spec.kind.startswith("optional") else "")
        self._layout.addWidget(self.line)
        self.line.textEdited.connect(self._on_text)

    def set_value(self, value: Any) -> None:
        self._last = value
        self.line.setText(format_value(self.spec, value))
        self.line.setStyleSheet("")

    def _on_text(self, text: str) -> None:
        try:
            value = parse_value(self.spec, text)
        except ParamTextError as exc:
            self.line.setStyleSheet(INVALID_STYLE)
            self.problem.emit(str(exc))
            return
        self.line.setStyleSheet("")
        self._emit(value)


class RegularizerEditor(ParamEditor):
    """Penalty kind (none, L1, L2, L1L2) and its strength."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.kind = QComboBox()
        self.kind.addItems(REGULARIZERS)
        self.factor = QLineEdit("0.01")
        self.factor.setMaximumWidth(80)
        self._layout.addWidget(self.kind)
        self._layout.addWidget(self.factor)
        self.kind.currentTextChanged.connect(self._changed)
        self.factor.textEdited.connect(self._changed)

    def set_value(self, value: Any) -> None:
        self._last = value
        kind, factor = "none", 0.01
        if isinstance(value, dict):
            kind = value.get("class_name", "none")
            config = value.get("config") or {}
            factor = config.get("l2", config.get("l1", factor))
        for widget in (self.kind, self.factor):
            widget.blockSignals(True)
        if self.kind.findText(kind) < 0:
            self.kind.addItem(kind)
        self.kind.setCurrentText(kind)
        self.factor.setText(f"{factor:g}")
        self.factor.setEnabled(kind != "none")
        for widget in (self.kind, self.factor):
            widget.blockSignals(False)

    def _changed(self, *_args) -> None:
        kind = self.kind.currentText()
        self.factor.setEnabled(kind != "none")
        if kind == "none":
            self._emit(None)
            return
        try:
            factor = float(self.factor.text())
            if factor < 0:
                raise ValueError
        except ValueError:
            self.factor.setStyleSheet(INVALID_STYLE)
            self.problem.emit(f"{self.spec.name}: the strength must be a number ≥ 0, e.g. 0.01")
            return
        self.factor.setStyleSheet("")
        keys = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}.get(kind, ())
        self._emit({"class_name": kind, "config": {k: factor for k in keys}})


class RecurrentLayerEditor(ParamEditor):
    """Bidirectional's inner layer: its type and size (other settings of the inner config are kept)."""

    def __init__(self, spec: ParamSpec, parent=None) -> None:
        super().__init__(spec, parent)
        self.kind = QComboBox()
        self.kind.addItems(RECURRENT)
        self.units = QSpinBox()
        self.units.setRange(1, 65536)
        self.units.setPrefix("units ")
        self._layout.addWidget(self.kind)
        self._layout.addWidget(self.units)
        self._value: dict = {}
        self.kind.currentTextChanged.connect(self._changed)
        self.units.valueChanged.connect(self._changed)

    def set_value(self, value: Any) -> None:
        self._last = value
        self._value = dict(value) if isinstance(value, dict) else {"class_name": "LSTM", "config": {}}
        for widget in (self.kind, self.units):
            widget.blockSignals(True)
        self.kind.setCurrentText(self._value.get("class_name", "LSTM"))
        self.units.setValue(int((self._value.get("config") or {}).get("units", 32)))
        for widget in (self.kind, self.units):
            widget.blockSignals(False)

    def _changed(self, *_args) -> None:
        config = {**(self._value.get("config") or {}), "units": self.units.value()}
        self._value = {**self._value, "class_name": self.kind.currentText(), "config": config}
        self._emit(dict(self._value))


_EDITORS = {
    "int": IntEditor, "float": FloatEditor, "bool": BoolEditor, "choice": ChoiceEditor,
    "initializer": ChoiceEditor, "regularizer": RegularizerEditor, "layer": RecurrentLayerEditor,
}


def make_editor(spec: ParamSpec, value: Any) -> ParamEditor:
    """The editor for ``spec``'s kind, showing ``value``."""
    editor = _EDITORS.get(spec.kind, TextEditor)(spec)
    if value is None and spec.kind in ("int", "float", "bool", "choice"):
        value = spec.default
    editor.set_value(value)
    return editor
