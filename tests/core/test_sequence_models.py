"""Sequence models: per-step targets meet the model's output shape; layers and wiring for transformers."""

import pytest

from studio.core.data import load_dataset
from studio.core.graph.builder import Builder
from studio.core.training import TrainingError
from studio.core.training.adapt import adapt_to_dataset


def _recurrent(return_sequences):
    b = Builder()
    x = b.add("Input", shape=[48, 1])
    x = b.add("LSTM", x, units=8, return_sequences=return_sequences)
    b.add("Dense", x, units=3, name="out")
    return b.graph


def test_per_step_target_needs_a_per_step_output():
    steps = load_dataset({"source": "sequences", "name": "signals_steps", "samples": 30})
    with pytest.raises(TrainingError, match=r"gives shape \(3,\).*per time step, shape \(48, 1\)"):
        adapt_to_dataset(_recurrent(False), steps)
    graph, changes = adapt_to_dataset(_recurrent(True), steps)
    assert graph.by_name("out").params["units"] == 1 and "units 3 -> 1" in changes[0]
    sample = load_dataset({"source": "sequences", "name": "signals", "samples": 30})
    with pytest.raises(TrainingError, match=r"gives shape \(48, 3\).*per sample"):
        adapt_to_dataset(_recurrent(True), sample)
    assert adapt_to_dataset(_recurrent(False), sample)[0].by_name("out").params["units"] == 1


def _transformer_block(causal=False):
    b = Builder()
    x = b.add("Input", shape=[12], dtype="int32")
    x = b.add("Embedding", x, input_dim=30, output_dim=16)
    x = b.add("PositionalEmbedding", x, sequence_length=20)
    attention = b.add("MultiHeadAttention", x, x, x, num_heads=2, key_dim=8, use_causal_mask=causal, name="mha")
    x = b.add("LayerNormalization", b.add("Add", x, attention))
    x = b.add("TimeDistributed", x, layer={"class_name": "Dense", "config": {"units": 30}}, name="per_step")
    return b.graph


def test_one_node_feeds_query_value_and_key():
    graph = _transformer_block()
    mha = graph.by_name("mha").id
    assert [e.port for e in graph.in_edges(mha)] == [0, 1, 2]
    assert len(set(graph.inputs(mha))) == 1
    source = graph.inputs(mha)[0]
    assert graph.check_connect(source, mha) is not None  # all three ports taken
    dense = graph.add_node("Dense", {"units": 2})
    graph.connect(source, dense.id)
    assert "already feeds" in graph.check_connect(source, dense.id)  # single-input layers still refuse


@pytest.mark.parametrize("causal", [False, True])
def test_new_layers_match_keras_shapes_params_and_reload_safely(tmp_path, causal):
    import keras
    import numpy as np

    from studio.core.graph.infer import analyze
    from studio.core.graph.keras_io import from_keras, load_keras_file, to_keras

    graph = _transformer_block(causal)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems
    model = to_keras(graph)
    assert analysis.total_params == model.count_params()
    for layer in model.layers[1:]:
        info = analysis.nodes[graph.by_name(layer.name).id]
        assert info.output_shape == tuple(layer.output.shape[1:]), layer.name
        assert info.params == layer.count_params(), layer.name
    ids = np.array([[3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 0, 0]], "int32")
    changed = ids.copy()
    changed[0, 3] = 9  # a later token
    first, second = model.predict(ids, verbose=0), model.predict(changed, verbose=0)
    # with the causal mask, positions before the change cannot see it
    assert np.allclose(first[0, :3], second[0, :3], atol=1e-6) == causal
    path = tmp_path / "block.keras"
    model.save(path)
    imported, loaded = load_keras_file(path, with_model=True)
    assert imported.by_name("mha").params["use_causal_mask"] == causal
    assert len(imported.in_edges(imported.by_name("mha").id)) == len(graph.in_edges(graph.by_name("mha").id))
    assert np.allclose(loaded.predict(ids, verbose=0), first, atol=1e-6)
    assert from_keras(model).by_name("per_step").params["layer"]["class_name"] == "Dense"


def test_repeat_vector_and_masking_shapes():
    from studio.core.graph.infer import analyze
    from studio.core.graph.keras_io import to_keras

    b = Builder()
    x = b.add("Input", shape=[10, 3])
    x = b.add("Masking", x, mask_value=0.0)
    x = b.add("GRU", x, units=6)
    x = b.add("RepeatVector", x, n=4)
    b.add("LSTM", x, units=5, return_sequences=True, name="decoder")
    analysis, model = analyze(b.graph), to_keras(b.graph)
    assert analysis.nodes[b.graph.by_name("decoder").id].output_shape == (4, 5)
    assert analysis.total_params == model.count_params()
    b.graph.set_param(b.graph.by_name("decoder").id, "return_sequences", False)
    bad = Builder()
    x = bad.add("Input", shape=[30, 8])
    bad.add("PositionalEmbedding", x, sequence_length=20)
    assert "longer than sequence_length 20" in analyze(bad.graph).problems[0].message


@pytest.mark.parametrize("name", ["transformer_encoder", "transformer_decoder", "gpt_block"])
def test_blocks_are_insertable_graphs_that_build(name):
    from studio.core.graph.blocks import block_graph
    from studio.core.graph.infer import analyze
    from studio.core.graph.keras_io import to_keras

    graph = block_graph(name, (6, 16), heads=2, ff=24)
    analysis = analyze(graph)
    assert analysis.ok and analysis.total_params == to_keras(graph).count_params()
    assert len(graph.input_nodes()) == (2 if name == "transformer_decoder" else 1)
