"""Graph <-> Keras: round trips keep configs, topology, counts and weights (keras.ops operations,
keras.applications layers and nested models too); unsafe files are refused."""

import json
import zipfile

import numpy as np
import pytest

from studio.core.graph.groups import find_groups
from studio.core.graph.infer import analyze
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


# Every constructor in keras.applications (Keras 3.15); a test below checks the list is complete.
APPLICATIONS = [
    "ConvNeXtBase", "ConvNeXtLarge", "ConvNeXtSmall", "ConvNeXtTiny", "ConvNeXtXLarge", "DenseNet121", "DenseNet169",
    "DenseNet201", "EfficientNetB0", "EfficientNetB1", "EfficientNetB2", "EfficientNetB3", "EfficientNetB4",
    "EfficientNetB5", "EfficientNetB6", "EfficientNetB7", "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
    "EfficientNetV2B3", "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S", "InceptionResNetV2", "InceptionV3",
    "MobileNet", "MobileNetV2", "MobileNetV3Large", "MobileNetV3Small", "NASNetLarge", "NASNetMobile", "ResNet101",
    "ResNet101V2", "ResNet152", "ResNet152V2", "ResNet50", "ResNet50V2", "VGG16", "VGG19", "Xception"]
MIN_SIZE = {"InceptionResNetV2": 75, "InceptionV3": 75, "Xception": 71}  # 32 for the others (weights=None)


@pytest.mark.slow
def test_the_application_list_is_every_keras_application():
    import keras

    assert APPLICATIONS == sorted(name for name in dir(keras.applications) if name[0].isupper())


@pytest.mark.slow
@pytest.mark.parametrize("factory", APPLICATIONS)
def test_every_keras_application_imports_with_exact_params_and_outputs(factory):
    import keras

    keras.backend.clear_session()
    size = MIN_SIZE.get(factory, 32)  # the smallest input keeps building 40 networks affordable
    model = getattr(keras.applications, factory)(weights=None, input_shape=(size, size, 3))
    graph = from_keras(model)
    analysis = analyze(graph)
    assert analysis.ok, analysis.problems[:3]
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    assert (analysis.total_params, analysis.trainable_params) == (model.count_params(), trainable)
    rebuilt = to_keras(graph)
    assert rebuilt.count_params() == model.count_params()
    if not any(g.id.startswith("nested:") for g in find_groups(graph)):  # flattened models differ in structure
        assert operations(rebuilt) == operations(model)
    transfer_weights(model, rebuilt)
    assert_same_outputs(model, rebuilt, np.random.default_rng(0).normal(0, 50, (1, size, size, 3)).astype("float32"))


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


def operations(model):
    """Every layer and operation by name: its class and config as saved (ops are not in ``model.layers``)."""
    return {op.name: (type(op).__name__, json.loads(json.dumps(op.get_config()))) for op in model.operations}


def assert_same_outputs(a, b, x):
    for left, right in zip(keras_outputs(a, x), keras_outputs(b, x)):
        np.testing.assert_array_equal(left, right)


def keras_outputs(model, x):
    out = model(x, training=False)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def test_keras_ops_in_a_functional_model_become_nodes_and_round_trip_exactly(tmp_path):
    import keras
    from keras import ops

    inputs = keras.Input((4, 6), name="x")
    hidden = keras.layers.Dense(6, name="dense")(inputs)
    gate = ops.hard_sigmoid(hidden + 3.0) * (1.0 / 6.0)  # MobileNetV3's hard sigmoid, as Keras records it
    mixed = ops.reshape(1.0 - gate * inputs, (-1, 24))
    outputs = keras.layers.Dense(2, name="head")(ops.concatenate([mixed, ops.mean(inputs, axis=1)], axis=-1))
    model = keras.Model(inputs, outputs)
    model.save(tmp_path / "ops.keras")
    graph, loaded = load_keras_file(tmp_path / "ops.keras", with_model=True)
    types = {n.name: n.type for n in graph.nodes.values()}
    assert types["hard_sigmoid"] == "ops.hard_sigmoid" and types["reshape"] == "ops.reshape"
    assert graph.by_name("subtract").params["x1"] == 1.0 and graph.by_name("subtract").params["x2"] is None
    assert graph.by_name("reshape").params["newshape"] == [-1, 24]
    analysis = analyze(graph)
    assert analysis.ok and analysis.nodes[graph.by_name("head").id].output_shape == (2,)
    rebuilt = to_keras(graph)
    assert operations(rebuilt) == operations(model)
    transfer_weights(loaded, rebuilt)
    assert_same_outputs(model, rebuilt, np.random.default_rng(0).normal(size=(2, 4, 6)).astype("float32"))


def _functional_config(*layers):
    inputs = {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
              "config": {"name": "in", "batch_shape": [None, 4, 4, 3]}, "inbound_nodes": []}
    tensor = {"class_name": "__keras_tensor__", "config": {"shape": [None, 4, 4, 3], "keras_history": ["in", 0, 0]}}
    return {"class_name": "Functional", "config": {"name": "m", "layers": [inputs, *[
        {**layer, "inbound_nodes": [{"args": [tensor, *layer.pop("numbers", [])], "kwargs": {}}]} for layer in layers]],
        "input_layers": [["in", 0, 0]], "output_layers": [[layers[-1]["config"]["name"], 0, 0]]}}


@pytest.mark.parametrize("layer, message", [
    ({"module": "keras.src.ops.numpy", "class_name": "Sort", "registered_name": "Sort",
      "config": {"name": "sort", "axis": -1}}, "'sort' .*'Sort'.*not in the DL Studio catalog"),
    ({"module": "keras.src.ops.numpy", "class_name": "Add", "registered_name": "Add", "config": {"name": "add"},
      "numbers": [[1.0, 2.0]]}, "'add' .*x2 is .*only inputs and plain numbers"),
    ({"module": "evil.convnext", "class_name": "LayerScale", "registered_name": "LayerScale",
      "config": {"name": "scale", "init_values": 0.1, "projection_dim": 3}}, "'LayerScale' \\(module 'evil.convnext'\\)"),
    ({"module": "keras.src.applications.convnext", "class_name": "LayerScale", "registered_name": "evil>LayerScale",
      "config": {"name": "scale", "init_values": 0.1, "projection_dim": 3}}, "'scale'.*not in the DL Studio catalog"),
])
def test_operations_and_classes_off_the_allow_list_are_refused_before_loading(tmp_path, layer, message):
    path = tmp_path / "refused.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(_functional_config(layer)))
    with pytest.raises(KerasImportError, match=message):
        load_keras_file(path, with_model=True)


def test_keras_application_layers_are_allowed_by_their_qualified_class(tmp_path):
    import keras
    from keras.src.applications.convnext import LayerScale
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    inputs = keras.Input((4, 4, 3))
    branch = keras.layers.Conv2D(3, 1, name="branch")(inputs)
    scaled = LayerScale(0.5, 3, name="layer_scale")(branch)
    model = keras.Model(inputs, CustomScaleLayer(0.17, name="custom_scale")([inputs, scaled]))
    model.save(tmp_path / "apps.keras")
    graph, loaded = load_keras_file(tmp_path / "apps.keras", with_model=True)
    assert graph.by_name("layer_scale").type == "LayerScale" and graph.by_name("custom_scale").type == "CustomScaleLayer"
    assert analyze(graph).total_params == model.count_params() == 3 * 3 + 3 + 3
    rebuilt = to_keras(graph)
    assert operations(rebuilt) == operations(model)
    transfer_weights(loaded, rebuilt)
    assert_same_outputs(model, rebuilt, np.random.default_rng(0).normal(size=(2, 4, 4, 3)).astype("float32"))


def _model_with_nested_models():
    """A functional model using a Sequential stem and a two-input functional block (frozen) as layers."""
    import keras

    stem = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
                             keras.layers.BatchNormalization(name="bn")], name="stem")
    a, b = keras.Input((6, 6, 4), name="a"), keras.Input((6, 6, 4), name="b")
    block = keras.Model([a, b], keras.layers.Dense(5, name="dense")(keras.ops.add(a, b) * 0.5), name="block")
    block.trainable = False
    inputs = keras.Input((8, 8, 3), name="image")
    features = stem(inputs)
    joined = block([features, keras.layers.ReLU(name="relu")(features)])
    outputs = keras.layers.Dense(2, name="dense")(keras.layers.GlobalAveragePooling2D(name="pool")(joined))
    return keras.Model(inputs, outputs)


def test_nested_models_import_as_groups_keep_weights_and_resave_equivalently(tmp_path):
    import keras

    model = _model_with_nested_models()
    model.save(tmp_path / "nested.keras")
    graph, loaded = load_keras_file(tmp_path / "nested.keras", with_model=True)
    groups = {g.title: {graph.nodes[i].name: graph.nodes[i].type for i in g.members} for g in find_groups(graph)}
    assert groups["stem"] == {"stem.conv": "Conv2D", "stem.bn": "BatchNormalization"}
    assert sorted(groups["block"].values()) == ["Dense", "ops.add", "ops.multiply"] and "block.dense" in groups["block"]
    assert graph.by_name("dense").type == "Dense"  # the outer layer of the same name stays apart
    analysis = analyze(graph)
    trainable = int(sum(np.prod(w.shape) for w in model.trainable_weights))
    assert (analysis.total_params, analysis.trainable_params) == (model.count_params(), trainable)
    rebuilt = to_keras(graph)
    transfer_weights(loaded, rebuilt)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3)).astype("float32")
    assert_same_outputs(model, rebuilt, x)
    rebuilt.save(tmp_path / "resaved.keras")
    again, reloaded = load_keras_file(tmp_path / "resaved.keras", with_model=True)
    assert reloaded.count_params() == model.count_params() and len(again.nodes) == len(graph.nodes)
    assert_same_outputs(model, reloaded, x)
    assert isinstance(reloaded, keras.Model)


def test_a_shared_nested_model_is_refused():
    import keras

    inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="d")], name="tower")
    a, b = keras.Input((3,)), keras.Input((3,))
    with pytest.raises(KerasImportError, match="'tower' is shared"):
        from_keras(keras.Model([a, b], keras.layers.Add()([inner(a), inner(b)])))
