"""Blocks of a graph that the canvas can collapse into one node (residual, inception, ... blocks).

Four sources, in this order of preference:

- a nested model of an imported ``.keras`` file: its layers, named ``<nested model>.<layer>``
  (``keras_io``), are one group per top-level nested model, however large;
- a pretrained backbone: every layer named ``backbone_<name>`` (``studio.core.transfer``) is one
  group, however large, so an imported network folds into a single node;
- names: layers sharing a block prefix such as ``conv2_block1_`` (keras.applications ResNet and
  DenseNet, our templates), ``block1a_`` / ``block_1_`` (EfficientNet, MobileNetV2, VGG) or
  ``inception_3a_``, when those layers are connected to each other;
- structure: the region between a fork and the merge where all its branches meet again (a residual
  block without such names), innermost first.

Groups never overlap. Which groups are collapsed is view state, not part of the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from studio.core.graph.model import Graph, GraphError

MAX_GROUP = 64  # a fork whose branches meet only after more layers than this is not a block
BACKBONE_PREFIX = "backbone_"
NESTED_SEPARATOR = "."  # layer ``conv`` of nested model ``stem`` is imported as node ``stem.conv``
_BLOCK_NAME = re.compile(r"^((?:.*_)?block_?\d+[a-z]?|.+?_\d+[a-z])_.")


@dataclass(frozen=True)
class Group:
    """A collapsible block: ``id`` is stable across sessions (saved in the view state)."""

    id: str
    title: str
    members: tuple[str, ...]  # node ids, in topological order

    @property
    def last(self) -> str:
        """The member whose output leaves the block (the last one in data-flow order)."""
        return self.members[-1]


def find_groups(graph: Graph) -> list[Group]:
    """The collapsible blocks of ``graph``.

    Args:
        graph: any graph; a cyclic one has no groups.

    Returns:
        Non-overlapping groups in data-flow order: nested models first, then the backbone, named
        blocks and fork/merge regions.
    """
    try:
        order = graph.topological_order()
    except GraphError:
        return []
    position = {node_id: i for i, node_id in enumerate(order)}
    nested: dict[str, list[str]] = {}
    for node_id in order:
        head, separator, _ = graph.nodes[node_id].name.partition(NESTED_SEPARATOR)
        if separator and head:
            nested.setdefault(head, []).append(node_id)
    groups = [Group(f"nested:{head}", head, tuple(members)) for head, members in nested.items()
              if _connected(graph, members)]
    taken = {node_id for group in groups for node_id in group.members}
    backbone = [node_id for node_id in order
                if graph.nodes[node_id].name.startswith(BACKBONE_PREFIX) and node_id not in taken]
    if len(backbone) >= 2 and _connected(graph, backbone):
        groups.append(Group("backbone", "backbone", tuple(backbone)))
    taken = {node_id for group in groups for node_id in group.members}
    for group in _named_groups(graph, order):
        if taken.isdisjoint(group.members):
            groups.append(group)
            taken.update(group.members)
    for group in sorted(_fork_regions(graph, order), key=lambda g: len(g.members)):
        if taken.isdisjoint(group.members):
            groups.append(group)
            taken.update(group.members)
    return sorted(groups, key=lambda g: position[g.members[0]])


def _named_groups(graph: Graph, order: list[str]) -> list[Group]:
    by_prefix: dict[str, list[str]] = {}
    for node_id in order:
        match = _BLOCK_NAME.match(graph.nodes[node_id].name)
        if match:
            by_prefix.setdefault(match.group(1), []).append(node_id)
    return [Group(f"name:{prefix}", prefix, tuple(members)) for prefix, members in by_prefix.items()
            if 2 <= len(members) <= MAX_GROUP and _connected(graph, members)]


def _connected(graph: Graph, members: list[str]) -> bool:
    inside = set(members)
    seen, todo = {members[0]}, [members[0]]
    while todo:
        node_id = todo.pop()
        for other in graph.inputs(node_id) + graph.successors(node_id):
            if other in inside and other not in seen:
                seen.add(other)
                todo.append(other)
    return seen == inside


def _fork_regions(graph: Graph, order: list[str]) -> list[Group]:
    """For each fork, the layers up to (and including) the merge that every one of its paths reaches."""
    position = {node_id: i for i, node_id in enumerate(order)}
    regions = []
    for fork in order:
        if len(graph.out_edges(fork)) < 2:
            continue
        region = _region_after(graph, fork, position)
        if region:
            names = [graph.nodes[i].name for i in region]
            prefix = _common_prefix(names)
            title = prefix if len(prefix) >= 3 else f"{names[-1]} block"
            regions.append(Group(f"merge:{region[-1]}", title, tuple(region)))
    return regions


def _region_after(graph: Graph, fork: str, position: dict[str, int]) -> list[str] | None:
    """Nodes after ``fork`` up to its merge point, in topological order (None: no merge near)."""
    pending: dict[str, int] = {}  # node -> number of open edges into it
    for edge in graph.out_edges(fork):
        pending[edge.dst] = pending.get(edge.dst, 0) + 1
    region: list[str] = []
    while pending and len(region) < MAX_GROUP:
        node_id = min(pending, key=position.__getitem__)
        region.append(node_id)
        if len(pending) == 1:
            return region if len(region) >= 2 else None
        if not graph.out_edges(node_id):
            return None  # a branch ends (an output) before the branches meet
        del pending[node_id]
        for edge in graph.out_edges(node_id):
            pending[edge.dst] = pending.get(edge.dst, 0) + 1
    return None


def _common_prefix(names: list[str]) -> str:
    first, last = min(names), max(names)
    size = 0
    while size < min(len(first), len(last)) and first[size] == last[size]:
        size += 1
    return first[:size].rstrip("_")
