"""Automatic layered (top-to-bottom) layout of a graph, in pure Python.

A simplified Sugiyama layout: nodes go on layers by longest path from the inputs, long edges get
virtual points so crossings can be counted on every layer, a few barycenter sweeps order each
layer, then nodes slide toward their neighbours without overlapping. Fast enough for 1000 nodes.
A deep graph (ResNet-50 is ~170 layers deep and 2 wide) can be wrapped into side-by-side columns,
cut where a layer holds a single node, so that it fits a screen at a readable scale.
"""

from __future__ import annotations

from studio.core.graph.model import Graph, GraphError

_SWEEPS = 4
_MIN_WRAPPED_DEPTH = 16  # shallower graphs stay in one column: they read well as they are


def layered_layout(graph: Graph, x_spacing: float = 230.0, y_spacing: float = 120.0,
                   aspect: float | None = None) -> dict[str, tuple[float, float]]:
    """Positions ``{node_id: (x, y)}`` with inputs on top and data flowing downwards.

    Args:
        graph: the graph to lay out (a cyclic graph falls back to a grid).
        x_spacing: distance between the centres of neighbours on one layer.
        y_spacing: distance between layers.
        aspect: wanted height / width of the whole layout (e.g. the screen's): a graph much taller
            than that continues in further columns to the right, each read top to bottom.
            None keeps one column.
    """
    try:
        order = graph.topological_order()
    except GraphError:
        return _grid(list(graph.nodes), x_spacing, y_spacing)
    rank = _longest_path_ranks(graph, order)
    layers, up, down = _with_virtual_points(graph, order, rank)
    _order_layers(layers, up, down)
    xs = _assign_x(layers, up, down, x_spacing)
    bands = _bands(layers, xs, x_spacing, y_spacing, aspect) if aspect else [(0, len(layers))]
    positions = {}
    left = 0.0
    for start, stop in bands:
        band_xs = [xs[v] for layer in layers[start:stop] for v in layer]
        shift = left - min(band_xs, default=0.0) if len(bands) > 1 else 0.0
        for rank_index in range(start, stop):
            for v in layers[rank_index]:
                if isinstance(v, str):
                    positions[v] = (xs[v] + shift, (rank_index - start) * y_spacing)
        left += max(band_xs, default=0.0) - min(band_xs, default=0.0) + 2 * x_spacing
    return positions


def _bands(layers: list[list], xs: dict, x_spacing: float, y_spacing: float, aspect: float) -> list[tuple[int, int]]:
    """Rank ranges ``[(start, stop)]``, one per column, so the columns together have about ``aspect``
    (height / width); each cut follows a layer with one vertex when one is near."""
    depth = len(layers)
    width = max(xs.values(), default=0.0) - min(xs.values(), default=0.0) + 2 * x_spacing
    columns = int((depth * y_spacing / (aspect * width)) ** 0.5)
    if columns <= 1 or depth < _MIN_WRAPPED_DEPTH:
        return [(0, depth)]
    height = -(-depth // columns)
    cuts, start = [], 0
    while depth - start > height:
        target = start + height
        # Start the next column just after a single-node layer: a block (between a fork and its
        # merge) then stays whole in one column.
        near = [r for r in range(max(start + height // 2, target - height // 4), target + 1) if len(layers[r - 1]) == 1]
        cut = max(near, default=target)
        cuts.append((start, cut))
        start = cut
    return cuts + [(start, depth)]


def _grid(ids: list[str], x_spacing: float, y_spacing: float) -> dict[str, tuple[float, float]]:
    columns = max(1, int(len(ids) ** 0.5))
    return {node_id: ((i % columns) * x_spacing, (i // columns) * y_spacing) for i, node_id in enumerate(ids)}


def _longest_path_ranks(graph: Graph, order: list[str]) -> dict[str, int]:
    rank = {node_id: 0 for node_id in order}
    for node_id in order:
        for nxt in graph.successors(node_id):
            rank[nxt] = max(rank[nxt], rank[node_id] + 1)
    return rank


def _with_virtual_points(graph: Graph, order: list[str], rank: dict[str, int]):
    """Layers of vertices (node ids, or ``(edge_index, step)`` tuples for virtual points) and the
    up/down neighbour lists of every vertex, with each long edge split into unit-length hops."""
    depth = max(rank.values(), default=-1) + 1
    layers: list[list] = [[] for _ in range(depth)]
    up: dict = {}
    down: dict = {}
    for node_id in order:
        layers[rank[node_id]].append(node_id)
        up[node_id], down[node_id] = [], []
    for index, edge in enumerate(sorted(graph.edges, key=lambda e: (e.dst, e.port))):
        previous = edge.src
        for step in range(rank[edge.src] + 1, rank[edge.dst]):
            point = (index, step)
            layers[step].append(point)
            up[point], down[point] = [previous], []
            down[previous].append(point)
            previous = point
        up[edge.dst].append(previous)
        down[previous].append(edge.dst)
    return layers, up, down


def _order_layers(layers: list[list], up: dict, down: dict) -> None:
    """Reorder each layer in place by the mean position of its neighbours (barycenter sweeps)."""
    for sweep in range(_SWEEPS):
        downwards = sweep % 2 == 0
        sequence = range(1, len(layers)) if downwards else range(len(layers) - 2, -1, -1)
        for i in sequence:
            fixed = layers[i - 1] if downwards else layers[i + 1]
            position = {v: k for k, v in enumerate(fixed)}
            neighbours = up if downwards else down
            current = {v: k for k, v in enumerate(layers[i])}

            def barycenter(v, position=position, neighbours=neighbours, current=current):
                linked = [position[n] for n in neighbours[v] if n in position]
                return sum(linked) / len(linked) if linked else current[v]

            layers[i].sort(key=barycenter)


def _assign_x(layers: list[list], up: dict, down: dict, spacing: float) -> dict:
    """Centre each vertex under its neighbours while keeping ``spacing`` between neighbours."""
    xs = {}
    for layer in layers:
        offset = (len(layer) - 1) / 2
        for k, v in enumerate(layer):
            xs[v] = (k - offset) * spacing
    for sweep in range(_SWEEPS):
        downwards = sweep % 2 == 0
        neighbours = up if downwards else down
        sequence = layers[1:] if downwards else layers[-2::-1]
        for layer in sequence:
            wanted = []
            for v in layer:
                linked = [xs[n] for n in neighbours[v]]
                wanted.append(sum(linked) / len(linked) if linked else xs[v])
            for v, x in zip(layer, _spread(wanted, spacing)):
                xs[v] = x
    return xs


def _spread(wanted: list[float], spacing: float) -> list[float]:
    """Positions as close as possible to ``wanted`` (same order) with at least ``spacing`` between."""
    placed = []
    for x in wanted:
        placed.append(x if not placed else max(x, placed[-1] + spacing))
    # Pushing only rightwards drifts a crowded layer; shift it back so its mean error is zero.
    shift = sum(w - p for w, p in zip(wanted, placed)) / len(placed) if placed else 0.0
    return [p + shift for p in placed]
