"""The layer palette: catalog entries by category, a search box, drag onto the canvas."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from studio.core.graph.catalog import by_category
from studio.qt.model.canvas.view import LAYER_MIME

TYPE_ROLE = Qt.ItemDataRole.UserRole


class LayerTree(QTreeWidget):
    """Tree of layer types; dragging a layer carries its type in ``LAYER_MIME``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragDropMode.DragOnly)
        for category, specs in by_category().items():
            if not specs:
                continue
            group = QTreeWidgetItem(self, [category])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for spec in specs:
                item = QTreeWidgetItem(group, [spec.type])
                item.setData(0, TYPE_ROLE, spec.type)
                item.setToolTip(0, f"<b>{spec.type}</b><br>{spec.help}")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled)
        self.expandAll()

    def startDrag(self, supported_actions) -> None:
        item = self.currentItem()
        layer_type = item.data(0, TYPE_ROLE) if item else None
        if not layer_type:
            return
        mime = QMimeData()
        mime.setData(LAYER_MIME, layer_type.encode())
        mime.setText(layer_type)
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)

    def layer_items(self) -> list[QTreeWidgetItem]:
        return [self.topLevelItem(i).child(j) for i in range(self.topLevelItemCount())
                for j in range(self.topLevelItem(i).childCount())]

    def item_for(self, layer_type: str) -> QTreeWidgetItem | None:
        return next((i for i in self.layer_items() if i.data(0, TYPE_ROLE) == layer_type), None)


class Palette(QWidget):
    """Search box over the layer tree. Double-clicking a layer emits ``layer_activated``."""

    layer_activated = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(placeholderText="Search layers…", clearButtonEnabled=True)
        self.tree = LayerTree()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._on_double_click)

    def filter(self, text: str) -> None:
        """Show the layers whose name or help mentions ``text`` (and their categories)."""
        needle = text.strip().lower()
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            visible = 0
            for j in range(group.childCount()):
                item = group.child(j)
                hit = not needle or needle in item.text(0).lower() or needle in item.toolTip(0).lower()
                item.setHidden(not hit)
                visible += hit
            group.setHidden(visible == 0)

    def _on_double_click(self, item: QTreeWidgetItem) -> None:
        layer_type = item.data(0, TYPE_ROLE)
        if layer_type:
            self.layer_activated.emit(layer_type)
