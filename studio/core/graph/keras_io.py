"""Graph <-> Keras functional model, and safe import of ``.keras`` files.

Import works on the *serialized* config (``model.get_config()`` or a ``.keras`` file's
``config.json``), so a file is checked layer by layer before anything in it is deserialized:
Lambda, custom and unknown layers are refused, and weights load only with ``safe_mode=True``.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from studio.core.graph.catalog import CATALOG
from studio.core.graph.model import Graph

_CONTAINERS = {"Functional", "Sequential", "Model"}
CUSTOM_TYPES = ("Sampling", "PositionalEmbedding")  # studio>... layers (graph/custom_layers.py)
_MULTI_INPUT = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate", "Sampling"}
_ATTENTION_KWARGS = ("query", "value", "key")
# Node params that are arguments of the layer's call, not of its config.
CALL_PARAMS = {"MultiHeadAttention": ("use_causal_mask",)}


class KerasImportError(ValueError):
    """A model or file that cannot become a studio graph; the message names the layer or file."""


class GraphBuildError(ValueError):
    """The graph has errors, so no Keras model can be built from it."""


# -- graph -> Keras ------------------------------------------------------------------------------
def make_layer(type: str, name: str, params: dict[str, Any]):
    """Instantiate the Keras layer of a (non-Input) node from its params."""
    import keras

    from studio.core.graph.custom_layers import CUSTOM_LAYERS

    cls = CUSTOM_LAYERS.get(type) or getattr(keras.layers, CATALOG[type].keras_class)
    config = {k: v for k, v in params.items() if k not in ("name", *CALL_PARAMS.get(type, ()))}
    for key in ("kernel_size", "strides", "pool_size", "dilation_rate", "size", "output_padding",
                "target_shape", "shared_axes"):
        if isinstance(config.get(key), list):
            config[key] = tuple(config[key])
    for key in ("padding", "cropping"):
        if isinstance(config.get(key), list):
            config[key] = tuple(tuple(v) if isinstance(v, list) else v for v in config[key])
    if type in ("Bidirectional", "TimeDistributed"):
        inner = dict(config["layer"])
        inner.setdefault("module", "keras.layers")
        inner["config"] = {"name": f"{name}_rnn", **inner.get("config", {})}
        config["layer"] = inner
    return cls.from_config({**config, "name": name})


def to_keras(graph: Graph, name: str = "model"):
    """Build the functional Keras model of ``graph``; layer names are the node names."""
    import keras

    from studio.core.graph.infer import analyze

    analysis = analyze(graph)
    if not analysis.ok:
        raise GraphBuildError("The model has errors: " + "; ".join(p.message for p in analysis.problems[:5]))
    tensors: dict[str, Any] = {}
    for node_id in graph.topological_order():
        node = graph.nodes[node_id]
        if node.type == "Input":
            tensors[node_id] = keras.Input(shape=tuple(node.params["shape"]),
                                           dtype=node.params.get("dtype", "float32"), name=node.name)
            continue
        layer = make_layer(node.type, node.name, node.params)
        args = [tensors[i] for i in graph.inputs(node_id)]
        if node.type in _MULTI_INPUT:
            tensors[node_id] = layer(args)
        elif node.type == "Attention":
            tensors[node_id] = layer(args)
        elif node.type == "MultiHeadAttention":
            tensors[node_id] = layer(*args, use_causal_mask=bool(node.params.get("use_causal_mask")))
        else:
            tensors[node_id] = layer(args[0])
    inputs = [tensors[i] for i in graph.input_nodes()]
    outputs = [tensors[i] for i in graph.output_nodes()]
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                       outputs[0] if len(outputs) == 1 else outputs, name=name)


# -- Keras -> graph ------------------------------------------------------------------------------
def from_keras(model) -> Graph:
    """The graph of a live Keras Sequential or functional model."""
    return graph_from_config({"class_name": type(model).__name__, "config": model.get_config()})


def graph_from_config(serialized: dict[str, Any]) -> Graph:
    """Build a graph from a serialized model (``{"class_name", "config"}``) without deserializing it."""
    class_name = serialized.get("class_name")
    config = serialized.get("config") or {}
    check_layers_supported(serialized)
    if class_name == "Sequential":
        return _from_sequential(config)
    if "layers" not in config:
        raise KerasImportError(f"A {class_name} model is not a Sequential or functional model")
    return _from_functional(config)


def check_layers_supported(serialized: dict[str, Any], where: str = "model") -> None:
    """Raise KerasImportError naming the first layer that is Lambda, custom or not in the catalog."""
    for layer in (serialized.get("config") or {}).get("layers", []):
        class_name = layer.get("class_name")
        name = (layer.get("config") or {}).get("name") or layer.get("name") or "?"
        if class_name == "Lambda":
            raise KerasImportError(f"Layer {name!r} in {where} is a Lambda layer. DL Studio refuses "
                                   "Lambda layers: loading one would run arbitrary code.")
        if class_name in _CONTAINERS:
            raise KerasImportError(f"Layer {name!r} in {where} is a nested model; flatten it into one "
                                   "functional model before importing.")
        module = layer.get("module") or ""
        registered = layer.get("registered_name") or ""
        custom = registered and not registered.startswith("studio>") and registered != class_name
        if class_name != "InputLayer" and (class_name not in CATALOG or custom or
                                           (module and not module.startswith("keras") and not registered.startswith("studio>"))):
            raise KerasImportError(f"Layer {name!r} in {where} has type {class_name!r}, which is not in "
                                   "the DL Studio catalog (custom and unknown layers are refused).")
        inner = (layer.get("config") or {}).get("layer")
        wrappable = set(CATALOG) - {"Input", "Bidirectional", "TimeDistributed", *CUSTOM_TYPES} \
            if class_name == "TimeDistributed" else {"SimpleRNN", "LSTM", "GRU"}
        if isinstance(inner, dict) and inner.get("class_name") not in wrappable:
            raise KerasImportError(f"Layer {name!r} wraps a {inner.get('class_name')!r}, which is not supported.")


def _params(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in (layer.get("config") or {}).items() if k != "name"}


def _input_params(config: dict[str, Any]) -> dict[str, Any]:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not shape:
        raise KerasImportError(f"Input {config.get('name')!r} has no shape")
    return {"shape": list(shape[1:]), "dtype": config.get("dtype", "float32") if isinstance(config.get("dtype"), str) else "float32"}


def _from_sequential(config: dict[str, Any]) -> Graph:
    graph = Graph()
    layers = list(config.get("layers", []))
    if layers and layers[0].get("class_name") == "InputLayer":
        first = layers.pop(0)
        previous = graph.add_node("Input", _input_params(first["config"]), name=first["config"].get("name", "input"))
    elif config.get("build_input_shape"):
        previous = graph.add_node("Input", {"shape": list(config["build_input_shape"][1:])}, name="input")
    else:
        raise KerasImportError("The Sequential model has no input shape; build it before importing")
    for layer in layers:
        node = graph.add_node(layer["class_name"], _params(layer), name=layer["config"]["name"])
        graph.connect(previous.id, node.id)
        previous = node
    return graph


def _keras_tensors(value: Any) -> list[list]:
    """``keras_history`` entries of every Keras tensor inside ``value``, in order."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            return [value["config"]["keras_history"]]
        return [h for v in value.values() for h in _keras_tensors(v)]
    if isinstance(value, (list, tuple)):
        if len(value) == 3 and isinstance(value[0], str) and all(isinstance(v, int) for v in value[1:]):
            return [list(value)]  # legacy [layer_name, node_index, tensor_index]
        return [h for v in value for h in _keras_tensors(v)]
    return []


def _from_functional(config: dict[str, Any]) -> Graph:
    graph = Graph()
    ids: dict[str, str] = {}
    for layer in config["layers"]:
        name = layer["config"]["name"]
        inbound = layer.get("inbound_nodes") or []
        if len(inbound) > 1:
            raise KerasImportError(f"Layer {name!r} is shared (called {len(inbound)} times); shared layers "
                                   "are not supported on the canvas.")
        if layer["class_name"] == "InputLayer":
            node = graph.add_node("Input", _input_params(layer["config"]), name=name)
        else:
            node = graph.add_node(layer["class_name"], _params(layer), name=name)
        if node.name != name:
            raise KerasImportError(f"Two layers are named {name!r}")
        ids[name] = node.id
        for entry in inbound:
            args = entry.get("args", []) if isinstance(entry, dict) else entry
            kwargs = entry.get("kwargs", {}) if isinstance(entry, dict) else {}
            sources = _keras_tensors(args)
            sources += [h for key in _ATTENTION_KWARGS if key in kwargs for h in _keras_tensors(kwargs[key])]
            for key in CALL_PARAMS.get(node.type, ()):
                if key in kwargs:
                    graph.set_param(node.id, key, kwargs[key])
            for history in sources:
                if history[2] != 0:
                    raise KerasImportError(f"Layer {name!r} reads output {history[2]} of {history[0]!r}; "
                                           "multi-output layers are not supported.")
                graph.connect(ids[history[0]], node.id)
    return graph


# -- .keras files ---------------------------------------------------------------------------------
def read_keras_config(path: str | Path) -> dict[str, Any]:
    """The serialized model inside a ``.keras`` file, read without deserializing anything."""
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))
    except FileNotFoundError:
        raise KerasImportError(f"{path}: file not found") from None
    except (zipfile.BadZipFile, KeyError):
        raise KerasImportError(f"{path}: not a Keras 3 .keras file (a zip with config.json)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise KerasImportError(f"{path}: config.json is malformed ({exc})") from None


def load_keras_file(path: str | Path, with_model: bool = False):
    """Import a ``.keras`` file as a graph (and, if asked, the safely loaded model with weights).

    Every layer is checked against the catalog first; a Lambda, custom or unknown layer is refused
    before Keras deserializes anything.
    """
    serialized = read_keras_config(path)
    graph = graph_from_config(serialized)
    if not with_model:
        return graph
    import keras

    from studio.core.graph import custom_layers  # noqa: F401  (registers studio layers)

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise KerasImportError(f"{path}: the weights could not be loaded ({exc})") from exc
    return graph, model


def transfer_weights(source, target) -> None:
    """Copy weights layer by layer (matched by name) from ``source`` into ``target``."""
    for layer in target.layers:
        weights = source.get_layer(layer.name).get_weights()
        if weights:
            layer.set_weights(weights)
