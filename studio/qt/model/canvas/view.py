"""The canvas view: zoom, pan, rubber-band selection and drops from the layer palette."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from studio.qt.model.canvas.scene import GraphScene

LAYER_MIME = "application/x-dlstudio-layer"
_MIN_ZOOM, _MAX_ZOOM = 0.05, 4.0
_READABLE_ZOOM = 0.6


class GraphView(QGraphicsView):
    """Shows a GraphScene. Wheel zooms around the cursor; middle button (or Space + drag) pans."""

    layer_dropped = Signal(str, QPointF)  # catalog type, scene position

    def __init__(self, scene: GraphScene, parent=None) -> None:
        super().__init__(scene, parent)
        self.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setAcceptDrops(True)
        self._pan_from: QPointF | None = None
        scene.doc.focus_requested.connect(self.show_node)

    # -- zoom & pan ----------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        factor = max(_MIN_ZOOM / self.zoom, min(_MAX_ZOOM / self.zoom, factor))
        self.scale(factor, factor)

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def fit(self, readable: bool = False) -> None:
        """Show the whole graph (never magnified beyond 100 %).

        With ``readable``, a graph too big to read when shown whole (a deep ResNet) is shown from
        its inputs at a zoom where the text stays legible instead.
        """
        bounds = self.scene().itemsBoundingRect().adjusted(-40, -40, 40, 40)
        if bounds.isEmpty():
            return
        self.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:
            self.zoom_by(1.0 / self.zoom)
        if readable and self.zoom < _READABLE_ZOOM:
            self.zoom_by(_READABLE_ZOOM / self.zoom)
            top = self.mapToScene(self.viewport().rect()).boundingRect()
            self.centerOn(bounds.center().x(), bounds.top() + top.height() / 2)
            return
        self.centerOn(bounds.center())

    def show_node(self, node_id: str) -> None:
        item = self.scene().node_items.get(node_id)
        if item is not None:
            self.centerOn(item)

    def wheelEvent(self, event) -> None:
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(1.0015 ** delta)
        event.accept()

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - int(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - int(delta.y()))
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self._pan_from is not None and event.button() == Qt.MouseButton.MiddleButton:
            self._pan_from = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        super().keyReleaseEvent(event)

    # -- drops from the palette ----------------------------------------------------------
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            super().dragMoveEvent(event)

    def dropEvent(self, event) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            super().dropEvent(event)
            return
        layer_type = bytes(event.mimeData().data(LAYER_MIME)).decode()
        self.layer_dropped.emit(layer_type, self.mapToScene(event.position().toPoint()))
        event.acceptProposedAction()
