"""The scene mirrors the document's graph through its signals; user gestures become undo commands."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene

from studio.core.graph.catalog import CATALOG
from studio.core.graph.groups import find_groups
from studio.core.graph.model import Edge, GraphEvent
from studio.qt.model.canvas.group_item import GroupItem
from studio.qt.model.canvas.items import CursorNote, EdgeItem, NodeItem, PortItem, port_count, wire_path
from studio.qt.commands import Connect, MoveNodes, RemoveItems
from studio.qt.document import Document
from studio.qt.theme import canvas_colors

_PICK = 10.0  # how close (scene units) a wire end must land to a port
_STRUCTURE_EVENTS = {"node_added", "node_removed", "edge_added", "edge_removed", "renamed"}


class GraphScene(QGraphicsScene):
    """Node and edge items for every node and edge of ``doc.graph``, kept in step with its events,
    plus a collapsible item per block of layers (``studio.core.graph.groups``).

    Signals:
        layout_changed: items appeared, disappeared or moved (the minimap redraws).
    """

    layout_changed = Signal()

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.colors = canvas_colors()
        self.node_items: dict[str, NodeItem] = {}
        self.edge_items: dict[Edge, EdgeItem] = {}
        self._wire: QGraphicsPathItem | None = None
        self._wire_anchor: PortItem | None = None
        self._rerouted: Edge | None = None
        self._rerouted_graph = None  # the graph without the picked-up wire, for checks while dragging
        self._hovered = None
        self._reason: str | None = None
        self._press_positions: dict[str, tuple[float, float]] = {}
        self._syncing_selection = False
        self.groups: dict[str, GroupItem] = {}
        self._group_key: list | None = None
        self._press_groups: dict[GroupItem, QPointF] = {}
        self._note: CursorNote | None = None
        self._refused_shown = False  # the status bar shows a refusal from the wire being dragged
        # Edits arrive one graph event at a time (a deletion is many): regroup once they settled.
        self._regroup_timer = QTimer(self, singleShot=True, interval=0)
        self._regroup_timer.timeout.connect(self.regroup)
        self.setBackgroundBrush(self.colors.background)
        doc.project_replaced.connect(self.rebuild)
        doc.graph_changed.connect(self._on_graph_event)
        doc.analysis_changed.connect(self._on_analysis)
        doc.positions_changed.connect(self._on_positions)
        doc.selection_changed.connect(self._on_doc_selection)
        self.selectionChanged.connect(self._on_scene_selection)
        self.rebuild()

    # -- mirroring the model -------------------------------------------------------------
    def rebuild(self) -> None:
        """Recreate every item (a new project, or a graph reset)."""
        self._syncing_selection = True
        self.clear()
        self.node_items.clear()
        self.edge_items.clear()
        self._wire = None
        self._note = None
        self.groups.clear()
        self._group_key = None
        self._syncing_selection = False
        for node_id in self.doc.graph.nodes:
            self._add_node(node_id)
        for edge in self.doc.graph.edges:
            self._add_edge(edge)
        self._on_analysis(self.doc.analysis)
        self.regroup()
        self._on_doc_selection(self.doc.selection)

    def _add_node(self, node_id: str) -> None:
        graph = self.doc.graph
        item = NodeItem(graph.nodes[node_id], self.colors)
        if node_id not in self.doc.positions:
            self.doc.positions[node_id] = list(self.doc.free_spot_below(graph.inputs(node_id)))
        item.setPos(*self.doc.positions[node_id])
        self.addItem(item)
        self.node_items[node_id] = item

    def _add_edge(self, edge: Edge) -> None:
        dst = self.node_items[edge.dst]
        dst.set_port_count(_needed_ports(self, edge.dst))
        item = EdgeItem(edge, self.node_items[edge.src], dst, self.colors)
        self.addItem(item)
        self.edge_items[edge] = item

    def _on_graph_event(self, event: GraphEvent) -> None:
        kind = event.kind
        if kind in _STRUCTURE_EVENTS:
            self._regroup_timer.start()
        if kind == "reset":
            self.rebuild()
        elif kind == "node_added":
            self._add_node(event.node)
        elif kind == "node_removed":
            item = self.node_items.pop(event.node)
            self.removeItem(item)
        elif kind == "edge_added":
            self._add_edge(event.edge)
        elif kind == "edge_removed":
            item = self.edge_items.pop(event.edge)
            item.detach()
            self.removeItem(item)
            if event.edge.dst in self.node_items:
                self.node_items[event.edge.dst].set_port_count(_needed_ports(self, event.edge.dst))
        elif kind in ("param_changed", "renamed"):
            node = self.doc.graph.nodes[event.node]
            self.node_items[event.node].set_node(node, len(self.doc.graph.in_edges(event.node)))

    def _on_analysis(self, analysis) -> None:
        """Repaint only the nodes whose shape, params or errors changed."""
        for node_id, info in analysis.nodes.items():
            item = self.node_items.get(node_id)
            if item is not None and item.info is not info and item.info != info:
                item.set_info(info)

    def _on_positions(self, node_ids: list) -> None:
        for node_id in node_ids:
            item = self.node_items.get(node_id)
            if item is not None and node_id in self.doc.positions:
                x, y = self.doc.positions[node_id]
                if (item.x(), item.y()) != (x, y):
                    item.setPos(x, y)
        self.layout_changed.emit()

    # -- collapsible groups ----------------------------------------------------------------
    @property
    def collapsed_ids(self) -> list[str]:
        """Ids of the collapsed groups: view state, saved in the project beside the positions."""
        return self.doc.project.view.setdefault("collapsed", [])

    def regroup(self) -> None:
        """Find the graph's blocks again and (re)make their items, keeping which are collapsed."""
        self._regroup_timer.stop()
        groups = [g for g in find_groups(self.doc.graph) if all(i in self.node_items for i in g.members)]
        key = [(g.id, g.members) for g in groups]
        if key != self._group_key:
            self._group_key = key
            self._make_group_items(groups)
        self.layout_changed.emit()

    def _make_group_items(self, groups: list) -> None:
        for item in self.groups.values():
            for member in item.members:
                member.group, member.collapsed_into = None, None
                member.setVisible(True)
            self.removeItem(item)
        self.groups = {}
        collapsed = set(self.collapsed_ids)
        for group in groups:
            item = GroupItem(group, [self.node_items[i] for i in group.members], self.colors, self.set_collapsed)
            self.addItem(item)
            self.groups[group.id] = item
            if group.id in collapsed:
                item.set_collapsed(True)
        for edge in self.edge_items.values():
            edge.show_for_groups()

    def set_collapsed(self, group_id: str, collapsed: bool) -> None:
        """Collapse or expand one group (view state: not an undo step, like zooming)."""
        item = self.groups.get(group_id)
        if item is None or item.collapsed == collapsed:
            return
        ids = self.collapsed_ids
        if collapsed and group_id not in ids:
            ids.append(group_id)
        elif not collapsed and group_id in ids:
            ids.remove(group_id)
        item.set_collapsed(collapsed)
        self.layout_changed.emit()

    def collapse_all(self, collapsed: bool = True) -> None:
        for group_id in list(self.groups):
            self.set_collapsed(group_id, collapsed)

    def group_of(self, node_id: str) -> GroupItem | None:
        item = self.node_items.get(node_id)
        return item.group if item is not None else None

    def shown_items(self) -> list:
        """The node and collapsed-group items on show (what fit-to-view frames)."""
        nodes = [i for i in self.node_items.values() if i.isVisible()]
        return nodes + [g for g in self.groups.values() if g.collapsed]

    def content_rect(self) -> QRectF:
        rect = QRectF()
        for item in self.shown_items():
            rect = rect.united(item.sceneBoundingRect())
        return rect

    # -- selection -----------------------------------------------------------------------
    def _selected_node_ids(self) -> list[str]:
        """Selected nodes; a selected collapsed group stands for all its layers."""
        ids = []
        for item in self.selectedItems():
            if isinstance(item, NodeItem):
                ids.append(item.node_id)
            elif isinstance(item, GroupItem):
                ids.extend(item.member_ids())
        return ids

    def _on_scene_selection(self) -> None:
        if not self._syncing_selection:
            self.doc.select(self._selected_node_ids())

    def _on_doc_selection(self, node_ids: list) -> None:
        wanted = set(node_ids)
        current = set(self._selected_node_ids())
        if wanted == current:
            return
        self._syncing_selection = True
        try:
            for item in self.selectedItems():
                item.setSelected(False)
            for node_id in node_ids:
                if node_id in self.node_items:
                    self.node_items[node_id].setSelected(True)
            for group in self.groups.values():
                if group.collapsed and wanted.issuperset(group.member_ids()):
                    group.setSelected(True)
        finally:
            self._syncing_selection = False

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    # -- theme ---------------------------------------------------------------------------
    def apply_colors(self, colors) -> None:
        self.colors = colors
        self.setBackgroundBrush(colors.background)
        for item in self.node_items.values():
            item.apply_colors(colors)
        for edge in self.edge_items.values():
            edge.colors = colors
            edge.update()
        for group in self.groups.values():
            group.apply_colors(colors)
        if self._note is not None:
            self._note.colors = colors

    # -- moving nodes (one undo step per drag) ---------------------------------------------
    def mousePressEvent(self, event) -> None:
        super().mousePressEvent(event)
        self._press_positions = {i.node_id: (i.x(), i.y()) for i in self.selectedItems() if isinstance(i, NodeItem)}
        self._press_groups = {i: i.pos() for i in self.selectedItems() if isinstance(i, GroupItem)}

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        moved_from, moved_to = {}, {}
        for node_id, old in self._press_positions.items():
            item = self.node_items.get(node_id)
            if item is not None and (item.x(), item.y()) != old:
                moved_from[node_id], moved_to[node_id] = old, (item.x(), item.y())
        for group, old in self._press_groups.items():
            delta = group.pos() - old
            if group.scene() is self and not delta.isNull():  # a collapsed group carries its layers
                for member in group.members:
                    moved_from[member.node_id] = (member.x(), member.y())
                    moved_to[member.node_id] = (member.x() + delta.x(), member.y() + delta.y())
        self._press_positions, self._press_groups = {}, {}
        if moved_to:
            self.doc.push(MoveNodes(self.doc, moved_from, moved_to))

    # -- wiring ----------------------------------------------------------------------------
    def start_wire(self, port: PortItem, pos: QPointF) -> None:
        """Begin dragging a wire from ``port``; an already wired input port picks its wire up (reroute)."""
        self._rerouted, self._rerouted_graph, self._hovered, self._reason = None, None, None, None
        if port.is_input:
            edge = next((e for e in self.doc.graph.in_edges(port.node.node_id) if e.port == port.index), None)
            if edge is not None:
                self._rerouted = edge
                self.edge_items[edge].hide()
                port = self.node_items[edge.src].output
        self._wire_anchor = port
        # The wire and the refusal note must not grow the scene while the mouse is down: the view
        # would scroll under the cursor and the drop would land beside the port aimed at.
        self.setSceneRect(self.sceneRect())
        self._wire = QGraphicsPathItem()
        self._wire.setPen(QPen(self.colors.selected, 2, Qt.PenStyle.DashLine))
        self._wire.setZValue(2)
        self.addItem(self._wire)
        self.drag_wire(pos)

    def drag_wire(self, pos: QPointF) -> None:
        """Follow the mouse; over a target the model refuses, the wire turns red and the reason shows
        beside the cursor (and in the status bar)."""
        if self._wire is None:
            return
        anchor = self._wire_anchor.scenePos()
        self._wire.setPath(wire_path(anchor, pos) if not self._wire_anchor.is_input else wire_path(pos, anchor))
        target = self._target_at(pos, self._wire_anchor)
        if target is not self._hovered:
            self._hovered = target
            self._reason = self._refusal(target) if target is not None else None
            colour = self.colors.error if self._reason else self.colors.selected
            self._wire.setPen(QPen(colour, 2, Qt.PenStyle.DashLine))
            if self._reason:
                self.doc.message.emit(f"Cannot connect: {self._reason}")
                self._refused_shown = True
        if self._reason:
            self.refusal_note().show_at(pos, f"Cannot connect: {self._reason}")
        elif self._note is not None:
            self._note.hide()

    def refusal_note(self) -> CursorNote:
        """The note beside the cursor that says why a wire is refused."""
        if self._note is None:
            self._note = CursorNote(self.colors)
            self.addItem(self._note)
        return self._note

    def finish_wire(self, pos: QPointF) -> None:
        """Drop the wire: connect (through the model's check), reroute, or disconnect a picked-up wire."""
        if self._wire is None:
            return
        self.removeItem(self._wire)
        self._wire = None
        if self._note is not None:
            self._note.hide()
        self.setSceneRect(QRectF())  # grows with the items again
        if self._refused_shown:  # a target passed on the way refused: that message is stale now
            self._refused_shown = False
            self.doc.message.emit("")
        anchor, rerouted = self._wire_anchor, self._rerouted
        if rerouted is not None and rerouted in self.edge_items:
            self.edge_items[rerouted].show()
        target = self._target_at(pos, anchor)
        if target is None:
            if rerouted is not None:
                self.doc.push(RemoveItems(self.doc, [], [rerouted], "Disconnect"))
            return
        src, dst, port = self._connection(target)
        if rerouted is not None and (src, dst) == (rerouted.src, rerouted.dst) and port in (None, rerouted.port):
            return
        reason = self._refusal(target)
        if reason:
            self.doc.message.emit(f"Not connected: {reason}")
            return
        if rerouted is None:
            self.doc.push(Connect(self.doc, src, dst, port))
            return
        self.doc.undo_stack.beginMacro("Reroute connection")
        self.doc.push(RemoveItems(self.doc, [], [rerouted], "Disconnect"))
        self.doc.push(Connect(self.doc, src, dst, port))
        self.doc.undo_stack.endMacro()

    def _connection(self, target) -> tuple[str, str, int | None]:
        """(src, dst, port) that dropping the wire on ``target`` asks for."""
        anchor = self._wire_anchor
        if anchor.is_input:
            return target.node.node_id, anchor.node.node_id, anchor.index
        dst = target.node.node_id if isinstance(target, PortItem) else target.node_id
        port = target.index if isinstance(target, PortItem) else None
        if CATALOG[self.doc.graph.nodes[dst].type].max_inputs is None:
            port = None  # variadic (Add, Concatenate): fill the first free port, leaving no gap
        return anchor.node.node_id, dst, port

    def _refusal(self, target) -> str | None:
        """The model's reason to refuse the wire onto ``target`` (a picked-up wire does not count)."""
        src, dst, port = self._connection(target)
        graph = self.doc.graph
        if self._rerouted is not None:
            if self._rerouted_graph is None:
                self._rerouted_graph = graph.copy()
                self._rerouted_graph.disconnect(self._rerouted)
            graph = self._rerouted_graph
        return graph.check_connect(src, dst, port)

    def _target_at(self, pos: QPointF, anchor: PortItem):
        """The port of the opposite kind (or, from an output, the node) under ``pos``."""
        area = QRectF(pos.x() - _PICK, pos.y() - _PICK, 2 * _PICK, 2 * _PICK)
        node_hit = None
        for item in self.items(area):
            if isinstance(item, PortItem) and item.is_input != anchor.is_input and item.node is not anchor.node:
                return item
            if isinstance(item, NodeItem) and node_hit is None and item is not anchor.node:
                node_hit = item
        if node_hit is None:
            return None
        return node_hit if not anchor.is_input else node_hit.output


def _needed_ports(scene: GraphScene, node_id: str) -> int:
    return port_count(scene.doc.graph.nodes[node_id].type, len(scene.doc.graph.in_edges(node_id)))
