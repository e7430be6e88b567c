"""Hand-written Keras 3 ``config.json`` contents (as ``model.save`` writes them) for import tests
that must not pay for importing Keras."""

from __future__ import annotations

import json
import zipfile


def keras_object(module: str, class_name: str, config: dict | None = None) -> dict:
    return {"module": module, "class_name": class_name, "config": config or {}, "registered_name": None}


def _dtype() -> dict:
    return keras_object("keras", "DTypePolicy", {"name": "float32"})


def _tensor(source: str) -> dict:
    return {"class_name": "__keras_tensor__", "config": {"shape": [None, 3], "dtype": "float32",
                                                         "keras_history": [source, 0, 0]}}


def layer(class_name: str, name: str, sources: list[str], module: str = "keras.layers",
          registered_name: str | None = None, **params) -> dict:
    args = [_tensor(s) for s in sources]
    return {"module": module, "class_name": class_name, "registered_name": registered_name,
            "config": {"name": name, "trainable": True, "dtype": _dtype(), **params},
            "name": name, "inbound_nodes": [{"args": [args] if len(args) > 1 else args, "kwargs": {}}]}


def lstm(name: str = "forward_lstm", **params) -> dict:
    return keras_object("keras.layers", "LSTM", {
        "name": name, "trainable": True, "dtype": _dtype(), "units": 3, "activation": "tanh",
        "recurrent_activation": "sigmoid", "return_sequences": False,
        "kernel_initializer": keras_object("keras.initializers", "GlorotUniform", {"seed": None}),
        "recurrent_initializer": keras_object("keras.initializers", "Orthogonal", {"seed": None, "gain": 1.0}),
        "bias_initializer": keras_object("keras.initializers", "Zeros"), **params})


def base_config() -> dict:
    """A small functional VAE-like model using every kind of nested object the studio allows."""
    dense_params = {
        "units": 6, "activation": "relu", "use_bias": True,
        "kernel_initializer": keras_object("keras.initializers", "GlorotUniform", {"seed": None}),
        "bias_initializer": keras_object("keras.initializers", "Zeros"),
        "kernel_regularizer": keras_object("keras.regularizers", "L1L2", {"l1": 0.1, "l2": 0.2}),
        "bias_regularizer": None, "kernel_constraint": keras_object("keras.constraints", "MaxNorm",
                                                                     {"max_value": 2, "axis": 0}),
    }
    layers = [
        {"module": "keras.layers", "class_name": "InputLayer", "registered_name": None, "name": "inputs",
         "config": {"batch_shape": [None, 8, 4], "dtype": "float32", "name": "inputs"}, "inbound_nodes": []},
        layer("Bidirectional", "bidi", ["inputs"], merge_mode="concat", layer=lstm(),
              backward_layer=lstm("backward_lstm", go_backwards=True)),
        layer("Dense", "hidden", ["bidi"], **dense_params),
        layer("Dropout", "drop", ["hidden"], rate=0.5, seed=None),
        layer("Dense", "z_mean", ["drop"], units=2),
        layer("Dense", "z_log_var", ["drop"], units=2),
        layer("Sampling", "z", ["z_mean", "z_log_var"], module="studio.core.graph.custom_layers",
              registered_name="studio>Sampling", seed=None),
    ]
    return {"module": "keras", "class_name": "Functional", "registered_name": "Functional",
            "config": {"name": "model", "trainable": True, "layers": layers,
                       "input_layers": [["inputs", 0, 0]], "output_layers": [["z", 0, 0]]}}


def write_keras(path, config, *, raw: bytes | None = None) -> None:
    """A ``.keras`` zip holding ``config`` (or the ``raw`` bytes) as config.json."""
    data = raw if raw is not None else json.dumps(config).encode("utf-8", "surrogatepass")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
        archive.writestr("config.json", data)
