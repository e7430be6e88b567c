"""One family of editors generated from ParamSpecs, used by every panel (layer properties, training
settings, augmentation steps, dataset-source options).

Each editor emits ``edited(value)`` only for a value its check accepts (``spec.check`` unless the
panel passes a stricter one); an invalid value turns the input red and emits ``problem(message)``
(``''`` once valid again).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout,
                               QLineEdit, QPushButton, QSlider, QSpinBox, QStyledItemDelegate, QWidget)

from studio.core.params import ParamSpec
from studio.qt.widgets.param_text import ParamTextError, format_value, parse_value

_INT_LIMIT = 2**31 - 1
NOTE_ROLE = Qt.ItemDataRole.UserRole + 1  # a choice's note, shown after it in the open list
SLIDER_STEPS = 1000
REGULARIZERS = ("none", "L1", "L2", "L1L2")
RECURRENT = ("SimpleRNN", "LSTM", "GRU")
INVALID_STYLE = "background-color: rgba(217, 48, 37, 60); border: 1px solid #d93025;"

Check = Callable[[Any], Any]


class ParamEditor(QWidget):
    """Base class: ``edited(value)`` for a valid edit, ``problem(message)`` ('' once valid again)."""

    edited = Signal(object)
    problem = Signal(str)

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.check = check or spec.check
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.setToolTip(spec.help)
        self.input: QWidget = self  # the widget that turns red while its value is refused
        self._last: Any = None

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited``."""
        raise NotImplementedError

    def current_value(self) -> Any:
        """The last valid value the editor showed or emitted."""
        return self._last

    def _offer(self, value: Any) -> None:
        """A value the user produced: emitted when the check accepts it, else shown as refused."""
        try:
            value = self.check(value)
        except ValueError as exc:
            self._refuse(str(exc))
            return
        self._accept()
        self._last = value
        self.edited.emit(value)

    def _refuse(self, message: str) -> None:
        self.input.setStyleSheet(INVALID_STYLE)
        self.input.setToolTip(message)
        self.problem.emit(message)

    def _accept(self) -> None:
        self.input.setStyleSheet("")
        self.input.setToolTip(self.spec.help)
        self.problem.emit("")

    def _quietly(self, *widgets: QWidget) -> _Blocked:
        return _Blocked(widgets)


class _Blocked:
    """``with editor._quietly(a, b):`` changes widgets without their signals."""

    def __init__(self, widgets) -> None:
        self.widgets = widgets

    def __enter__(self) -> None:
        for widget in self.widgets:
            widget.blockSignals(True)

    def __exit__(self, *_exc) -> None:
        for widget in self.widgets:
            widget.blockSignals(False)


class IntEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.box = self.input = QSpinBox()
        self.box.setRange(int(spec.minimum) if spec.minimum is not None else -_INT_LIMIT,
                          int(spec.maximum) if spec.maximum is not None else _INT_LIMIT)
        if spec.step:
            self.box.setSingleStep(int(spec.step))
        self._layout.addWidget(self.box)
        self.box.valueChanged.connect(self._offer)

    def set_value(self, value: Any) -> None:
        with self._quietly(self.box):
            self.box.setValue(int(value))
        self._last = value


class SliderEditor(ParamEditor):
    """A slider with a spin box, for a number with both bounds (augmentation strengths)."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.integer = spec.kind == "int"
        low, high = spec.minimum, spec.maximum
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, int(high - low) if self.integer else SLIDER_STEPS)
        if self.integer:
            self.box = QSpinBox(minimum=int(low), maximum=int(high))
        else:
            self.box = QDoubleSpinBox(minimum=low, maximum=high, decimals=3, singleStep=(high - low) / 100)
        self.box.setFixedWidth(84)
        self.input = self.box
        self._layout.addWidget(self.slider, 1)
        self._layout.addWidget(self.box)
        self.slider.valueChanged.connect(self._on_slider)
        self.box.valueChanged.connect(self._on_box)

    def set_value(self, value: Any) -> None:
        with self._quietly(self.slider, self.box):
            self.box.setValue(value)
            self.slider.setValue(self._to_slider(value))
        self._last = value

    def _to_slider(self, value: float) -> int:
        low, high = self.spec.minimum, self.spec.maximum
        return int(value - low) if self.integer else round((value - low) / (high - low) * SLIDER_STEPS)

    def _on_slider(self, position: int) -> None:
        low, high = self.spec.minimum, self.spec.maximum
        value = low + position if self.integer else round(low + (high - low) * position / SLIDER_STEPS, 3)
        with self._quietly(self.box):
            self.box.setValue(value)
        self._offer(self.box.value())

    def _on_box(self, value: float) -> None:
        with self._quietly(self.slider):
            self.slider.setValue(self._to_slider(value))
        self._offer(value)


class BoolEditor(ParamEditor):
    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.box = self.input = QCheckBox()
        self._layout.addWidget(self.box)
        self.box.toggled.connect(self._offer)

    def set_value(self, value: Any) -> None:
        with self._quietly(self.box):
            self.box.setChecked(bool(value))
        self._last = value


class _Combo(QComboBox):
    """A combo box that says when its list is about to open."""

    opening = Signal()

    def showPopup(self) -> None:  # noqa: N802 (Qt name)
        self.opening.emit()
        super().showPopup()


class _NotedItems(QStyledItemDelegate):
    """Draws a choice's note (``NOTE_ROLE``) after its text: "torch (not installed)". Only the list
    shows it: the item's text stays the choice."""

    def initStyleOption(self, option, index) -> None:  # noqa: N802 (Qt name)
        super().initStyleOption(option, index)
        note = index.data(NOTE_ROLE)
        if note:
            option.text = f"{option.text} ({note})"


class ChoiceEditor(ParamEditor):
    """A combo box of the spec's choices (a value outside them, e.g. from an import, is kept as an
    item). For a ``str`` spec the box is editable and the choices are suggestions."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.box = self.input = _Combo()
        self.box.setEditable(spec.kind == "str")
        self.box.addItems([str(c) for c in spec.choices])
        self.box.setItemDelegate(_NotedItems(self.box))
        self._layout.addWidget(self.box)
        self.box.currentTextChanged.connect(self._offer)

    def set_value(self, value: Any) -> None:
        text = "" if value is None else value.get("class_name", "custom") if isinstance(value, dict) else str(value)
        with self._quietly(self.box):
            if text and self.box.findText(text) < 0:
                self.box.addItem(text)
            self.box.setCurrentText(text)
        self._last = value

    def mark_choices(self, states: dict[str, tuple[bool, str, str]]) -> None:
        """Enable or disable choices, set their tooltips and the note the open list shows after
        them: ``{choice: (enabled, tooltip, note)}`` (note '' for none)."""
        model = self.box.model()
        for choice, (enabled, tip, note) in states.items():
            index = self.box.findText(choice)
            if index >= 0:
                model.item(index).setEnabled(enabled)
                self.box.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
                self.box.setItemData(index, note, NOTE_ROLE)

    def set_choices(self, choices: list[str], pick: str | None) -> None:
        """Offer ``choices`` (read from a file: CSV columns, NPZ arrays), keeping the current value
        when it is among them, else showing ``pick``."""
        current = self.box.currentText()
        with self._quietly(self.box):
            self.box.clear()
            self.box.addItems(choices)
            text = current if current in choices else (pick or "")
            self.box.setCurrentText(text)
        self._last = text or None


class MultiChoiceEditor(ParamEditor):
    """A check box per choice; the value lists the checked ones in the spec's order."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        grid = QGridLayout()
        self.boxes: dict[str, QCheckBox] = {}
        for index, choice in enumerate(spec.choices):
            box = QCheckBox(str(choice))
            box.toggled.connect(lambda _on: self._offer(self._checked()))
            grid.addWidget(box, *divmod(index, 3))
            self.boxes[choice] = box
        self._layout.addLayout(grid)
        self._layout.addStretch(1)

    def _checked(self) -> list:
        return [name for name, box in self.boxes.items() if box.isChecked()]

    def set_value(self, value: Any) -> None:
        with self._quietly(*self.boxes.values()):
            for name, box in self.boxes.items():
                box.setChecked(name in (value or ()))
        self._last = value


class TextEditor(ParamEditor):
    """Line edit for numbers, tuples, shapes, optional values: checked as you type, red while invalid."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.line = self.input = QLineEdit()
        self.line.setPlaceholderText("empty = default" if spec.kind.startswith("optional") else "")
        self._layout.addWidget(self.line)
        self.line.textEdited.connect(self._on_text)

    def set_value(self, value: Any) -> None:
        """Show ``value``; text that already means it (the user's own spelling) is kept."""
        self._last = value
        try:
            if parse_value(self.spec, self.line.text()) == value and self.line.text():
                return
        except ParamTextError:
            pass
        self.line.setText(format_value(self.spec, value))
        self.line.setStyleSheet("")

    def _on_text(self, text: str) -> None:
        try:
            value = parse_value(self.spec, text)
        except ParamTextError as exc:
            self._refuse(str(exc))
            return
        self._offer(value)


class PathEditor(ParamEditor):
    """A file or folder path: typed, or chosen with Browse…; emitted when editing finishes."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.folder = spec.kind == "folder"
        self.line = self.input = QLineEdit(placeholderText="Choose a folder…" if self.folder else "Choose a file…")
        self.line.setClearButtonEnabled(True)
        browse = QPushButton("Browse…")
        self._layout.addWidget(self.line, 1)
        self._layout.addWidget(browse)
        self.line.editingFinished.connect(self._on_finished)
        browse.clicked.connect(self.browse)

    def set_value(self, value: Any) -> None:
        text = str(value or "")
        if text != self.line.text():
            self.line.setText(text)
        self.line.setStyleSheet("")
        self._last = value or None

    def browse(self) -> None:
        start = self.line.text() or str(Path.home())
        if self.folder:
            path = QFileDialog.getExistingDirectory(self, self.spec.title, start)
        else:
            patterns = " ".join(f"*{suffix}" for suffix in self.spec.choices)
            path, _ = QFileDialog.getOpenFileName(self, self.spec.title, start,
                                                  f"{self.spec.title} ({patterns});;All files (*)")
        if path:
            self.line.setText(path)
            self._on_finished()

    def _on_finished(self) -> None:
        text = self.line.text().strip()
        if text != (self._last or ""):
            self._offer(text)


class RegularizerEditor(ParamEditor):
    """Penalty kind (none, L1, L2, L1L2) and its strength."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
        self.kind = QComboBox()
        self.kind.addItems(REGULARIZERS)
        self.factor = self.input = QLineEdit("0.01")
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
        with self._quietly(self.kind, self.factor):
            if self.kind.findText(kind) < 0:
                self.kind.addItem(kind)
            self.kind.setCurrentText(kind)
            self.factor.setText(f"{factor:g}")
            self.factor.setEnabled(kind != "none")

    def _changed(self, *_args) -> None:
        kind = self.kind.currentText()
        self.factor.setEnabled(kind != "none")
        if kind == "none":
            self._offer(None)
            return
        try:
            factor = float(self.factor.text())
            if factor < 0:
                raise ValueError
        except ValueError:
            self._refuse(f"{self.spec.name}: the strength must be a number ≥ 0, e.g. 0.01")
            return
        keys = {"L1": ("l1",), "L2": ("l2",), "L1L2": ("l1", "l2")}.get(kind, ())
        self._offer({"class_name": kind, "config": {k: factor for k in keys}})


class RecurrentLayerEditor(ParamEditor):
    """Bidirectional's inner layer: its type and size (other settings of the inner config are kept)."""

    def __init__(self, spec: ParamSpec, check: Check | None = None, parent=None) -> None:
        super().__init__(spec, check, parent)
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
        with self._quietly(self.kind, self.units):
            self.kind.setCurrentText(self._value.get("class_name", "LSTM"))
            self.units.setValue(int((self._value.get("config") or {}).get("units", 32)))

    def _changed(self, *_args) -> None:
        config = {**(self._value.get("config") or {}), "units": self.units.value()}
        self._value = {**self._value, "class_name": self.kind.currentText(), "config": config}
        self._offer(dict(self._value))


_EDITORS = {
    "int": IntEditor, "bool": BoolEditor, "choice": ChoiceEditor, "str": ChoiceEditor,
    "initializer": ChoiceEditor, "multichoice": MultiChoiceEditor, "folder": PathEditor, "file": PathEditor,
    "regularizer": RegularizerEditor, "layer": RecurrentLayerEditor,
}


def make_editor(spec: ParamSpec, value: Any, *, check: Check | None = None, slider: bool = False) -> ParamEditor:
    """The editor for ``spec``'s kind, showing ``value`` (None: the default).

    ``check`` replaces ``spec.check`` (a form that also checks settings against each other);
    ``slider`` shows a bounded number as a slider with a spin box.
    """
    bounded = spec.minimum is not None and spec.maximum is not None
    kind = SliderEditor if slider and bounded and spec.kind in ("int", "float") else _EDITORS.get(spec.kind, TextEditor)
    editor = kind(spec, check)
    if value is None and not spec.kind.startswith("optional") and spec.kind != "regularizer":
        value = spec.default_value()
    editor.set_value(value)
    return editor
