from studio.core.graph.infer import Analyzer, analyze
from studio.core.graph.model import Graph


def build(*specs):
    graph = Graph()
    ids = []
    for type, params in specs:
        ids.append(graph.add_node(type, params).id)
    for a, b in zip(ids, ids[1:]):
        graph.connect(a, b)
    return graph, ids


def test_shapes_params_flops_and_memory_per_node_and_total():
    graph, (i, c, f, d) = build(("Input", {"shape": [8, 8, 3]}), ("Conv2D", {"filters": 4, "padding": "same"}),
                                ("Flatten", {}), ("Dense", {"units": 2}))
    result = analyze(graph)
    assert result.ok
    assert result.nodes[c].output_shape == (8, 8, 4)
    assert result.nodes[c].params == 3 * 3 * 3 * 4 + 4
    assert result.nodes[f].output_shape == (256,)
    assert result.nodes[d].params == 256 * 2 + 2
    assert result.total_params == 112 + 514
    assert result.nodes[c].flops == 2 * 3 * 3 * 3 * 4 * 64
    assert result.activation_bytes == 4 * (192 + 256 + 256 + 2)


def test_incompatible_merge_names_both_shapes_and_the_node():
    graph, (i, a) = build(("Input", {"shape": [4]}), ("Dense", {"units": 3}))
    b = graph.add_node("Dense", {"units": 5}, name="wide").id
    graph.connect(i, b)
    add = graph.add_node("Add", name="join").id
    graph.connect(a, add)
    graph.connect(b, add)
    result = analyze(graph)
    assert [p.node_id for p in result.problems] == [add]
    message = result.problems[0].message
    assert "join" in message and "(3)" in message and "(5)" in message


def test_unconnected_and_wrong_arity_nodes_are_reported_on_the_node():
    graph, (i, d) = build(("Input", {"shape": [4]}), ("Dense", {}))
    lonely = graph.add_node("Dense", name="lonely").id
    add = graph.add_node("Add").id
    graph.connect(d, add)
    result = analyze(graph)
    errors = {p.node_id: p.message for p in result.problems}
    assert "not connected" in errors[lonely]
    assert "at least 2" in errors[add]


def test_missing_input_and_output_are_graph_problems():
    assert any("no Input" in p.message for p in analyze(build(("Dense", {}))[0]).problems)
    assert any("no output" in p.message for p in analyze(build(("Input", {"shape": [3]}))[0]).problems)


def test_cycle_in_loaded_data_is_reported_not_crashing():
    graph, (i, a, b) = build(("Input", {"shape": [4]}), ("Dense", {}), ("Dense", {}))
    data = graph.to_dict()
    data["edges"].append({"src": b, "dst": a, "port": 1})
    result = analyze(Graph.from_dict(data))
    assert not result.ok and "cycle" in result.problems[0].message


def test_bad_param_types_and_ranges_are_reported():
    graph, (i, d, dr) = build(("Input", {"shape": [4]}), ("Dense", {"units": "ten"}), ("Dropout", {"rate": 1.5}))
    messages = " | ".join(p.message for p in analyze(graph).problems)
    assert "units must be a whole number" in messages
    assert "rate must be at most" in messages


def test_shape_error_names_the_shapes():
    graph, ids = build(("Input", {"shape": [4, 4, 1]}), ("Conv2D", {"kernel_size": [5, 5]}))
    message = analyze(graph).problems[0].message
    assert "5" in message and "4" in message


def test_downstream_updates_after_an_edit_with_the_cache():
    graph, (i, c, f, d) = build(("Input", {"shape": [8, 8, 3]}), ("Conv2D", {"filters": 4}),
                                ("Flatten", {}), ("Dense", {"units": 2}))
    analyzer = Analyzer()
    before = analyzer.analyze(graph)
    graph.set_param(c, "filters", 8)
    after = analyzer.analyze(graph)
    assert after.nodes[f].output_shape == (288,) != before.nodes[f].output_shape
    assert after.nodes[d].params == 288 * 2 + 2


def test_undoing_an_edit_recomputes_nothing_and_exact_values_are_told_apart(monkeypatch):
    from studio.core.graph import infer

    graph, (i, c, f, d) = build(("Input", {"shape": [8, 8, 3]}), ("Conv2D", {"filters": 4}),
                                ("Flatten", {}), ("Dense", {"units": 2}))
    analyzer = Analyzer()
    analyzer.analyze(graph)
    graph.set_param(c, "filters", 8)
    analyzer.analyze(graph)
    computed, layer_info = [], infer.layer_info
    monkeypatch.setattr(infer, "layer_info", lambda *args: computed.append(args[0]) or layer_info(*args))
    graph.set_param(c, "filters", 4)  # undo: the layers after it are as two analyses ago
    assert analyzer.analyze(graph).ok and computed == []
    graph.set_param(c, "filters", 4.0)  # equal to 4 in Python, but not a whole number
    assert analyzer.analyze(graph).nodes[c].errors == ["filters must be a whole number, got 4.0"]
