"""Graph <-> Keras: round trips keep configs, topology, counts and weights; unsafe files are refused."""

import json
import zipfile

import numpy as np
import pytest

from studio.core.graph.keras_io import KerasImportError, from_keras, load_keras_file, to_keras, transfer_weights
from studio.core.graph.templates import load_template


def layer_configs(model):
    return {layer.name: (type(layer).__name__, layer.get_config()) for layer in model.layers}


def topology(model):
    return {layer.name: sorted(t._keras_history[0].name for node in layer._inbound_nodes
                               for t in node.input_tensors) for layer in model.layers}


def assert_same_model(a, b):
    assert layer_configs(a) == layer_configs(b)
    assert topology(a) == topology(b)
    assert a.count_params() == b.count_params()


@pytest.mark.parametrize("name", ["mlp_xor", "small_cnn_28", "lenet5", "resnet18", "inception", "mobilenet"])
def test_template_round_trip_graph_keras_graph_keras(name):
    graph = load_template(name).graph
    first = to_keras(graph)
    again = from_keras(first)
    assert sorted(n.name for n in again.nodes.values()) == sorted(n.name for n in graph.nodes.values())
    assert_same_model(first, to_keras(again))


@pytest.mark.slow
@pytest.mark.parametrize("factory", ["ResNet50", "MobileNetV2", "DenseNet121", "EfficientNetB0"])
def test_keras_applications_import_and_rebuild_exactly(factory):
    import keras

    model = getattr(keras.applications, factory)(weights=None)
    graph = from_keras(model)
    assert_same_model(model, to_keras(graph))


def test_sequential_model_imports():
    import keras

    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(2)])
    graph = from_keras(model)
    assert [n.type for n in graph.nodes.values()] == ["Input", "Dense", "Dense"]
    assert to_keras(graph).count_params() == model.count_params()


def test_weights_survive_import_and_export(tmp_path):
    import keras

    graph = load_template("resnet18").graph
    model = to_keras(graph)
    path = tmp_path / "m.keras"
    model.save(path)
    imported, loaded = load_keras_file(path, with_model=True)
    rebuilt = to_keras(imported)
    transfer_weights(loaded, rebuilt)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(rebuilt(x, training=False), model(x, training=False), atol=1e-6)
    assert isinstance(rebuilt, keras.Model)


def test_layer_names_map_back_to_node_ids():
    graph = load_template("small_cnn_28").graph
    model = to_keras(graph)
    assert {graph.by_name(layer.name).id for layer in model.layers} == set(graph.nodes)


def _save_with_lambda(path):
    import keras

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2, name="doubler")(inputs))
    model.save(path)


def test_lambda_layer_file_is_refused_before_loading(tmp_path):
    path = tmp_path / "lambda.keras"
    _save_with_lambda(path)
    with pytest.raises(KerasImportError, match="'doubler'.*Lambda"):
        load_keras_file(path, with_model=True)


def test_custom_and_unknown_layers_are_refused(tmp_path):
    path = tmp_path / "custom.keras"
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"module": "keras.layers", "class_name": "InputLayer", "config": {"name": "in", "batch_shape": [None, 3]}, "inbound_nodes": []},
        {"module": "evil.layers", "class_name": "Dense", "registered_name": "evil>Dense",
         "config": {"name": "sneaky", "units": 2}, "inbound_nodes": []}]}}
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    with pytest.raises(KerasImportError, match="'sneaky'"):
        load_keras_file(path)
    config["config"]["layers"][1].update(module="keras.layers", class_name="Frobnicate", registered_name=None)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    with pytest.raises(KerasImportError, match="'Frobnicate'"):
        load_keras_file(path)


@pytest.mark.parametrize("content, message", [(b"not a zip", "not a Keras 3"), (None, "malformed")])
def test_damaged_files_give_a_clear_message(tmp_path, content, message):
    path = tmp_path / "bad.keras"
    if content is None:
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", "{truncated")
    else:
        path.write_bytes(content)
    with pytest.raises(KerasImportError, match=message):
        load_keras_file(path)
