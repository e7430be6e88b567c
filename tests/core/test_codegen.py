"""graph_to_python builds, when executed, the same Keras model as to_keras."""

import json

import pytest

from studio.core.export.codegen import graph_to_python
from studio.core.graph.keras_io import to_keras
from studio.core.graph.model import Graph
from studio.resources import models_dir


def _mixed_graph() -> Graph:
    """Branches, merges, attention, a wrapped RNN, a regularizer and a name that is not an identifier."""
    g = Graph()
    seq = g.add_node("Input", {"shape": [12, 8]}, name="input")
    gru = {"module": "keras.layers", "class_name": "GRU", "registered_name": None,
           "config": {"units": 6, "return_sequences": True}}
    lstm = g.add_node("Bidirectional", {"layer": gru})
    mha = g.add_node("MultiHeadAttention", {"num_heads": 2, "key_dim": 4})
    dense = g.add_node("Dense", {"units": 12, "kernel_regularizer": {"class_name": "L2", "config": {"l2": 0.01}}},
                       name="class")
    add = g.add_node("Add")
    cat = g.add_node("Concatenate")
    pool = g.add_node("GlobalAveragePooling1D")
    g.connect(seq.id, lstm.id)
    g.connect(lstm.id, mha.id)
    g.connect(seq.id, mha.id)
    g.connect(mha.id, dense.id)
    g.connect(dense.id, add.id)
    g.connect(lstm.id, add.id)
    g.connect(add.id, cat.id)
    g.connect(seq.id, cat.id)
    g.connect(cat.id, pool.id)
    return g


def _imported_graph() -> Graph:
    """A graph from a live Keras model: params carry Keras' full configs (dtype policies, initializers)."""
    import keras

    from studio.core.graph.keras_io import from_keras

    inputs = keras.Input(shape=(10, 10, 3))
    x = keras.layers.Conv2D(4, 3, kernel_regularizer=keras.regularizers.L1L2(0.01, 0.02))(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(2, kernel_initializer="he_normal")(x)
    return from_keras(keras.Model(inputs, outputs))


def _imported_applications_graph() -> Graph:
    """keras.ops operations and keras.applications layers, as an imported MobileNetV3 or ConvNeXt holds them."""
    import keras
    from keras.src.applications.convnext import LayerScale

    from studio.core.graph.keras_io import from_keras

    inputs = keras.Input(shape=(4, 6))
    x = keras.layers.Dense(6)(inputs)
    x = keras.layers.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    x = keras.ops.reshape(LayerScale(0.1, 6)(x), (-1, 24))
    return from_keras(keras.Model(inputs, keras.ops.concatenate([x, keras.ops.mean(inputs, axis=1)], axis=-1)))


def _config(layer) -> dict:
    """The layer's config as plain JSON, without the auto-generated names of wrapped inner layers."""
    config = json.loads(json.dumps(layer.get_config(), default=str))
    for key in ("layer", "backward_layer"):
        if isinstance(config.get(key), dict):
            config[key]["config"].pop("name", None)
    return config


def _template(name: str) -> Graph:
    return Graph.from_dict(json.loads((models_dir() / f"{name}.json").read_text())["graph"])


@pytest.mark.parametrize("make", [lambda: _template("small_cnn_28"), lambda: _template("resnet18"), _mixed_graph,
                                  _imported_graph, _imported_applications_graph],
                         ids=["small_cnn_28", "resnet18", "mixed", "imported", "ops"])
def test_generated_code_builds_the_same_model(make):
    import keras

    graph = make()
    source = graph_to_python(graph, model_name="generated")
    namespace: dict = {}
    # auto-named inner layers (Bidirectional's) restart their count; no garbage collection (seconds)
    keras.utils.clear_session(free_memory=False)
    exec(compile(source, "<generated>", "exec"), namespace)
    built = namespace["model"]
    keras.utils.clear_session(free_memory=False)
    expected = to_keras(graph)
    assert built.name == "generated"
    assert built.count_params() == expected.count_params()
    assert [layer.name for layer in built.layers] == [layer.name for layer in expected.layers]
    for mine, theirs in zip(built.layers, expected.layers):
        assert _config(mine) == _config(theirs), mine.name
    assert [tuple(t.shape) for t in built.outputs] == [tuple(t.shape) for t in expected.outputs]


def test_variable_names_are_valid_and_distinct():
    g = Graph()
    a = g.add_node("Input", {"shape": [4]}, name="input")
    b = g.add_node("Dense", name="1st layer")
    c = g.add_node("Dense", name="1st_layer")
    g.connect(a.id, b.id)
    g.connect(b.id, c.id)
    source = graph_to_python(g)
    assert "x_1st_layer = layers.Dense" in source and "x_1st_layer_1 = layers.Dense" in source
    assert "\ninput =" not in source  # never shadow a builtin
    compile(source, "<generated>", "exec")
