"""A collapsible block on the canvas: a titled frame around its layers, or one node in their place."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyle

from studio.core import formatting
from studio.core.graph.groups import Group
from studio.qt.model.canvas.items import HEADER, NODE_HEIGHT, NODE_WIDTH, NodeItem, draw_big_title
from studio.qt.theme import CanvasColors

_MARGIN = 6.0  # with the header, less than the gap between rows (so no frame covers a node)
_CHEVRON = 22.0  # width of the clickable ▾/▸ at the left of the header
_DETAIL_LOD, _TITLE_LOD = 0.4, 0.15  # as for nodes: full detail, name only, plain box


class GroupItem(QGraphicsItem):
    """Expanded: a frame behind ``members`` whose header (▾) collapses it. Collapsed: a node-sized
    box (▸, layer count, output shape, weights) that stands for them; double-click expands it.

    Its origin is the top centre of the members (like a node's), so wires attach the same way.
    """

    def __init__(self, group: Group, members: list[NodeItem], colors: CanvasColors,
                 on_toggle: Callable[[str, bool], None]) -> None:
        super().__init__()
        self.group, self.members, self.colors = group, members, colors
        self._on_toggle = on_toggle
        self.collapsed = False
        self._rect = QRectF()
        self._refreshing = False
        for member in members:
            member.group = self
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges)
        self.setToolTip(f"{group.title}: {len(members)} layers — click ▾/▸ or double-click to collapse/expand")
        self.set_collapsed(False)

    @property
    def group_id(self) -> str:
        return self.group.id

    def set_collapsed(self, collapsed: bool) -> None:
        """Show the members (and this frame) or this one node in their place."""
        self.collapsed = collapsed
        flags = QGraphicsItem.GraphicsItemFlag
        self.setFlag(flags.ItemIsMovable, collapsed)
        self.setFlag(flags.ItemIsSelectable, collapsed)
        self.setZValue(0 if collapsed else -2)
        for member in self.members:
            member.collapsed_into = self if collapsed else None
            member.setVisible(not collapsed)
            if collapsed:
                member.setSelected(False)
        self.refresh()
        for edge in {edge for member in self.members for edge in member.edges}:
            edge.show_for_groups()

    def refresh(self) -> None:
        """Follow the members' positions (they may have moved, been added or removed)."""
        if self._refreshing or not self.members:
            return
        xs = [m.x() for m in self.members]
        ys = [m.y() for m in self.members]
        left, right = min(xs) - NODE_WIDTH / 2, max(xs) + NODE_WIDTH / 2
        top, bottom = min(ys), max(ys) + NODE_HEIGHT
        self.prepareGeometryChange()
        if self.collapsed:
            self._rect = QRectF(-NODE_WIDTH / 2, 0, NODE_WIDTH, NODE_HEIGHT)
        else:
            width = right - left
            self._rect = QRectF(-width / 2 - _MARGIN, -_MARGIN - HEADER, width + 2 * _MARGIN,
                                bottom - top + 2 * _MARGIN + HEADER)
        self._refreshing = True  # setPos below must not move the members again
        try:
            self.setPos((left + right) / 2, top)
        finally:
            self._refreshing = False
        self.update()

    # -- geometry & painting -------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        """Collapsed: the whole box. Expanded: only the header, so the frame's inside stays canvas
        (rubber-band selection, drops) and only the header toggles."""
        path = QPainterPath()
        path.addRect(self._rect if self.collapsed else self._header())
        return path

    def _header(self) -> QRectF:
        return QRectF(self._rect.left(), self._rect.top(), self._rect.width(), HEADER)

    def _chevron(self) -> QRectF:
        return QRectF(self._rect.left(), self._rect.top(), _CHEVRON, HEADER)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        c = self.colors
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        hue = c.category("group")
        if not self.collapsed:
            frame = QColor(hue)
            frame.setAlpha(40)
            painter.setPen(QPen(hue.darker(130), 1, Qt.PenStyle.DashLine))
            painter.setBrush(QBrush(frame))
            painter.drawRoundedRect(self._rect, 10, 10)
            self._paint_header(painter, f"▾ {self.group.title}", lod)
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setPen(QPen(c.selected if selected else hue.darker(150), 3 if selected else 2))
        painter.setBrush(QBrush(c.node))
        painter.drawRoundedRect(self._rect, 6, 6)
        self._paint_header(painter, f"▸ {self.group.title}", lod)
        if lod < _DETAIL_LOD:
            if lod >= _TITLE_LOD:
                draw_big_title(painter, self._rect, self.group.title, lod, c.text)
            return
        last = self.members[-1].info if self.members else None
        shape = formatting.shape(last.output_shape) if last and last.output_shape is not None else "?"
        weights = sum(m.info.params for m in self.members if m.info)
        metrics = QFontMetrics(painter.font())
        body = QRectF(self._rect.left() + 8, HEADER + 4, self._rect.width() - 16, metrics.height())
        for text, colour in ((f"{len(self.members)} layers (double-click to expand)", c.text),
                             (f"→ {shape}", c.muted_text), (f"{formatting.count(weights)} params", c.muted_text)):
            painter.setPen(colour)
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(body.width())))
            body.translate(0, metrics.height() + 1)

    def _paint_header(self, painter: QPainter, text: str, lod: float) -> None:
        header = self._header().adjusted(1, 1, -1, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colors.category("group"))
        painter.drawRoundedRect(header, 5, 5)
        if lod < _DETAIL_LOD:
            return
        painter.save()
        font = QFont(painter.font())
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(self.colors.text)
        area = header.adjusted(6, 0, -6, 0)
        painter.drawText(area, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(font).elidedText(text, Qt.TextElideMode.ElideRight, int(area.width())))
        painter.restore()

    # -- interaction ---------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and (
                not self.collapsed or self._chevron().contains(event.pos())):
            self._on_toggle(self.group_id, not self.collapsed)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if self.collapsed and event.button() == Qt.MouseButton.LeftButton:
            self._on_toggle(self.group_id, False)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged and self.collapsed:
            for edge in {edge for member in self.members for edge in member.edges}:
                edge.update_path()
        return super().itemChange(change, value)

    def apply_colors(self, colors: CanvasColors) -> None:
        self.colors = colors
        self.update()

    def member_ids(self) -> list[str]:
        return [m.node_id for m in self.members]
