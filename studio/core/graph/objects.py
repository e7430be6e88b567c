"""What a graph may hold beyond the catalog's flat params: nested objects, numbers, layer names.

A node's params can carry serialized Keras objects (an initializer, a regularizer, a constraint, a
dtype policy, Bidirectional's inner layer), each ``{"module", "class_name", "config",
"registered_name"}``. Keras would import and call whatever they name, so every one must be on the
allow-list below, checked in the graph itself: a shared project file is refused like a ``.keras``.
"""

from __future__ import annotations

import math
from typing import Any

from studio.core.graph.catalog import ACTIVATIONS, CATALOG, validate_params
from studio.core.graph.model import Graph

# Serialized Keras objects a node's params may hold, by the module Keras writes for them.
KERAS_OBJECTS: dict[str, frozenset[str]] = {
    "keras": frozenset({"DTypePolicy", "FloatDTypePolicy"}),
    "keras.initializers": frozenset({
        "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
        "LecunNormal", "LecunUniform", "Ones", "Orthogonal", "RandomNormal", "RandomUniform",
        "TruncatedNormal", "VarianceScaling", "Zeros"}),
    "keras.regularizers": frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"}),
    "keras.constraints": frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"}),
}
# Layers the studio registers itself (studio.core.graph.custom_layers, ``studio>`` names).
STUDIO_LAYERS = frozenset({"Sampling", "PositionalEmbedding", "ChannelShuffle", "MaxUnpooling2D"})
# The layers a wrapper (Bidirectional, TimeDistributed) may hold: plain catalog layers; each
# wrapper's own param check narrows this (Bidirectional: recurrent layers only).
KERAS_OBJECTS["keras.layers"] = frozenset(
    {t for t, spec in CATALOG.items() if spec.module == "keras.layers"}
    - {"Input", "Bidirectional", "TimeDistributed"} - STUDIO_LAYERS)
STUDIO_MODULE = "studio.core.graph.custom_layers"
_MODEL_KEYS = ("layers", "input_layers", "output_layers")  # a config with these is a whole model
_MAX_INT = 2**63 - 1  # what Keras/TensorFlow can hold
_NAMED_KINDS = ("initializer", "regularizer", "layer", "choice")


def object_errors(value: Any, where: str) -> list[str]:
    """Problems with the nested objects and numbers inside one param ``value``; ``where`` names it.

    ``value`` must already be bounded in depth (``fileio.json_value_problem``)."""
    errors: list[str] = []
    stack = [(value, where)]
    while stack and len(errors) < 5:
        item, path = stack.pop()
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            errors.append(f"{path} is {item}, not a finite number")
        elif isinstance(item, int) and abs(item) > _MAX_INT:
            errors.append(f"{path} is a number too large to use")
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
        elif isinstance(item, dict):
            if "class_name" in item or "module" in item or "registered_name" in item:
                problem = _object_problem(item)
                if problem:
                    errors.append(f"{path}: {problem}")
                    continue
                if item.get("class_name") in KERAS_OBJECTS["keras.layers"]:
                    errors.extend(_inner_layer_errors(item, path))
                    continue
            stack.extend((v, f"{path}.{k}") for k, v in item.items())
        elif not isinstance(item, (int, float)):
            errors.append(f"{path} has a value of unexpected type {type(item).__name__}")
    return errors


def _object_problem(obj: dict) -> str | None:
    """Why a serialized object is not one Keras may safely rebuild, or None."""
    class_name, module, registered = obj.get("class_name"), obj.get("module"), obj.get("registered_name")
    if not isinstance(class_name, str) or not class_name:
        return "a nested object without a class name is refused"
    label = ascii(class_name)[1:-1]
    if module is not None and not isinstance(module, str) or registered is not None and not isinstance(registered, str):
        return f"{label}: module and registered_name must be text"
    if class_name == "__lambda__" or class_name == "function" and module != "keras.activations":
        return f"{label}: a Python function is refused (loading it would run code)"
    if class_name == "function":  # a built-in activation written as an object
        name = obj.get("config")
        return None if name in ACTIVATIONS else f"activation {ascii(name)} is not a Keras activation"
    if registered and registered.startswith("studio>"):
        if registered != f"studio>{class_name}" or class_name not in STUDIO_LAYERS or module != STUDIO_MODULE:
            return f"{ascii(registered)} is not a DL Studio layer"
        return None
    if registered and registered != class_name:
        return f"{label} is registered as {ascii(registered)}: custom objects are refused"
    if isinstance(obj.get("config"), dict) and any(k in obj["config"] for k in _MODEL_KEYS):
        return f"{label} holds a whole model; nested models are refused"
    modules = [module] if module else list(KERAS_OBJECTS)
    if not any(m in KERAS_OBJECTS and class_name in KERAS_OBJECTS[m] for m in modules):
        where = f" from module {ascii(module)}" if module else ""
        return f"{label}{where} is not a Keras class DL Studio allows"
    return None


def _inner_layer_errors(obj: dict, path: str) -> list[str]:
    """A wrapped layer's own params, checked like a node's: its objects first, then its values."""
    config = obj.get("config", {})
    if not isinstance(config, dict):
        return [f"{path}: the layer's config must be an object"]
    return object_errors(config, f"{path}.config") or [
        f"{path}: {e}" for e in validate_params(obj["class_name"], config)]


def node_errors(type: str, params: Any) -> list[str]:
    """Problems with one node's params that the catalog's per-param checks do not see."""
    if not isinstance(params, dict):
        return ["params must be an object"]
    if type == "Input" and "shape" not in params:
        return ["an Input needs a shape"]
    spec = CATALOG.get(type)
    errors: list[str] = []
    for key, value in params.items():
        param = spec.param(key) if spec else None
        if value == "" and param is not None and param.kind in _NAMED_KINDS:
            errors.append(f"{key} needs a name, got an empty one")
        errors += object_errors(value, ascii(key)[1:-1])
    return errors[:5]


def name_problems(graph: Graph) -> list[tuple[str, str]]:
    """``(node_id, message)`` for every empty or duplicate layer name (Keras needs them unique)."""
    problems = []
    seen: dict[str, str] = {}
    for node in graph.nodes.values():
        if not node.name.strip():
            problems.append((node.id, f"layer {node.id} has an empty name"))
        elif node.name in seen:
            problems.append((node.id, f"{node.name}: another layer has the same name; rename one"))
        else:
            seen[node.name] = node.id
    return problems
