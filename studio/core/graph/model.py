"""The model graph: nodes (Keras layers with their config), edges between ports, and events.

A node's ``params`` are exactly the Keras layer's config keys (without ``name``, which lives on the
node so it can map back from the built Keras model). View state (positions) never lives here.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable

from studio.core.events import Signal


MAX_NODES = 10_000  # far above real models; keeps every file judged in bounded time


class GraphError(ValueError):
    """An edit that would make the graph invalid in a way the model refuses (cycle, bad port)."""


def new_id() -> str:
    """A stable, unique node id that survives saving and loading."""
    return uuid.uuid4().hex[:12]


@dataclass
class Node:
    id: str
    type: str
    name: str
    params: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "name": self.name, "params": copy.deepcopy(self.params)}


@dataclass(frozen=True)
class Edge:
    """Data flows from ``src``'s output into input ``port`` of ``dst``."""

    src: str
    dst: str
    port: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "port": self.port}


@dataclass(frozen=True)
class GraphEvent:
    """What changed: ``kind`` is one of node_added, node_removed, edge_added, edge_removed,
    param_changed, renamed, reset; ``node``/``edge``/``key`` say where."""

    kind: str
    node: str | None = None
    edge: Edge | None = None
    key: str | None = None


class Graph:
    """A directed acyclic graph of layer nodes. Every mutation emits ``events``."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []  # edit through connect/disconnect: they keep the index below
        self.events = Signal()
        self._adjacency: tuple[dict[str, list[Edge]], dict[str, list[Edge]]] | None = None

    def _index(self) -> tuple[dict[str, list[Edge]], dict[str, list[Edge]]]:
        """Incoming (sorted by port) and outgoing edges per node, rebuilt after edge changes."""
        if self._adjacency is None:
            incoming: dict[str, list[Edge]] = {}
            outgoing: dict[str, list[Edge]] = {}
            for edge in self.edges:
                incoming.setdefault(edge.dst, []).append(edge)
                outgoing.setdefault(edge.src, []).append(edge)
            for edges in incoming.values():
                edges.sort(key=lambda e: e.port)
            self._adjacency = (incoming, outgoing)
        return self._adjacency

    # -- queries -------------------------------------------------------------------------
    def node(self, node_id: str) -> Node:
        """The node with id ``node_id``.

        Raises:
            GraphError: no node has that id.
        """
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(f"No node with id {node_id!r}") from None

    def by_name(self, name: str) -> Node:
        """The node whose layer name is ``name``.

        Raises:
            GraphError: no node has that name.
        """
        for node in self.nodes.values():
            if node.name == name:
                return node
        raise GraphError(f"No node named {name!r}")

    def in_edges(self, node_id: str) -> list[Edge]:
        return list(self._index()[0].get(node_id, ()))

    def out_edges(self, node_id: str) -> list[Edge]:
        return list(self._index()[1].get(node_id, ()))

    def inputs(self, node_id: str) -> list[str]:
        """Ids of the nodes feeding ``node_id``, ordered by port."""
        return [e.src for e in self.in_edges(node_id)]

    def successors(self, node_id: str) -> list[str]:
        return [e.dst for e in self.out_edges(node_id)]

    def input_nodes(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.type == "Input"]

    def output_nodes(self) -> list[str]:
        """Model outputs: nodes that feed nothing (an isolated Input is not an output)."""
        sources = self._index()[1]
        return [n.id for n in self.nodes.values() if n.id not in sources and n.type != "Input"]

    def reaches(self, start: str, goal: str) -> bool:
        """True if a path leads from ``start`` to ``goal``."""
        stack, seen = [start], set()
        while stack:
            current = stack.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                stack.extend(self.successors(current))
        return False

    def topological_order(self) -> list[str]:
        """Node ids so every node comes after its inputs; raises GraphError on a cycle.

        Returns:
            Every node id once; nodes with no inputs first, in insertion order.

        Raises:
            GraphError: the edges form a cycle (the message names the layers on it).
        """
        indegree = {node_id: 0 for node_id in self.nodes}
        for edge in self.edges:
            indegree[edge.dst] += 1
        ready = [node_id for node_id, deg in indegree.items() if deg == 0]
        order: list[str] = []
        while ready:
            current = ready.pop(0)
            order.append(current)
            for nxt in self.successors(current):
                indegree[nxt] -= 1
                if indegree[nxt] == 0:
                    ready.append(nxt)
        if len(order) != len(self.nodes):
            stuck = [self.nodes[i].name for i in self.nodes if i not in order]
            raise GraphError(f"The graph has a cycle through: {', '.join(stuck)}")
        return order

    def unique_name(self, base: str) -> str:
        """A layer name not used yet in this graph, e.g. ``conv2d_3``."""
        taken = {n.name for n in self.nodes.values()}
        if base not in taken:
            return base
        index = 1
        while f"{base}_{index}" in taken:
            index += 1
        return f"{base}_{index}"

    # -- edits ---------------------------------------------------------------------------
    def add_node(
        self,
        type: str,
        params: dict[str, Any] | None = None,
        name: str | None = None,
        node_id: str | None = None,
    ) -> Node:
        """Add a node of catalog ``type``; missing params take the catalog defaults.

        Args:
            type: a catalog layer type, e.g. ``"Conv2D"`` or ``"ops.add"``.
            params: values that override the catalog defaults (deep-copied).
            name: the layer name wanted; made unique with a ``_1``, ``_2``... suffix. Default: the
                snake-case type name.
            node_id: the id to use; default a new random one.

        Returns:
            The new node; a ``node_added`` event has been emitted.

        Raises:
            UnknownLayerError: ``type`` is not in the catalog.
            GraphError: ``node_id`` is already used.
        """
        from studio.core.graph.catalog import default_params, snake_name

        merged = default_params(type)
        merged.update(copy.deepcopy(params or {}))
        node = Node(
            id=node_id or new_id(),
            type=type,
            name=self.unique_name(name or snake_name(type)),
            params=merged,
        )
        if node.id in self.nodes:
            raise GraphError(f"Node id {node.id!r} already exists")
        self.nodes[node.id] = node
        self.events.emit(GraphEvent("node_added", node=node.id))
        return node

    def remove_node(self, node_id: str) -> None:
        """Remove a node and its edges (an ``edge_removed`` event per edge, then ``node_removed``).

        Raises:
            GraphError: no node has that id.
        """
        self.node(node_id)
        for edge in [e for e in self.edges if node_id in (e.src, e.dst)]:
            self.disconnect(edge)
        del self.nodes[node_id]
        self.events.emit(GraphEvent("node_removed", node=node_id))

    def check_connect(self, src: str, dst: str, port: int | None = None) -> str | None:
        """Why ``src -> dst`` cannot be connected, or None if it can.

        Args:
            src: id of the feeding node.
            dst: id of the node fed.
            port: the input slot of ``dst`` wanted; None for the next free one.

        Returns:
            A sentence for the user (unknown node, self-loop, an Input as target, a cycle, a taken
            port, too many inputs...), or None.
        """
        from studio.core.graph.catalog import get_spec

        if src not in self.nodes or dst not in self.nodes:
            return "Both ends of a connection must be nodes of this graph."
        if src == dst:
            return "A layer cannot feed itself."
        spec = get_spec(self.nodes[dst].type)
        if spec.max_inputs == 0:
            return f"{self.nodes[dst].name} is an Input: nothing can feed it."
        # One node may feed several ports of a multi-input layer (self-attention: query = value = key).
        if spec.max_inputs == 1 and any(e.dst == dst for e in self.out_edges(src)):
            return f"{self.nodes[src].name} already feeds {self.nodes[dst].name}."
        if self.reaches(dst, src):
            return f"Connecting {self.nodes[src].name} to {self.nodes[dst].name} would create a cycle."
        taken = {e.port for e in self.in_edges(dst)}
        if port is not None and port in taken:
            return f"Input {port} of {self.nodes[dst].name} is already connected."
        if spec.max_inputs is not None and len(taken) >= spec.max_inputs:
            return f"{self.nodes[dst].name} ({spec.type}) takes at most {spec.max_inputs} input(s)."
        return None

    def connect(self, src: str, dst: str, port: int | None = None) -> Edge:
        """Connect ``src`` into ``dst`` (next free port unless given); refuses cycles.

        Args:
            src: id of the feeding node.
            dst: id of the node fed.
            port: the input slot of ``dst``; None for the lowest free one.

        Returns:
            The new edge; an ``edge_added`` event has been emitted.

        Raises:
            GraphError: with ``check_connect``'s reason when the edge is not allowed.
        """
        reason = self.check_connect(src, dst, port)
        if reason:
            raise GraphError(reason)
        if port is None:
            taken = {e.port for e in self.in_edges(dst)}
            port = next(i for i in range(len(taken) + 1) if i not in taken)
        edge = Edge(src, dst, port)
        self.edges.append(edge)
        if self._adjacency is not None:  # keep the index instead of rebuilding it: imports stay linear
            incoming, outgoing = self._adjacency
            incoming.setdefault(dst, []).append(edge)
            incoming[dst].sort(key=lambda e: e.port)
            outgoing.setdefault(src, []).append(edge)
        self.events.emit(GraphEvent("edge_added", edge=edge))
        return edge

    def disconnect(self, edge: Edge) -> None:
        self.edges.remove(edge)
        self._adjacency = None
        self.events.emit(GraphEvent("edge_removed", edge=edge))

    def set_param(self, node_id: str, key: str, value: Any) -> None:
        self.node(node_id).params[key] = copy.deepcopy(value)
        self.events.emit(GraphEvent("param_changed", node=node_id, key=key))

    def rename(self, node_id: str, name: str) -> None:
        """Give a node a new layer name (surrounding spaces stripped); emits ``renamed``.

        Raises:
            GraphError: the name is empty or used by another node, or no node has that id.
        """
        name = name.strip()
        if not name or any(n.name == name for n in self.nodes.values() if n.id != node_id):
            raise GraphError(f"Layer name {name!r} is empty or already used")
        self.node(node_id).name = name
        self.events.emit(GraphEvent("renamed", node=node_id))

    def replace_with(self, other: Graph) -> None:
        """Take ``other``'s nodes and edges (one ``reset`` event)."""
        self.nodes = {k: copy.deepcopy(v) for k, v in other.nodes.items()}
        self.edges = list(other.edges)
        self._adjacency = None
        self.events.emit(GraphEvent("reset"))

    # -- (de)serialization ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        """Rebuild a graph; raises GraphError naming the bad entry for malformed or oversized data.

        Args:
            data: ``{"nodes": [{"id", "type", "name", "params"}...], "edges": [{"src", "dst", "port"}...]}``
                as written by ``to_dict``. Layer types are not checked against the catalog here.

        Returns:
            A new graph; no events are emitted.

        Raises:
            GraphError: a missing or mistyped field, a duplicate id, an edge to an unknown node, or more
                than ``MAX_NODES`` layers.
        """
        from studio.core.fileio import json_value_problem

        graph = cls()
        if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
            raise GraphError("graph: expected an object with a 'nodes' list")
        if not isinstance(data.get("edges", []), list):
            raise GraphError("graph: 'edges' should be a list")
        if len(data["nodes"]) > MAX_NODES:
            raise GraphError(f"graph: {len(data['nodes']):,} layers; DL Studio handles at most {MAX_NODES:,}")
        for index, raw in enumerate(data["nodes"]):
            where = f"graph.nodes[{index}]"
            if not isinstance(raw, dict):
                raise GraphError(f"{where}: expected an object")
            for key in ("id", "type", "name"):
                if not isinstance(raw.get(key), str) or not raw[key]:
                    raise GraphError(f"{where}: {key!r} is missing or not text")
            params = raw.get("params", {})
            if not isinstance(params, dict):
                raise GraphError(f"{where}: 'params' should be an object")
            problem = json_value_problem(params)
            if problem:
                raise GraphError(f"{where}.params: {problem}")
            node = Node(id=raw["id"], type=raw["type"], name=raw["name"], params=dict(params))
            if node.id in graph.nodes:
                raise GraphError(f"{where}: duplicate id {node.id!r}")
            graph.nodes[node.id] = node
        for index, raw in enumerate(data.get("edges", [])):
            where = f"graph.edges[{index}]"
            if not isinstance(raw, dict):
                raise GraphError(f"{where}: expected an object")
            src, dst, port = raw.get("src"), raw.get("dst"), raw.get("port", 0)
            if not isinstance(src, str) or not isinstance(dst, str):
                raise GraphError(f"{where}: 'src' and 'dst' must be node ids")
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < MAX_NODES:
                raise GraphError(f"{where}: 'port' must be a whole number from 0")
            if src not in graph.nodes or dst not in graph.nodes:
                raise GraphError(f"{where}: refers to a node that does not exist")
            graph.edges.append(Edge(src, dst, port))
        return graph

    def copy(self) -> Graph:
        return Graph.from_dict(self.to_dict())

    def subgraph(self, node_ids: Iterable[str]) -> Graph:
        """A copy holding only ``node_ids`` and the edges between them."""
        keep = set(node_ids)
        data = self.to_dict()
        data["nodes"] = [n for n in data["nodes"] if n["id"] in keep]
        data["edges"] = [e for e in data["edges"] if e["src"] in keep and e["dst"] in keep]
        return Graph.from_dict(data)


def fresh_copy(graph: Graph, taken_names: set[str]) -> tuple[Graph, dict[str, str]]:
    """``graph`` with new node ids and names not in ``taken_names``; returns it and old->new ids.

    Args:
        graph: the graph to copy (left unchanged), e.g. a template or the clipboard.
        taken_names: layer names already used where the copy will be pasted.

    Returns:
        ``(copy, id_map)``: the copy, whose clashing names get a ``_1``, ``_2``... suffix, and a dict
        from each old node id to its new one.
    """
    copy = Graph()
    id_map: dict[str, str] = {}
    taken = set(taken_names)
    for node in graph.nodes.values():
        name, index = node.name, 1
        while name in taken:
            name, index = f"{node.name}_{index}", index + 1
        taken.add(name)
        id_map[node.id] = copy.add_node(node.type, node.params, name=name, node_id=new_id()).id
    for edge in graph.edges:
        copy.connect(id_map[edge.src], id_map[edge.dst], edge.port)
    return copy, id_map
