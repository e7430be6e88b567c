"""The search-space editor: one row per searched setting, its values written as short text.

A row's values are either a range, ``1e-4 .. 1e-1 log`` or ``0 .. 0.5 step 0.1``, or choices,
``16, 32, 64``. Core's ``space.entry_from_text`` turns that text into the JSON entry ``parse_space``
checks against the same setting specs as the editors (training settings, whole-graph settings and
``LAYER.PARAM`` of the graph), so the space built here is exactly what ``studio sweep --space`` reads.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.experiments.space import entry_from_text, searchable_settings
from studio.core.params import ParamSpec

SUGGESTED = {"learning_rate": "1e-4 .. 1e-1 log", "batch_size": "16, 32, 64", "optimizer": "adam, sgd, rmsprop",
             "epochs": "5, 10, 20"}
STARTING_ROWS = ("learning_rate", "optimizer")


def suggested_text(name: str, spec: ParamSpec, current: Any) -> str:
    """Sensible starting values for a setting (edited by the user before a sweep)."""
    if name in SUGGESTED:
        return SUGGESTED[name]
    if spec.kind == "bool":
        return "true, false"
    if spec.kind == "choice":
        return ", ".join(map(str, spec.choices[:4]))
    value = current if isinstance(current, (int, float)) and not isinstance(current, bool) else spec.default
    if spec.kind in ("int", "optional_int"):
        value = int(value or 1)
        return ", ".join(str(v) for v in dict.fromkeys((max(1, value // 2), value, value * 2)))
    if spec.maximum is not None and spec.maximum <= 1:  # a rate
        return "0 .. 0.5 step 0.1"
    value = float(value or 0.1)
    return f"{value / 10:g} .. {value * 10:g} log" if value > 0 else "0 .. 1"


class SpaceEditor(QWidget):
    """Rows of (setting, values); ``space()`` is the JSON search space they describe.

    Signals:
        changed: a row was added, removed or edited.
    """

    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.options: dict[str, tuple[ParamSpec, Any]] = {}
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Setting", "Values (LOW .. HIGH [log] [step S], or A, B, C)"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemChanged.connect(lambda _item: self.changed.emit())
        self.setting = QComboBox()
        self.setting.setToolTip("A training setting, or a layer's parameter (LAYER.PARAM) from the graph")
        self.add_button = QPushButton("Add")
        self.remove_button = QPushButton("Remove")
        self.add_button.clicked.connect(lambda: self.add_row(self.setting.currentText()))
        self.remove_button.clicked.connect(self.remove_selected)
        row = QHBoxLayout()
        row.addWidget(self.setting, 1)
        row.addWidget(self.add_button)
        row.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)

    def set_project(self, project) -> None:
        """Offer ``project``'s settings and layers; rows whose setting vanished are removed."""
        self.options = searchable_settings(project)
        self.setting.clear()
        self.setting.addItems(list(self.options))
        for row in reversed(range(self.table.rowCount())):
            if self.table.item(row, 0).text() not in self.options:
                self.table.removeRow(row)
        if not self.table.rowCount():
            for name in STARTING_ROWS:
                self.add_row(name)
        self.changed.emit()

    def names(self) -> list[str]:
        return [self.table.item(row, 0).text() for row in range(self.table.rowCount())]

    def add_row(self, name: str, text: str | None = None) -> None:
        if name not in self.options or name in self.names():
            return
        spec, current = self.options[name]
        self.table.blockSignals(True)
        row = self.table.rowCount()
        self.table.insertRow(row)
        label = QTableWidgetItem(name)
        label.setFlags(label.flags() & ~Qt.ItemFlag.ItemIsEditable)
        label.setToolTip(spec.help or name)
        self.table.setItem(row, 0, label)
        self.table.setItem(row, 1, QTableWidgetItem(text if text is not None else suggested_text(name, spec, current)))
        self.table.blockSignals(False)
        self.changed.emit()

    def remove_selected(self) -> None:
        for row in sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)
        self.changed.emit()

    def set_text(self, name: str, text: str) -> None:
        self.table.item(self.names().index(name), 1).setText(text)

    def space(self) -> dict[str, Any]:
        """The JSON search space of the rows; SpaceError (one line) when a row cannot be read."""
        names = self.names()
        return {name: entry_from_text(name, self.table.item(row, 1).text(), self.options[name][0])
                for row, name in enumerate(names)}
