"""The canvas view: zoom, pan, rubber-band selection, drops from the layer palette, a minimap and
find-a-layer (Ctrl+F)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView

from studio.qt.model.canvas.find_box import FindBox
from studio.qt.model.canvas.minimap import Minimap
from studio.qt.model.canvas.scene import GraphScene

LAYER_MIME = "application/x-dlstudio-layer"
_MIN_ZOOM, _MAX_ZOOM = 0.05, 4.0
MIN_FIT_ZOOM = 0.3  # fit-to-view stops here: node names stay legible (see items.draw_big_title)
_READABLE_ZOOM = 0.6  # all of a node's text is legible
_MARGIN = 10  # pixels between the overlays and the viewport's edges


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
        self.minimap = Minimap(self)
        self.find_box = FindBox(lambda: scene.doc.graph, self)
        self.find_box.chosen.connect(scene.doc.focus)
        # Changes settle first (the scene regroups on the next turn), then the view checks itself.
        self._check_timer = QTimer(self, singleShot=True, interval=0)
        self._check_timer.timeout.connect(self.keep_content_in_view)
        scene.doc.focus_requested.connect(self.show_node)
        scene.doc.undo_stack.indexChanged.connect(self._check_timer.start)
        scene.layout_changed.connect(self.minimap.refresh)
        self.horizontalScrollBar().valueChanged.connect(self.minimap.refresh)
        self.verticalScrollBar().valueChanged.connect(self.minimap.refresh)

    # -- zoom & pan ----------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def zoom_by(self, factor: float) -> None:
        factor = max(_MIN_ZOOM / self.zoom, min(_MAX_ZOOM / self.zoom, factor))
        self.scale(factor, factor)
        self.minimap.refresh()

    def zoom_in(self) -> None:
        self.zoom_by(1.25)

    def zoom_out(self) -> None:
        self.zoom_by(0.8)

    def fit(self, readable: bool = False) -> None:
        """Show the whole graph (never magnified beyond 100 %, never shrunk below legibility).

        A graph too big for that is shown from its top-left corner (its inputs) at the smallest
        legible zoom; ``readable`` raises that zoom to where all of a node's text is legible.
        """
        bounds = self.scene().content_rect().adjusted(-40, -40, 40, 40)
        if bounds.isEmpty():
            return
        self.fitInView(bounds, Qt.AspectRatioMode.KeepAspectRatio)
        if self.zoom > 1.0:
            self.zoom_by(1.0 / self.zoom)
        smallest = _READABLE_ZOOM if readable else MIN_FIT_ZOOM
        if self.zoom < smallest:
            self.zoom_by(smallest / self.zoom)
            # The top node of the leftmost column goes to the top-left corner (the bounds' own
            # corner may be empty canvas once nodes were deleted).
            rects = [i.sceneBoundingRect() for i in self.scene().shown_items()]
            left = min(r.left() for r in rects)
            first = min(rects, key=lambda r: (r.left() > left + 2 * r.width(), r.top(), r.left()))
            shown = self.visible_rect()
            self.centerOn(left - 40 + shown.width() / 2, first.top() - 40 + shown.height() / 2)
        else:
            self.centerOn(bounds.center())
        self.minimap.refresh()

    def visible_rect(self) -> QRectF:
        """The part of the scene the viewport shows."""
        return self.mapToScene(self.viewport().rect()).boundingRect()

    def keep_content_in_view(self) -> None:
        """After undo, a template or an import: if no node is in view (only empty canvas), frame them."""
        shown = self.visible_rect()
        items = self.scene().shown_items()
        if items and not any(shown.intersects(item.sceneBoundingRect()) for item in items):
            self.fit(readable=True)

    def show_node(self, node_id: str) -> None:
        """Centre ``node_id`` (expanding its group if collapsed), zoomed in far enough to read it."""
        scene = self.scene()
        group = scene.group_of(node_id)
        if group is not None and group.collapsed:
            scene.set_collapsed(group.group_id, False)
        item = scene.node_items.get(node_id)
        if item is not None:
            if self.zoom < _READABLE_ZOOM:
                self.zoom_by(_READABLE_ZOOM / self.zoom)
            self.centerOn(item)
            self.minimap.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        viewport = self.viewport().geometry()
        self.minimap.move(viewport.right() - self.minimap.width() - _MARGIN,
                          viewport.bottom() - self.minimap.height() - _MARGIN)
        self.find_box.move(viewport.right() - self.find_box.width() - _MARGIN, viewport.top() + _MARGIN)
        self.minimap.refresh()

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
