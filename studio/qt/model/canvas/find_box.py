"""Find a layer (Ctrl+F): type part of a name or type, Enter shows and selects the match."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout

from studio.core.graph.model import Graph

MAX_MATCHES = 8


def find_layers(graph: Graph, text: str, limit: int = MAX_MATCHES) -> list[str]:
    """Ids of the layers whose name or type contains ``text`` (names that start with it first)."""
    needle = text.strip().lower()
    if not needle:
        return []
    starts, contains = [], []
    for node in graph.nodes.values():
        name = node.name.lower()
        if name.startswith(needle):
            starts.append(node.id)
        elif needle in name or needle in node.type.lower():
            contains.append(node.id)
    return (starts + contains)[:limit]


class FindBox(QFrame):
    """A search field over the canvas with the best matches below it; Esc closes it.

    Signals:
        chosen(str): the id of the layer picked with Enter (or a click).
    """

    chosen = Signal(str)

    def __init__(self, graph_source, parent=None) -> None:
        super().__init__(parent)
        self._graph_source = graph_source  # callable returning the current Graph
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAutoFillBackground(True)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("Find a layer by name or type…")
        self.edit.setClearButtonEnabled(True)
        self.matches = QListWidget()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.edit)
        layout.addWidget(self.matches)
        self.setFixedWidth(280)
        self.edit.textChanged.connect(self._filter)
        self.edit.returnPressed.connect(self._choose)
        self.matches.itemActivated.connect(self._choose)
        self.matches.itemClicked.connect(self._choose)
        self.edit.installEventFilter(self)
        self.hide()

    def open(self) -> None:
        self.show()
        self.raise_()
        self.edit.setFocus()
        self.edit.selectAll()
        self._filter(self.edit.text())

    def close_box(self) -> None:
        self.hide()
        if self.parentWidget() is not None:
            self.parentWidget().setFocus()

    def _filter(self, text: str) -> None:
        graph = self._graph_source()
        self.matches.clear()
        for node_id in find_layers(graph, text):
            node = graph.nodes[node_id]
            item = QListWidgetItem(f"{node.name}   ({node.type})")
            item.setData(Qt.ItemDataRole.UserRole, node_id)
            self.matches.addItem(item)
        if self.matches.count():
            self.matches.setCurrentRow(0)
        elif text.strip():
            self.matches.addItem(QListWidgetItem("No layer matches"))
        rows = self.matches.count()
        self.matches.setVisible(rows > 0)
        self.matches.setFixedHeight(4 + rows * self.matches.sizeHintForRow(0) if rows else 0)
        self.adjustSize()

    def _choose(self, *_args) -> None:
        item = self.matches.currentItem()
        node_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if node_id:
            self.close_box()
            self.chosen.emit(node_id)

    def eventFilter(self, watched, event) -> bool:
        """Up/Down move through the matches while typing; Esc closes the box."""
        if watched is self.edit and event.type() == event.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.close_box()
                return True
            if key in (Qt.Key.Key_Down, Qt.Key.Key_Up) and self.matches.count():
                step = 1 if key == Qt.Key.Key_Down else -1
                row = max(0, min(self.matches.count() - 1, self.matches.currentRow() + step))
                self.matches.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
