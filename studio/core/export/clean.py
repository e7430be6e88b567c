"""The inference graph that gets exported: no random augmentation, normalization only by choice."""

from __future__ import annotations

from typing import Any

from studio.core.export.report import ExportError


def is_random_layer(layer) -> bool:
    """Random augmentation layers (RandomFlip, RandomRotation, ...): training-time only."""
    return type(layer).__name__.startswith("Random")


def strip_random_layers(model):
    """``model`` itself when it has no ``Random*`` layer, else a copy without them (same weights)."""
    import keras

    if not any(is_random_layer(layer) for layer in model.layers):
        return model

    def call(layer, *args, **kwargs):
        return args[0] if is_random_layer(layer) else layer(*args, **kwargs)  # skip: pass the input on

    clean = keras.models.clone_model(model, call_function=call)
    kept = [layer for layer in model.layers if not is_random_layer(layer)]
    for original, copy in zip(kept, clean.layers):  # clone_model keeps the layer order
        if original.weights:
            copy.set_weights(original.get_weights())
    return clean


def with_normalization(model, normalization: dict[str, Any]):
    """A copy of an image model that takes raw 0..255 pixels and normalizes them itself.

    Adds a Rescaling layer (and a Normalization layer for standardized data) after the input, as
    graph nodes, so the result is an ordinary studio graph that every format can express.
    """
    from studio.core.graph.keras_io import from_keras, source_layers, to_keras

    mode = normalization.get("mode")
    if mode == "none":
        return model
    if "divide" not in normalization or len(model.inputs) != 1:
        raise ExportError("include_normalization works for single-input image models only; the "
                          "normalization of tables is recorded in the export's metadata instead")
    graph = from_keras(model)
    (input_id,) = graph.input_nodes()
    steps = [("Rescaling", {"scale": 1.0 / normalization["divide"], "offset": 0.0}, "input_scaling")]
    if mode == "standardize":
        variance = [float(s) ** 2 for s in normalization["std"]]
        steps.append(("Normalization", {"axis": -1, "mean": list(normalization["mean"]), "variance": variance},
                      "input_standardize"))
    consumers = graph.out_edges(input_id)
    for edge in consumers:
        graph.disconnect(edge)
    previous, added = input_id, set()
    for type_name, params, name in steps:
        node = graph.add_node(type_name, params, name=graph.unique_name(name))
        graph.connect(previous, node.id)
        previous = node.id
        added.add(node.name)
    for edge in consumers:
        graph.connect(previous, edge.dst, edge.port)
    normalized = to_keras(graph, name=model.name)
    originals = source_layers(model)  # nested models were flattened
    for layer in normalized.layers:
        if layer.name not in added and layer.weights:
            layer.set_weights(originals[layer.name].get_weights())
    return normalized


def raw_inputs(x, normalization: dict[str, Any]):
    """Undo a dataset's image normalization: normalized samples back to 0..255 pixels."""
    import numpy as np

    x = np.asarray(x, dtype="float32")
    if normalization.get("mode") == "standardize":
        x = x * np.asarray(normalization["std"], "float32") + np.asarray(normalization["mean"], "float32")
    if normalization.get("mode") != "none":
        x = x * np.float32(normalization.get("divide", 1.0))
    return x.astype("float32")


def assert_clean(model) -> None:
    """Refuse to export a model that still holds a random augmentation layer."""
    random = [layer.name for layer in model.layers if is_random_layer(layer)]
    if random:
        raise ExportError(f"the exported model still holds random augmentation layers: {', '.join(random)}")
