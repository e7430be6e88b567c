"""The training settings form, generated from ``TRAINING_FIELDS`` and bound to ``project.training``.

Every valid change is an undoable command; settings that do not apply to the current choices
(momentum for Adam, decay for a constant rate, ...) are hidden.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Callable

from PySide6.QtCore import Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGridLayout, QGroupBox, QLabel, QLineEdit,
                               QSpinBox, QVBoxLayout, QWidget)

from studio.core.params import ParamSpec
from studio.core.training import TRAINING_FIELDS, TrainingConfig
from studio.qt.document import Document
from studio.qt.widgets.param_editors import INVALID_STYLE

SECTIONS = (
    ("Optimizer", ("optimizer", "learning_rate", "momentum", "schedule", "decay_rate", "decay_epochs",
                   "warmup_epochs", "min_learning_rate", "plateau_patience")),
    ("Loss and metrics", ("loss", "metrics", "top_k")),
    ("Data", ("batch_size", "epochs", "seed")),
    ("Early stopping", ("early_stopping", "early_stopping_monitor", "early_stopping_patience", "restore_best")),
    ("Regularization", ("weight_decay", "clipnorm")),
    ("Hardware and logging", ("devices", "mixed_precision", "grad_norm_every")),
)
DEVICE_CHOICES = ("auto", "cpu", "gpu", "all", "cpu:2")

# When a setting matters, given the whole config (settings not listed always matter).
RELEVANT: dict[str, Callable[[TrainingConfig], bool]] = {
    "momentum": lambda c: c.optimizer in ("momentum", "nesterov"),
    "decay_rate": lambda c: c.schedule in ("step", "exponential", "reduce_on_plateau"),
    "decay_epochs": lambda c: c.schedule in ("step", "exponential"),
    "warmup_epochs": lambda c: c.schedule == "warmup",
    "min_learning_rate": lambda c: c.schedule in ("cosine", "warmup", "reduce_on_plateau"),
    "plateau_patience": lambda c: c.schedule == "reduce_on_plateau",
    "top_k": lambda c: "top_k" in (c.metrics or ()),
    "early_stopping_monitor": lambda c: c.early_stopping,
    "early_stopping_patience": lambda c: c.early_stopping,
    "restore_best": lambda c: c.early_stopping,
}


class SetTraining(QUndoCommand):
    """Change one training setting; consecutive changes of the same setting merge."""

    ID = 0x7261  # distinct from the graph commands' ids

    def __init__(self, doc: Document, key: str, value: Any, notify: Callable[[], None]) -> None:
        super().__init__(f"Set training {key}")
        self.doc, self.key, self.notify = doc, key, notify
        self.had_key = key in doc.project.training
        self.old, self.new = copy.deepcopy(doc.project.training.get(key)), copy.deepcopy(value)

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetTraining) or other.key != self.key:
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.project.training[self.key] = copy.deepcopy(self.new)
        self.notify()

    def undo(self) -> None:
        if self.had_key:
            self.doc.project.training[self.key] = copy.deepcopy(self.old)
        else:
            self.doc.project.training.pop(self.key, None)
        self.notify()


class FieldEditor(QWidget):
    """One setting's editor: ``edited(value)`` for valid input only (invalid text turns red)."""

    edited = Signal(object)

    def __init__(self, spec: ParamSpec, current: Callable[[], TrainingConfig]) -> None:
        """``current()`` gives the settings a typed value is checked against."""
        super().__init__()
        self.spec, self.current = spec, current
        self.setToolTip(spec.help)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.widget = self._make(layout)

    def _make(self, layout: QGridLayout) -> QWidget | None:
        spec = self.spec
        if spec.kind == "int":
            box = QSpinBox()
            box.setRange(int(spec.minimum if spec.minimum is not None else -2**31 + 1),
                         int(spec.maximum if spec.maximum is not None else 2**31 - 1))
            box.valueChanged.connect(self.edited.emit)
        elif spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(self.edited.emit)
        elif spec.kind == "choice" or spec.name == "devices":
            box = QComboBox()
            box.addItems(list(spec.choices or DEVICE_CHOICES))
            box.setEditable(spec.kind == "str")
            box.currentTextChanged.connect(self._text_changed)
        elif spec.kind == "multichoice":
            self.checks = {}
            for index, choice in enumerate(spec.choices):
                check = QCheckBox(choice)
                check.toggled.connect(self._checks_changed)
                layout.addWidget(check, index // 3, index % 3)
                self.checks[choice] = check
            return None
        else:  # float, optional_float, str: typed text, checked as you type
            box = QLineEdit()
            if spec.kind == "optional_float":
                box.setPlaceholderText("empty = off")
            box.textEdited.connect(self._text_changed)
        layout.addWidget(box, 0, 0)
        return box

    def value_of_text(self, text: str) -> Any:
        """The value ``text`` stands for; ValueError when it is not valid for this setting."""
        text = text.strip()
        if self.spec.kind in ("str", "choice"):
            if not text:
                raise ValueError(f"{self.spec.name} needs a value")
            return text
        if self.spec.kind == "optional_float" and not text:
            return None
        value = float(text)
        mentions = re.compile(rf"\b{self.spec.name}\b")
        problems = [p for p in self.current().replace(**{self.spec.name: value}).validate() if mentions.search(p)]
        if problems:
            raise ValueError(problems[0])
        return value

    def _text_changed(self, text: str) -> None:
        try:
            value = self.value_of_text(text)
        except ValueError as exc:
            self.widget.setStyleSheet(INVALID_STYLE)
            self.widget.setToolTip(str(exc))
            return
        self.widget.setStyleSheet("")
        self.widget.setToolTip(self.spec.help)
        self.edited.emit(value)

    def _checks_changed(self) -> None:
        self.edited.emit([name for name, check in self.checks.items() if check.isChecked()])

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting ``edited`` (text being typed that means it is kept)."""
        widget = self.widget
        if self.spec.kind == "multichoice":
            for name, check in self.checks.items():
                check.blockSignals(True)
                check.setChecked(name in (value or ()))
                check.blockSignals(False)
            return
        widget.blockSignals(True)
        if isinstance(widget, QSpinBox):
            widget.setValue(int(value))
        elif isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        elif isinstance(widget, QComboBox):
            if widget.findText(str(value)) < 0:
                widget.addItem(str(value))
            widget.setCurrentText(str(value))
        else:
            try:
                same = self.value_of_text(widget.text()) == value
            except ValueError:
                same = False
            if not same:
                widget.setText("" if value is None else f"{value:g}" if isinstance(value, float) else str(value))
                widget.setStyleSheet("")
        widget.blockSignals(False)


class TrainingForm(QWidget):
    """All training settings in titled sections, plus a line listing what is wrong with them."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.editors: dict[str, FieldEditor] = {}
        self.rows: dict[str, tuple[QFormLayout, int]] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        specs = {spec.name: spec for spec in TRAINING_FIELDS}
        placed = [name for _title, names in SECTIONS for name in names]
        sections = list(SECTIONS) + [("Other", tuple(n for n in specs if n not in placed))]
        for title, names in sections:
            names = [name for name in names if name in specs]
            if not names:
                continue
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for name in names:
                editor = FieldEditor(specs[name], self.config)
                editor.edited.connect(lambda value, name=name: self._edit(name, value))
                label = QLabel(name.replace("_", " ").capitalize())
                label.setToolTip(specs[name].help)
                form.addRow(label, editor)
                self.editors[name] = editor
                self.rows[name] = (form, form.rowCount() - 1)
            layout.addWidget(box)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #d93025;")
        layout.addWidget(self.problems)
        layout.addStretch(1)
        doc.project_replaced.connect(self.refresh)
        self.refresh()

    def config(self) -> TrainingConfig:
        return TrainingConfig.from_dict(self.doc.project.training)

    def _edit(self, key: str, value: Any) -> None:
        current = self.doc.project.training.get(key, getattr(self.config(), key, None))
        if key in self.doc.project.training and current == value:
            return
        self.doc.push(SetTraining(self.doc, key, value, self.refresh))

    def refresh(self) -> None:
        """Show the project's settings (after an edit, undo, or another project)."""
        config = self.config()
        for name, editor in self.editors.items():
            editor.set_value(getattr(config, name))
            form, row = self.rows[name]
            form.setRowVisible(row, RELEVANT.get(name, lambda _c: True)(config))
        problems = config.validate()
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
