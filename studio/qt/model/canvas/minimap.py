"""An overview of the whole model in a corner of the canvas; click or drag in it to move the view."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsView, QWidget

_PAD = 6.0


class Minimap(QWidget):
    """Every shown node as a small box and the visible part of the canvas as a frame.

    It hides itself while the whole model is in view (there is nothing to navigate then).
    """

    def __init__(self, view: QGraphicsView) -> None:
        super().__init__(view)
        self.view = view
        self.setFixedSize(180, 130)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._content = QRectF()

    def refresh(self) -> None:
        """Redraw after the view moved or zoomed, or the model changed shape."""
        if self.view.scene() is None:  # the window is closing
            return
        self._content = self.view.scene().content_rect()
        shown = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        self.setVisible(not self._content.isEmpty() and not shown.contains(self._content))
        self.update()

    def _frame(self) -> QRectF:
        """The scene area the minimap shows: the content and the visible part together."""
        shown = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        return self._content.united(shown) if not self._content.isEmpty() else shown

    def _scale(self, frame: QRectF) -> float:
        return min((self.width() - 2 * _PAD) / max(frame.width(), 1.0),
                   (self.height() - 2 * _PAD) / max(frame.height(), 1.0))

    def to_scene(self, point: QPointF) -> QPointF:
        frame = self._frame()
        scale = self._scale(frame)
        return QPointF(frame.left() + (point.x() - _PAD) / scale, frame.top() + (point.y() - _PAD) / scale)

    def paintEvent(self, event) -> None:
        frame = self._frame()
        scale = self._scale(frame)
        colors = self.view.scene().colors
        painter = QPainter(self)
        background = QColor(colors.background)
        background.setAlpha(230)
        painter.fillRect(self.rect(), background)
        painter.setPen(QPen(colors.border, 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

        def mapped(rect: QRectF) -> QRectF:
            return QRectF(_PAD + (rect.left() - frame.left()) * scale, _PAD + (rect.top() - frame.top()) * scale,
                          max(rect.width() * scale, 1.0), max(rect.height() * scale, 1.0))

        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colors.muted_text)
        for item in self.view.scene().shown_items():
            painter.drawRect(mapped(item.sceneBoundingRect()))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(colors.selected, 2))
        painter.drawRect(mapped(self.view.mapToScene(self.view.viewport().rect()).boundingRect()))

    def mousePressEvent(self, event) -> None:
        self.view.centerOn(self.to_scene(event.position()))
        event.accept()

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self.view.centerOn(self.to_scene(event.position()))
        event.accept()
