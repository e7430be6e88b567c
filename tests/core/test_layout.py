"""The layered layout: data flows downwards, nothing overlaps, big graphs stay fast."""

import json
import random

from studio.core.graph.layout import layered_layout
from studio.core.graph.model import Edge, Graph
from studio.resources import models_dir

SPACING = 200.0


def _check(graph: Graph, positions: dict) -> None:
    assert set(positions) == set(graph.nodes)
    for edge in graph.edges:
        assert positions[edge.dst][1] > positions[edge.src][1]
    rows: dict[float, list[float]] = {}
    for x, y in positions.values():
        rows.setdefault(y, []).append(x)
    for xs in rows.values():
        xs.sort()
        assert all(b - a >= SPACING - 1e-6 for a, b in zip(xs, xs[1:]))


def test_resnet50_template_layout():
    graph = Graph.from_dict(json.loads((models_dir() / "resnet50.json").read_text())["graph"])
    positions = layered_layout(graph, x_spacing=SPACING)
    _check(graph, positions)
    # A residual net is mostly one column: the main path must not zig-zag across the canvas.
    assert len({round(x) for x, _ in positions.values()}) <= 4


def test_random_dag_of_700_nodes():
    rng = random.Random(3)
    graph = Graph()
    ids = [graph.add_node("Input", {"shape": [8]}).id]
    for _ in range(699):
        node = graph.add_node("Add")
        for src in rng.sample(ids[-20:], k=min(2, len(ids[-20:]))):
            graph.connect(src, node.id)
        ids.append(node.id)
    _check(graph, layered_layout(graph, x_spacing=SPACING))


def test_cycle_falls_back_to_a_grid():
    graph = Graph()
    a, b = graph.add_node("Dense"), graph.add_node("Dense")
    graph.edges += [Edge(a.id, b.id), Edge(b.id, a.id)]  # bypass connect(), which refuses cycles
    positions = layered_layout(graph, x_spacing=SPACING)
    assert set(positions) == {a.id, b.id} and positions[a.id] != positions[b.id]


def test_a_deep_graph_wraps_into_columns_of_the_wanted_aspect():
    graph = Graph.from_dict(json.loads((models_dir() / "resnet50.json").read_text())["graph"])
    positions = layered_layout(graph, x_spacing=SPACING, y_spacing=110.0, aspect=0.75)
    assert set(positions) == set(graph.nodes)
    xs, ys = [x for x, _ in positions.values()], [y for _, y in positions.values()]
    width, height = max(xs) - min(xs) + SPACING, max(ys) - min(ys) + 110.0
    assert 0.4 < height / width < 1.5  # one column would be ~20 times taller than wide
    # Nothing overlaps, and each edge runs down its column or on to the top of a later column.
    assert len({(round(x), round(y)) for x, y in positions.values()}) == len(positions)
    for edge in graph.edges:
        (x0, y0), (x1, y1) = positions[edge.src], positions[edge.dst]
        assert y1 > y0 or x1 > x0 + SPACING


def test_a_small_graph_is_not_wrapped():
    graph = Graph()
    previous = graph.add_node("Input", {"shape": [8]}).id
    for _ in range(8):
        node = graph.add_node("Dense").id
        graph.connect(previous, node)
        previous = node
    positions = layered_layout(graph, x_spacing=SPACING, aspect=0.75)
    assert len({x for x, _ in positions.values()}) == 1
