import pytest

from studio.core.graph.model import Graph, GraphError


def chain(*types):
    graph = Graph()
    ids = [graph.add_node(t).id for t in types]
    for a, b in zip(ids, ids[1:]):
        graph.connect(a, b)
    return graph, ids


def test_nodes_get_catalog_defaults_and_unique_keras_names():
    graph = Graph()
    first = graph.add_node("Conv2D")
    second = graph.add_node("Conv2D", {"filters": 8})
    assert first.params["filters"] == 32 and second.params["filters"] == 8
    assert (first.name, second.name) == ("conv2d", "conv2d_1")
    assert first.id != second.id


def test_connect_refuses_cycles_self_loops_and_extra_inputs():
    graph, (inp, a, b) = chain("Input", "Dense", "Dense")
    with pytest.raises(GraphError, match="cycle"):
        graph.connect(b, a)
    with pytest.raises(GraphError, match="feed itself"):
        graph.connect(a, a)
    with pytest.raises(GraphError, match="at most 1"):
        graph.connect(inp, b)
    with pytest.raises(GraphError, match="Input"):
        graph.connect(a, inp)


def test_merge_nodes_take_ports_in_order_and_outputs_are_sinks():
    graph, (inp, a) = chain("Input", "Dense")
    b = graph.add_node("Dense").id
    graph.connect(inp, b)
    add = graph.add_node("Add").id
    graph.connect(a, add)
    graph.connect(b, add)
    assert graph.inputs(add) == [a, b]
    assert graph.output_nodes() == [add]
    assert graph.topological_order()[-1] == add


def test_events_describe_each_edit():
    graph = Graph()
    seen = []
    graph.events.connect(lambda e: seen.append(e.kind))
    a = graph.add_node("Input").id
    b = graph.add_node("Dense").id
    edge = graph.connect(a, b)
    graph.set_param(b, "units", 3)
    graph.rename(b, "head")
    graph.disconnect(edge)
    graph.remove_node(b)
    assert seen == ["node_added", "node_added", "edge_added", "param_changed", "renamed",
                    "edge_removed", "node_removed"]


def test_removing_a_node_removes_its_edges():
    graph, (inp, a, b) = chain("Input", "Dense", "Dense")
    graph.remove_node(a)
    assert graph.edges == [] and set(graph.nodes) == {inp, b}


def test_dict_round_trip_keeps_ids_names_params_and_edges():
    graph, ids = chain("Input", "Conv2D", "Flatten", "Dense")
    again = Graph.from_dict(graph.to_dict())
    assert again.to_dict() == graph.to_dict()
    assert list(again.nodes) == ids


@pytest.mark.parametrize("data, where", [
    ({"nodes": [{"type": "Dense"}]}, "nodes[0]"),
    ({"nodes": [], "edges": [{"src": "a", "dst": "b"}]}, "edges[0]"),
    ({"nodes": [{"id": "a", "type": "Dense", "name": "x"}, {"id": "a", "type": "Dense", "name": "y"}]}, "duplicate"),
    ([], "expected an object"),
])
def test_malformed_graph_data_names_the_place(data, where):
    with pytest.raises(GraphError, match=where.replace("[", r"\[").replace("]", r"\]")):
        Graph.from_dict(data)
