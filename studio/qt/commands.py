"""Undo commands: each one edits the *graph* (and the view positions), or replaces one non-graph
section of the project (``SetSection``); views redraw from the graph's events and the document's
signals, never from the command (the orange-canvas-core pattern)."""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from studio.core.graph.model import Edge, Graph, GraphEvent
from studio.qt.document import Document


def _add_nodes(doc: Document, nodes: list[dict], edges: list[Edge], positions: dict, order: list[str] | None = None) -> None:
    """Put ``nodes`` (Node.to_dict() form) back with their ids, names and edges."""
    doc.set_positions({n["id"]: positions[n["id"]] for n in nodes if n["id"] in positions})
    for node in nodes:
        doc.graph.add_node(node["type"], node["params"], name=node["name"], node_id=node["id"])
    if order:  # restore insertion order: it decides the order of model inputs and outputs
        graph = doc.graph
        graph.nodes = {i: graph.nodes[i] for i in order if i in graph.nodes} | graph.nodes
    for edge in edges:
        doc.graph.connect(edge.src, edge.dst, edge.port)


class AddNodes(QUndoCommand):
    """Add nodes with their edges (new layer, paste, duplicate, template block, append)."""

    def __init__(self, doc: Document, nodes: list[dict], edges: list[Edge], positions: dict, text: str) -> None:
        super().__init__(text)
        self.doc, self.nodes, self.edges = doc, copy.deepcopy(nodes), list(edges)
        self.positions = {k: tuple(v) for k, v in positions.items()}

    @classmethod
    def from_graph(cls, doc: Document, graph: Graph, positions: dict, text: str, edges: list[Edge] = ()) -> "AddNodes":
        return cls(doc, graph.to_dict()["nodes"], list(graph.edges) + list(edges), positions, text)

    def redo(self) -> None:
        _add_nodes(self.doc, self.nodes, self.edges, self.positions)
        self.doc.select([n["id"] for n in self.nodes])

    def undo(self) -> None:
        for node in reversed(self.nodes):
            self.doc.graph.remove_node(node["id"])
            self.doc.positions.pop(node["id"], None)


class RemoveItems(QUndoCommand):
    """Delete nodes (with every edge touching them) and single edges."""

    def __init__(self, doc: Document, node_ids: list[str], edges: list[Edge] = (), text: str = "Delete") -> None:
        super().__init__(text)
        self.doc = doc
        graph = doc.graph
        self.node_ids = [i for i in graph.nodes if i in set(node_ids)]
        self.order = list(graph.nodes)
        self.nodes = [graph.nodes[i].to_dict() for i in self.node_ids]
        touching = [e for e in graph.edges if e.src in self.node_ids or e.dst in self.node_ids]
        self.edges = touching + [e for e in edges if e not in touching]
        self.loose_edges = [e for e in edges if e not in touching]
        self.positions = {i: tuple(doc.positions[i]) for i in self.node_ids if i in doc.positions}

    def redo(self) -> None:
        for edge in self.loose_edges:
            self.doc.graph.disconnect(edge)
        for node_id in self.node_ids:
            self.doc.graph.remove_node(node_id)
            self.doc.positions.pop(node_id, None)

    def undo(self) -> None:
        _add_nodes(self.doc, self.nodes, self.edges, self.positions, self.order)


class Connect(QUndoCommand):
    def __init__(self, doc: Document, src: str, dst: str, port: int | None = None) -> None:
        super().__init__("Connect")
        self.doc, self.src, self.dst, self.port = doc, src, dst, port
        self.edge: Edge | None = None

    def redo(self) -> None:
        self.edge = self.doc.graph.connect(self.src, self.dst, self.port)

    def undo(self) -> None:
        self.doc.graph.disconnect(self.edge)


class SetParam(QUndoCommand):
    """Change one param; consecutive changes of the same param merge into one undo step."""

    ID = 1

    def __init__(self, doc: Document, node_id: str, key: str, value: Any) -> None:
        node = doc.graph.node(node_id)
        super().__init__(f"Set {node.name}.{key}")
        self.doc, self.node_id, self.key = doc, node_id, key
        self.had_key = key in node.params
        self.old, self.new = copy.deepcopy(node.params.get(key)), copy.deepcopy(value)

    def id(self) -> int:
        return self.ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParam) or (other.node_id, other.key) != (self.node_id, self.key):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.graph.set_param(self.node_id, self.key, self.new)

    def undo(self) -> None:
        if self.had_key:
            self.doc.graph.set_param(self.node_id, self.key, self.old)
        else:  # the graph has no "unset"; drop the key and announce it like set_param does
            del self.doc.graph.node(self.node_id).params[self.key]
            self.doc.graph.events.emit(GraphEvent("param_changed", node=self.node_id, key=self.key))


class Rename(QUndoCommand):
    def __init__(self, doc: Document, node_id: str, name: str) -> None:
        super().__init__(f"Rename to {name}")
        self.doc, self.node_id = doc, node_id
        self.old, self.new = doc.graph.node(node_id).name, name

    def redo(self) -> None:
        self.doc.graph.rename(self.node_id, self.new)

    def undo(self) -> None:
        self.doc.graph.rename(self.node_id, self.old)


class MoveNodes(QUndoCommand):
    def __init__(self, doc: Document, old: dict, new: dict, text: str = "Move") -> None:
        super().__init__(text)
        self.doc, self.old, self.new = doc, dict(old), dict(new)

    def redo(self) -> None:
        self.doc.set_positions(self.new)

    def undo(self) -> None:
        self.doc.set_positions(self.old)


class ReplaceGraph(QUndoCommand):
    """Swap the whole graph (open a template, import a .keras file), positions included; ``model``
    (the template or file name, which names the runs of this model: ``view["template"]``) with it."""

    def __init__(self, doc: Document, graph: Graph, positions: dict, text: str, model: str | None = None) -> None:
        super().__init__(text)
        self.doc = doc
        self.old_graph, self.new_graph = doc.graph.copy(), graph.copy()
        self.old_positions = copy.deepcopy(doc.positions)
        self.new_positions = {k: list(v) for k, v in positions.items()}
        self.old_model, self.new_model = doc.project.view.get("template"), model

    def _apply(self, graph: Graph, positions: dict, model: str | None) -> None:
        self.doc.positions.clear()
        self.doc.positions.update(copy.deepcopy(positions))
        self.doc.ensure_positions(graph)  # before the reset event, so the canvas draws the layout
        if self.new_model is not None:  # else the model keeps its name both ways
            if model is None:
                self.doc.project.view.pop("template", None)
            else:
                self.doc.project.view["template"] = model
        self.doc.graph.replace_with(graph)

    def redo(self) -> None:
        self._apply(self.new_graph, self.new_positions, self.new_model)

    def undo(self) -> None:
        self._apply(self.old_graph, self.old_positions, self.old_model)


class SetSection(QUndoCommand):
    """Replace a non-graph section of the project (``dataset``, ``augmentation``, ``training``...).

    Consecutive commands with the same non-empty ``merge_key`` (e.g. one slider drag) merge into
    one undo step.
    """

    ID = 2

    def __init__(self, doc: Document, section: str, value: Any, text: str, merge_key: str = "") -> None:
        super().__init__(text)
        self.doc, self.section, self.merge_key = doc, section, merge_key
        self.old, self.new = copy.deepcopy(getattr(doc.project, section)), copy.deepcopy(value)

    def id(self) -> int:
        return self.ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetSection) or (other.section, other.merge_key) != (self.section, self.merge_key):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.doc.set_section(self.section, self.new)

    def undo(self) -> None:
        self.doc.set_section(self.section, self.old)


# The area of each section's edits (others: Model); rl: the Train area's Reinforcement learning tab.
SECTION_AREAS = {"dataset": "Data", "augmentation": "Augment", "training": "Train", "rl": "Train"}


def command_area(command: QUndoCommand) -> str:
    """The work area whose edit ``command`` is (a macro of edits from several areas: Model)."""
    if isinstance(command, SetSection):
        return SECTION_AREAS.get(command.section, "Model")
    areas = {command_area(command.child(i)) for i in range(command.childCount())}
    return areas.pop() if len(areas) == 1 else "Model"
