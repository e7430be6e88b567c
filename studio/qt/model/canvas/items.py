"""Graphics items of the canvas: layer nodes with ports, and the edges between them."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics, QPainter, QPainterPath, QPainterPathStroker, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QGraphicsPathItem, QStyle

from studio.core.graph.catalog import CATALOG
from studio.core.graph.infer import NodeInfo
from studio.core.graph.model import Edge, Node
from studio.core import formatting
from studio.qt.theme import CanvasColors

NODE_WIDTH = 200.0
NODE_HEIGHT = 76.0
HEADER = 22.0
PORT_RADIUS = 6.0
_DETAIL_LOD = 0.4  # below this zoom, nodes draw only their name (fast with 700+ nodes)
_TITLE_LOD = 0.15  # below this zoom, nodes draw as plain boxes
_TITLE_PIXELS = 10  # on-screen size of the name when it is all a node shows


class PortItem(QGraphicsEllipseItem):
    """An input (top edge) or output (bottom edge) connector; dragging it draws a wire."""

    def __init__(self, node: "NodeItem", is_input: bool, index: int = 0) -> None:
        r = PORT_RADIUS
        super().__init__(-r, -r, 2 * r, 2 * r, node)
        self.node, self.is_input, self.index = node, is_input, index
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setZValue(1)

    def mousePressEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.scene().start_wire(self, event.scenePos())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:
        self.scene().drag_wire(event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        self.scene().finish_wire(event.scenePos())


class NodeItem(QGraphicsItem):
    """One layer: header with its name, then type and key params, output shape and weight count."""

    def __init__(self, node: Node, colors: CanvasColors) -> None:
        super().__init__()
        self.node_id = node.id
        self.colors = colors
        self.info: NodeInfo | None = None
        self.edges: set[EdgeItem] = set()
        self.collapsed_into: QGraphicsItem | None = None  # the collapsed group drawn in its place
        self.group: QGraphicsItem | None = None  # the group item (collapsed or not) it belongs to
        self.inputs: list[PortItem] = []
        self.output: PortItem | None = None
        self._title = self._detail = ""
        self._category = ""
        self._shape_text = self._params_text = ""
        self._port_names: tuple[str, ...] = ()
        self._help = ""
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsScenePositionChanges)
        self.setAcceptHoverEvents(True)
        self.set_node(node, connected_inputs=0)

    # -- content -------------------------------------------------------------------------
    def set_node(self, node: Node, connected_inputs: int) -> None:
        """Refresh the texts and ports from the node (after a param edit or a rename)."""
        spec = CATALOG.get(node.type)
        self._category = spec.category if spec else ""
        self._title = node.name
        detail = formatting.key_params(spec.key_params if spec else (), node.params)
        self._detail = f"{node.type}  {detail}" if detail else node.type
        self._port_names = spec.port_names if spec else ()
        self._help = spec.help if spec else ""
        if not self.has_errors:
            self.setToolTip(self._help)
        self.set_port_count(port_count(node.type, connected_inputs))
        self.update()

    def set_port_count(self, count: int) -> None:
        """Show ``count`` input ports (variadic layers grow one as each is wired)."""
        if count != len(self.inputs):
            for port in self.inputs[count:]:
                port.setParentItem(None)
                if port.scene():
                    port.scene().removeItem(port)
            added = [PortItem(self, True, i) for i in range(len(self.inputs), count)]
            self.inputs = self.inputs[:count] + added
            self._style_ports(added)
            names = self._port_names
            for i, port in enumerate(self.inputs):
                port.setPos(_port_x(i, count), 0.0)
                port.setToolTip(names[i] if i < len(names) else f"input {i}")
            for edge in self.edges:
                edge.update_path()
        if self.output is None:
            self.output = PortItem(self, False)
            self.output.setPos(0.0, NODE_HEIGHT)
            self.output.setToolTip("output: drag onto another layer's input")
            self._style_ports([self.output])

    def set_info(self, info: NodeInfo) -> None:
        self.info = info
        self._shape_text = "→ " + formatting.shape(info.output_shape) if info.output_shape is not None else "→ ?"
        self._params_text = f"{formatting.count(info.params)} params" if info.params else "no weights"
        self.setToolTip("\n".join(info.errors) if info.errors else self._help)
        self.update()

    def short_title(self) -> str:
        """The name without its block's prefix (``0_conv`` in ``conv2_block1``), which the block's
        frame shows: what stays legible when zoomed out."""
        prefix = f"{self.group.group.title}_" if self.group is not None else ""
        return self._title[len(prefix):] if prefix and self._title.startswith(prefix) else self._title

    @property
    def has_errors(self) -> bool:
        return bool(self.info and self.info.errors)

    def input_port(self, index: int) -> PortItem | None:
        return self.inputs[index] if 0 <= index < len(self.inputs) else None

    # -- geometry & painting -------------------------------------------------------------
    def boundingRect(self) -> QRectF:
        m = PORT_RADIUS + 2
        return QRectF(-NODE_WIDTH / 2 - 2, -m, NODE_WIDTH + 4, NODE_HEIGHT + 2 * m)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(QRectF(-NODE_WIDTH / 2, 0, NODE_WIDTH, NODE_HEIGHT), 6, 6)
        return path

    def paint(self, painter: QPainter, option, widget=None) -> None:
        c = self.colors
        rect = QRectF(-NODE_WIDTH / 2, 0, NODE_WIDTH, NODE_HEIGHT)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        border = c.selected if selected else (c.error if self.has_errors else c.border)
        painter.setPen(QPen(border, 3 if selected or self.has_errors else 1))
        painter.setBrush(QBrush(c.error.lighter(185) if self.has_errors and not c.dark else
                                c.error.darker(300) if self.has_errors else c.node))
        painter.drawRoundedRect(rect, 6, 6)
        header = QRectF(rect.left() + 1, rect.top() + 1, rect.width() - 2, HEADER)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(c.error if self.has_errors else c.category(self._category))
        painter.drawRoundedRect(header, 5, 5)
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if lod < _DETAIL_LOD:
            if lod >= _TITLE_LOD:
                draw_big_title(painter, rect, self.short_title(), lod, c.text)
            return
        font = painter.font()
        bold = QFont(font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(c.text if not self.has_errors else Qt.GlobalColor.white)
        text_rect = header.adjusted(8, 0, -8, 0)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                         QFontMetrics(bold).elidedText(self._title, Qt.TextElideMode.ElideRight, int(text_rect.width())))
        painter.setFont(font)
        metrics = QFontMetrics(font)
        line = metrics.height()
        body = QRectF(rect.left() + 8, HEADER + 4, rect.width() - 16, line)
        painter.setPen(c.text)
        painter.drawText(body, Qt.AlignmentFlag.AlignLeft,
                         metrics.elidedText(self._detail, Qt.TextElideMode.ElideRight, int(body.width())))
        painter.setPen(c.muted_text)
        for text in (self._shape_text, self._params_text):
            body.translate(0, line + 1)
            painter.drawText(body, Qt.AlignmentFlag.AlignLeft,
                             metrics.elidedText(text, Qt.TextElideMode.ElideRight, int(body.width())))

    def itemChange(self, change, value):
        if change == QGraphicsItem.GraphicsItemChange.ItemScenePositionHasChanged:
            for edge in self.edges:
                edge.update_path()
            if self.group is not None:
                self.group.refresh()
        return super().itemChange(change, value)

    def apply_colors(self, colors: CanvasColors) -> None:
        self.colors = colors
        self._style_ports(self.ports())
        self.update()

    def _style_ports(self, ports: list[PortItem]) -> None:
        for port in ports:
            port.setBrush(self.colors.port)
            port.setPen(QPen(self.colors.node, 1.5))

    def ports(self) -> list[PortItem]:
        return self.inputs + ([self.output] if self.output else [])


class EdgeItem(QGraphicsPathItem):
    """A wire from ``src``'s output port into input ``port`` of ``dst``; selectable and deletable."""

    def __init__(self, edge: Edge, src: NodeItem, dst: NodeItem, colors: CanvasColors) -> None:
        super().__init__()
        self.edge, self.src, self.dst = edge, src, dst
        self.colors = colors
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)
        src.edges.add(self)
        dst.edges.add(self)
        self.update_path()

    def endpoints(self) -> tuple[QPointF, QPointF]:
        """Port to port; a node inside a collapsed group lends its end to the group node."""
        start = (self.src.collapsed_into or self.src).mapToScene(QPointF(0, NODE_HEIGHT))
        port = self.dst.input_port(self.edge.port)
        if self.dst.collapsed_into is not None:
            end = self.dst.collapsed_into.mapToScene(QPointF(0, 0))
        else:
            end = port.scenePos() if port else self.dst.mapToScene(QPointF(0, 0))
        return start, end

    def show_for_groups(self) -> None:
        """Hide a wire inside one collapsed group; redraw the others to their visible ends."""
        inner = self.src.collapsed_into is not None and self.src.collapsed_into is self.dst.collapsed_into
        self.setVisible(not inner)
        self.update_path()

    def update_path(self) -> None:
        self.setPath(wire_path(*self.endpoints()))

    def detach(self) -> None:
        self.src.edges.discard(self)
        self.dst.edges.discard(self)

    def shape(self) -> QPainterPath:
        stroker = QPainterPathStroker()
        stroker.setWidth(12)
        return stroker.createStroke(self.path())

    def paint(self, painter: QPainter, option, widget=None) -> None:
        selected = self.isSelected()
        painter.setPen(QPen(self.colors.selected if selected else self.colors.edge, 3.5 if selected else 2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path())


def wire_path(start: QPointF, end: QPointF) -> QPainterPath:
    """A smooth vertical S-curve between two port positions.

    A long wire between nodes of one column (a residual skip) bows out to the side so it does not
    run behind the nodes it skips.
    """
    path = QPainterPath(start)
    dy = end.y() - start.y()
    if dy > 2 * NODE_HEIGHT and abs(end.x() - start.x()) < NODE_WIDTH:
        side = NODE_WIDTH * 1.1
        path.cubicTo(QPointF(start.x() + side, start.y() + NODE_HEIGHT / 2),
                     QPointF(end.x() + side, end.y() - NODE_HEIGHT / 2), end)
        return path
    bend = max(40.0, abs(dy) / 2)
    path.cubicTo(QPointF(start.x(), start.y() + bend), QPointF(end.x(), end.y() - bend), end)
    return path


def draw_big_title(painter: QPainter, rect: QRectF, title: str, lod: float, colour) -> None:
    """The name alone, in a font that stays legible when the canvas is zoomed far out."""
    font = QFont(painter.font())
    font.setBold(True)
    font.setPixelSize(max(1, round(_TITLE_PIXELS / lod)))
    painter.setFont(font)
    painter.setPen(colour)
    text_rect = rect.adjusted(6, HEADER, -6, 0)
    painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter,
                     QFontMetrics(font).elidedText(title, Qt.TextElideMode.ElideMiddle, int(text_rect.width())))


def port_count(type: str, connected: int) -> int:
    """How many input ports a node of ``type`` shows when ``connected`` of them are wired."""
    spec = CATALOG.get(type)
    if spec is None:
        return max(1, connected)
    if spec.max_inputs is None:  # variadic (Add, Concatenate): always one free port
        return max(spec.min_inputs, connected + 1)
    return spec.max_inputs


def _port_x(index: int, count: int) -> float:
    usable = NODE_WIDTH - 40
    return 0.0 if count == 1 else -usable / 2 + usable * index / (count - 1)


class CursorNote(QGraphicsItem):
    """A tooltip-like note beside the cursor in the scene (why a wire is refused), the same size at
    any zoom."""

    OFFSET = QPointF(16.0, 18.0)  # screen pixels from the cursor, clear of the pointer

    def __init__(self, colors: CanvasColors) -> None:
        super().__init__()
        self.colors = colors
        self.text = ""
        self._rect = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(10)
        self.hide()

    def show_at(self, pos: QPointF, text: str) -> None:
        if text != self.text:
            self.prepareGeometryChange()
            self.text = text
            size = QFontMetrics(QFont()).boundingRect(text)
            self._rect = QRectF(self.OFFSET.x(), self.OFFSET.y(), size.width() + 16, size.height() + 8)
        self.setPos(pos)
        self.show()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setPen(QPen(self.colors.error, 1))
        painter.setBrush(self.colors.node)
        painter.drawRoundedRect(self._rect, 4, 4)
        painter.setPen(self.colors.text)
        painter.drawText(self._rect, Qt.AlignmentFlag.AlignCenter, self.text)
