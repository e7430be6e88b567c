"""Graph <-> Keras functional model, and safe import of ``.keras`` files.

Import works on the *serialized* config (``model.get_config()`` or a ``.keras`` file's
``config.json``), so a file is checked layer by layer before anything in it is deserialized:
Lambda, custom and unknown layers are refused, and weights load only with ``safe_mode=True``.
A catalog layer or ``keras.ops`` operation becomes one node; a nested Sequential or functional
model is flattened into nodes named ``<nested model>.<layer>`` (one collapsible group, see groups.py).
"""

from __future__ import annotations

import copy
import importlib
import zipfile
import zlib
from pathlib import Path
from typing import Any

from studio.core.fileio import loads_json_bounded, open_regular
from studio.core.formatting import size_bytes
from studio.core.graph.catalog import BY_KERAS_CLASS, CATALOG, default_params
from studio.core.graph.groups import NESTED_SEPARATOR
from studio.core.graph.model import MAX_NODES, Graph, GraphError, new_id
from studio.core.graph.objects import KERAS_OBJECTS, STUDIO_LAYERS, STUDIO_MODULE, node_errors

_CONTAINERS = {"Functional", "Sequential", "Model"}
_MODEL_KEYS = ("layers", "input_layers", "output_layers")  # a config with these is a whole model
_MULTI_INPUT = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate", "Sampling", "CustomScaleLayer",
                "MaxUnpooling2D", "ops.concatenate"}
_ATTENTION_KWARGS = ("query", "value", "key")
# Node params that are arguments of the layer's call, not of its config.
CALL_PARAMS = {"MultiHeadAttention": ("use_causal_mask",)}


class KerasImportError(ValueError):
    """A model or file that cannot become a studio graph; the message names the layer or file."""


class GraphBuildError(ValueError):
    """The graph has errors, so no Keras model can be built from it."""


# -- graph -> Keras ------------------------------------------------------------------------------
def make_layer(type: str, name: str, params: dict[str, Any]):
    """Instantiate the Keras layer (or ``keras.ops`` operation) of a non-Input node.

    Args:
        type: the node's catalog type; its spec names the Keras module and class.
        name: the layer name.
        params: the node's params (operands and call-time params are left out of the config).

    Returns:
        The layer or operation, not yet called.
    """
    import keras

    from studio.core.graph.custom_layers import CUSTOM_LAYERS

    spec = CATALOG[type]
    if spec.module == "keras.layers":
        cls = CUSTOM_LAYERS.get(type) or getattr(keras.layers, spec.keras_class)
    else:  # an allow-listed class keras.applications or keras.ops defines (checked by the catalog)
        cls = getattr(importlib.import_module(spec.module), spec.keras_class)
    config = {k: v for k, v in params.items() if k not in ("name", *CALL_PARAMS.get(type, ()), *spec.operands)}
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
    """Build the functional Keras model of ``graph``; layer names are the node names.

    Args:
        graph: the studio graph; it is analyzed first.
        name: the Keras model's name.

    Returns:
        A ``keras.Model`` whose inputs and outputs are the graph's Input nodes and output nodes (a
        single tensor when there is one, else a list), not compiled.

    Raises:
        GraphBuildError: the analysis found problems (the first five are named).
    """
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
        tensors[node_id] = call_layer(layer, node.type, node.params, [tensors[i] for i in graph.inputs(node_id)])
    inputs = [tensors[i] for i in graph.input_nodes()]
    outputs = [tensors[i] for i in graph.output_nodes()]
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                       outputs[0] if len(outputs) == 1 else outputs, name=name)


def call_layer(layer, type: str, params: dict[str, Any], inputs: list):
    """Call a node's Keras layer (or operation) on its input tensors, as the node's type expects.

    Args:
        layer: what ``make_layer`` made for the node.
        type: the node's catalog type.
        params: the node's params (an operation's number operands are passed in place).
        inputs: the tensors feeding the node, in port order.

    Returns:
        The output tensor.
    """
    operands = CATALOG[type].operands
    if type in _MULTI_INPUT or type == "Attention":
        return layer(inputs)
    if type == "MultiHeadAttention":
        return layer(*inputs, use_causal_mask=bool(params.get("use_causal_mask")))
    if operands:  # an operand set to a number takes it; the others read the inputs in order
        feed = iter(inputs)
        return layer(*[next(feed) if params.get(name) is None else params[name] for name in operands])
    return layer(inputs[0])


# -- Keras -> graph ------------------------------------------------------------------------------
def from_keras(model) -> Graph:
    """The graph of a live Keras Sequential or functional model.

    Args:
        model: a Keras model; only its config is read, its weights are not copied.

    Returns:
        A new graph (see ``graph_from_config``).

    Raises:
        KerasImportError: the model holds a layer or object that DL Studio does not import.
    """
    return graph_from_config({"class_name": type(model).__name__, "config": model.get_config()})


def graph_from_config(serialized: Any) -> Graph:
    """Build a graph from a serialized model (``{"class_name", "config"}``) without deserializing it.

    Args:
        serialized: a Sequential or functional model as Keras serializes it; nested models become
            nodes named ``<nested model>.<layer>``.

    Returns:
        A new graph with one node per layer.

    Raises:
        KerasImportError: the model fails ``check_layers_supported`` or its layers do not form a graph.
    """
    check_layers_supported(serialized)
    nodes: list[tuple[str, str, dict]] = []
    edges: list[tuple[str, str]] = []
    _flatten(serialized, "", None, nodes, edges)
    try:
        return _build(nodes, edges)
    except GraphError as exc:
        raise KerasImportError(f"The model cannot become a graph: {exc}") from None


def check_layers_supported(serialized: Any, where: str = "model") -> None:
    """Check a serialized model before anything uses it: its structure, then every layer's class
    (Lambda, custom and unknown layers are refused; nested models are checked the same way) and
    the objects in its params.

    Args:
        serialized: the model as Keras serializes it (``{"class_name", "config"}``).
        where: what to call it in messages, e.g. ``"model"`` or a nested model's name.

    Raises:
        KerasImportError: one line naming the first problem.
    """
    layers = _model_layers(serialized, where)
    for index, layer in enumerate(layers):
        _check_layer(layer, index, where)


def _model_layers(serialized: Any, where: str) -> list[dict[str, Any]]:
    """The ``layers`` list of a serialized Sequential/functional model, its outer shape checked."""
    if not isinstance(serialized, dict) or not isinstance(serialized.get("class_name"), str):
        raise KerasImportError(f"The {where} is not a serialized Keras model (expected an object with a class_name)")
    class_name, module = serialized["class_name"], serialized.get("module")
    registered = serialized.get("registered_name")
    if (class_name not in _CONTAINERS or module is not None and module != "keras" and not str(module).startswith("keras.")
            or registered not in (None, class_name)):
        raise KerasImportError(f"The {where} is a {ascii(class_name)} from module {ascii(module)}: only Keras "
                               "Sequential and functional models can be imported.")
    config = serialized.get("config")
    if not isinstance(config, dict):
        raise KerasImportError(f"The {where}'s config should be an object, got {type(config).__name__}")
    layers = config.get("layers")
    if class_name == "Sequential" and layers is None:
        layers = []
    if not isinstance(layers, list):
        raise KerasImportError(f"The {where} has no list of layers: only Sequential and functional models "
                               "can be imported.")
    if len(layers) > MAX_NODES:
        raise KerasImportError(f"The {where} has {len(layers):,} layers; DL Studio imports at most {MAX_NODES:,}.")
    return layers


def _check_layer(layer: Any, index: int, where: str) -> None:
    if not isinstance(layer, dict):
        raise KerasImportError(f"Layer {index} of the {where} is not an object")
    config = layer.get("config")
    if not isinstance(config, dict):
        raise KerasImportError(f"Layer {index} of the {where} has no config object")
    name = config.get("name")
    if not isinstance(name, str) or not name:
        raise KerasImportError(f"Layer {index} of the {where} has no text name")
    class_name = layer.get("class_name")
    label = ascii(name)
    if not isinstance(class_name, str):
        raise KerasImportError(f"Layer {label} in {where} has no text class_name")
    if class_name == "Lambda":
        raise KerasImportError(f"Layer {label} in {where} is a Lambda layer. DL Studio refuses "
                               "Lambda layers: loading one would run arbitrary code.")
    inbound = layer.get("inbound_nodes", [])
    if not isinstance(inbound, list):
        raise KerasImportError(f"Layer {label} in {where}: inbound_nodes should be a list")
    if class_name in _CONTAINERS:
        check_layers_supported(layer, f"nested model {label}")
        return
    type = _node_type(layer)
    if type is None:
        raise KerasImportError(f"Layer {label} in {where} has type {ascii(class_name)} (module "
                               f"{ascii(layer.get('module'))}), which is not in the DL Studio catalog (custom and "
                               "unknown layers and operations are refused).")
    inner = config.get("layer")
    wrappable = KERAS_OBJECTS["keras.layers"] if type == "TimeDistributed" else {"SimpleRNN", "LSTM", "GRU"}
    if isinstance(inner, dict) and inner.get("class_name") not in wrappable:
        raise KerasImportError(f"Layer {label} wraps a {ascii(inner.get('class_name'))}, which is not supported.")
    if type == "Input":
        _input_params(config)
    else:
        errors = node_errors(type, _params(layer))
        if errors:
            raise KerasImportError(f"Layer {label} in {where}: {errors[0]}")


def _node_type(layer: dict[str, Any]) -> str | None:
    """The catalog type of a serialized layer or operation, matched by its fully qualified class
    (never by name alone), or None when it is not allowed."""
    class_name, module, registered = layer["class_name"], layer.get("module"), layer.get("registered_name")
    if registered == f"studio>{class_name}" and class_name in STUDIO_LAYERS and module == STUDIO_MODULE:
        return class_name
    if registered not in (None, class_name):
        return None
    if class_name == "InputLayer" and module in (None, "keras.layers"):
        return "Input"
    type = BY_KERAS_CLASS.get((module or "keras.layers", class_name))
    return None if type in STUDIO_LAYERS or any(k in layer["config"] for k in _MODEL_KEYS) else type


def _params(layer: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in layer["config"].items() if k != "name"}


def _input_params(config: dict[str, Any]) -> dict[str, Any]:
    shape = config.get("batch_shape") or config.get("batch_input_shape")
    if not _is_batch_shape(shape):
        raise KerasImportError(f"Input {ascii(config.get('name'))} has no valid shape")
    dtype = config.get("dtype")
    return {"shape": list(shape[1:]), "dtype": dtype if isinstance(dtype, str) else "float32"}


def _is_batch_shape(shape: Any) -> bool:
    return isinstance(shape, (list, tuple)) and 2 <= len(shape) <= 16 and all(
        d is None or isinstance(d, int) and not isinstance(d, bool) and 0 < d <= 2**31 for d in shape)


def _flatten(serialized: dict[str, Any], prefix: str, feeds: list[str] | None,
             nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]]) -> list[str]:
    """Append a (checked) serialized model's ``(type, name, params)`` nodes and ``(src, dst)`` edges
    (in port order); returns the node names of its outputs.

    ``feeds`` are the nodes a nested model reads (None: the model itself, whose inputs become Input
    nodes); a nested model's nodes are named ``prefix + layer name``.
    """
    config = serialized["config"]
    where = f"nested model {ascii(prefix[:-1])}" if prefix else "model"
    if serialized["class_name"] == "Sequential":
        return _flatten_sequential(config, prefix, feeds, nodes, edges, where)
    scope: dict[str, list[str]] = {}  # layer name in this model -> node names of its outputs
    inputs = [] if feeds is None else [entry[0] for entry in _tensor_list(config.get("input_layers"))]
    if feeds is not None and len(feeds) != len(inputs):
        raise KerasImportError(f"The {where} takes {len(inputs)} input(s) but is called with {len(feeds)}")
    for layer in config["layers"]:
        name = layer["config"]["name"]
        inbound = layer.get("inbound_nodes") or []
        if len(inbound) > 1:
            raise KerasImportError(f"Layer {ascii(name)} is shared (called {len(inbound)} times); shared layers "
                                   "are not supported on the canvas.")
        if layer["class_name"] == "InputLayer":
            if feeds is None:
                nodes.append(("Input", prefix + name, _input_params(layer["config"])))
                scope[name] = [prefix + name]
            elif name in inputs:
                scope[name] = [feeds[inputs.index(name)]]
            continue
        entry = inbound[0] if inbound else {}
        args = entry.get("args", []) if isinstance(entry, dict) else entry
        kwargs = entry.get("kwargs", {}) if isinstance(entry, dict) else {}
        kwargs = kwargs if isinstance(kwargs, dict) else {}
        if layer["class_name"] in _CONTAINERS:
            sources = [_source(h, name, scope) for h in _keras_tensors(args)]
            scope[name] = _flatten(layer, f"{prefix}{name}{NESTED_SEPARATOR}", sources, nodes, edges)
            continue
        type = _node_type(layer)
        params = _params(layer)
        if CATALOG[type].operands:
            histories = _operand_tensors(type, name, params, args, kwargs)
        else:
            histories = _keras_tensors(args)
            histories += [h for key in _ATTENTION_KWARGS if key in kwargs for h in _keras_tensors(kwargs[key])]
            params.update({key: kwargs[key] for key in CALL_PARAMS.get(type, ()) if key in kwargs})
        nodes.append((type, prefix + name, params))
        edges.extend((_source(h, name, scope), prefix + name) for h in histories)
        scope[name] = [prefix + name]
    if feeds is None:
        return []
    return [_source(h, ascii(prefix[:-1]), scope) for h in _tensor_list(config.get("output_layers"))]


def _flatten_sequential(config: dict[str, Any], prefix: str, feeds: list[str] | None,
                        nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]], where: str) -> list[str]:
    layers = list(config.get("layers", []))
    if feeds is not None:
        if len(feeds) != 1:
            raise KerasImportError(f"The {where} (a Sequential model) is called with {len(feeds)} inputs")
        previous = feeds[0]
        if layers and layers[0]["class_name"] == "InputLayer":
            layers.pop(0)
    elif layers and layers[0]["class_name"] == "InputLayer":
        first = layers.pop(0)
        previous = first["config"]["name"]
        nodes.append(("Input", previous, _input_params(first["config"])))
    elif _is_batch_shape(config.get("build_input_shape")):
        previous = "input"
        nodes.append(("Input", previous, {"shape": list(config["build_input_shape"][1:])}))
    else:
        raise KerasImportError("The Sequential model has no input shape; build it before importing")
    for layer in layers:
        name = prefix + layer["config"]["name"]
        if layer["class_name"] == "InputLayer":
            raise KerasImportError(f"The {where} has an InputLayer after its first layer")
        if layer["class_name"] in _CONTAINERS:
            outputs = _flatten(layer, name + NESTED_SEPARATOR, [previous], nodes, edges)
            if len(outputs) != 1:
                raise KerasImportError(f"Layer {ascii(name)} in the {where} has {len(outputs)} outputs, "
                                       "a Sequential model passes on one")
            previous = outputs[0]
            continue
        type = _node_type(layer)
        if CATALOG[type].operands:
            raise KerasImportError(f"Operation {ascii(name)} cannot be a step of a Sequential model")
        nodes.append((type, name, _params(layer)))
        edges.append((previous, name))
        previous = name
    return [previous]


def _tensor_list(value: Any) -> list[Any]:
    """A model's ``input_layers`` / ``output_layers``: one ``[name, node, index]`` or a list of them."""
    if isinstance(value, (list, tuple)) and len(value) == 3 and isinstance(value[0], str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(
            isinstance(v, (list, tuple)) and len(v) == 3 and isinstance(v[0], str) for v in value):
        raise KerasImportError("A nested model's inputs and outputs should be lists of [layer, node, index]")
    return list(value)


def _operand_tensors(type: str, name: str, params: dict[str, Any], args: Any, kwargs: dict) -> list[Any]:
    """The input tensors of an operation's call; operands given as numbers go into ``params``."""
    spec = CATALOG[type]
    args = list(args) if isinstance(args, (list, tuple)) else [args]
    if len(args) > len(spec.operands) or set(kwargs) - set(spec.operands[len(args):]):
        raise KerasImportError(f"Operation {ascii(name)} ({type}) is called with arguments DL Studio does not know")
    values = dict(zip(spec.operands, args)) | kwargs
    histories = []
    for operand in spec.operands:
        value = values.get(operand)
        tensors = _keras_tensors(value)
        if tensors:
            histories += tensors
        elif spec.param(operand) and isinstance(value, (int, float)) and not isinstance(value, bool):
            params[operand] = value
        else:
            raise KerasImportError(f"Operation {ascii(name)} ({type}): {operand} is {ascii(value)[:40]}; only "
                                   "inputs and plain numbers are supported")
    return histories


def _build(nodes: list[tuple[str, str, dict]], edges: list[tuple[str, str]]) -> Graph:
    """A graph of ``(type, name, params)`` nodes and ``(src name, dst name)`` edges in port order,
    built in time linear in its size (adding nodes one by one re-scans every name)."""
    ids: dict[str, str] = {}
    records = []
    for type, name, params in nodes:
        if name in ids:
            raise KerasImportError(f"Two layers are named {ascii(name)}")
        ids[name] = new_id()
        records.append({"id": ids[name], "type": type, "name": name,
                        "params": {**default_params(type), **copy.deepcopy(params)}})
    graph = Graph.from_dict({"nodes": records, "edges": []})
    for src, dst in edges:
        graph.connect(ids[src], ids[dst])
    return graph


def _keras_tensors(value: Any) -> list[Any]:
    """``keras_history`` entries of every Keras tensor inside ``value``, in order (unchecked)."""
    found, stack = [], [value]
    while stack:  # iterative, in order: the depth of a config is bounded but not small
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("class_name") == "__keras_tensor__":
                config = item.get("config")
                found.append(config.get("keras_history") if isinstance(config, dict) else None)
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, (list, tuple)):
            if len(item) == 3 and isinstance(item[0], str) and all(isinstance(v, int) for v in item[1:]):
                found.append(list(item))  # legacy [layer_name, node_index, tensor_index]
            else:
                stack.extend(reversed(item))
    return found


def _source(history: Any, layer: str, scope: dict[str, list[str]]) -> str:
    """The node a ``keras_history`` entry of ``layer`` reads from, checked."""
    if not (isinstance(history, (list, tuple)) and len(history) == 3 and isinstance(history[0], str)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in history[1:])):
        raise KerasImportError(f"Layer {ascii(layer)} has a malformed input reference {ascii(history)[:80]} "
                               "(expected [layer name, node index, tensor index])")
    if history[0] not in scope:
        raise KerasImportError(f"Layer {ascii(layer)} reads from {ascii(history[0])}, which is not a layer "
                               "defined before it")
    outputs = scope[history[0]]
    if not 0 <= history[2] < len(outputs):
        raise KerasImportError(f"Layer {ascii(layer)} reads output {history[2]} of {ascii(history[0])}; "
                               "multi-output layers are not supported.")
    return outputs[history[2]]


# -- .keras files ---------------------------------------------------------------------------------
MAX_CONFIG_BYTES = 32 * 2**20  # config.json of a 10,000-layer model is ~20 MiB
MAX_ARCHIVE_BYTES = 4 * 2**30  # everything inside a .keras, uncompressed (weights included)
MAX_MEMBERS = 1000
_BOMB_RATIO = 200  # real weights barely compress; a member this compressible (and big) is a bomb
_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError)


def read_keras_config(path: str | Path) -> dict[str, Any]:
    """The serialized model inside a ``.keras`` file, read without deserializing anything.

    The archive is judged from its headers (sizes, member count) and config.json is read with a
    byte cap, so a zip bomb is refused without being inflated.

    Args:
        path: a Keras 3 ``.keras`` file.

    Returns:
        The decoded config.json (``{"class_name", "config", ...}``).

    Raises:
        KerasImportError: the file is missing or unreadable, not a regular file, a legacy HDF5
            file, not a valid or too large archive, or its config.json is missing, too large or malformed.
    """
    path = Path(path)
    legacy = path.suffix.lower() in (".h5", ".hdf5")
    try:
        with open_regular(path) as handle:  # a FIFO or a device is refused, never read
            legacy = legacy or handle.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE
    except FileNotFoundError:
        if not legacy:
            raise KerasImportError(f"{path}: file not found") from None
    except OSError as exc:
        raise KerasImportError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:  # not a regular file
        raise KerasImportError(f"{path}: {exc}") from None
    if legacy:
        raise KerasImportError(f"{path}: legacy Keras HDF5 file: not supported for import, save it as .keras")
    try:
        with zipfile.ZipFile(path) as archive:
            raw = _read_config_json(archive, path)
    except KerasImportError:
        raise
    except _ZIP_ERRORS:
        raise KerasImportError(f"{path}: not a Keras 3 .keras file (a zip with config.json), or damaged") from None
    try:
        return loads_json_bounded(raw)
    except ValueError as exc:
        raise KerasImportError(f"{path}: config.json is malformed: {exc}") from None


def _read_config_json(archive: zipfile.ZipFile, path: Path) -> bytes:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise KerasImportError(f"{path}: holds {len(members):,} files; a .keras file has a handful")
    total = sum(m.file_size for m in members)
    if total > MAX_ARCHIVE_BYTES:
        raise KerasImportError(f"{path}: expands to {size_bytes(total)}; DL Studio opens .keras files "
                               f"up to {size_bytes(MAX_ARCHIVE_BYTES)}")
    for member in members:
        if member.file_size > 64 * 2**20 and member.file_size > _BOMB_RATIO * max(member.compress_size, 1):
            raise KerasImportError(f"{path}: {member.filename} expands {member.file_size // max(member.compress_size, 1):,} "
                                   "times: refused as a zip bomb")
    try:
        info = archive.getinfo("config.json")
    except KeyError:
        raise KerasImportError(f"{path}: not a Keras 3 .keras file (no config.json inside)") from None
    too_big = KerasImportError(f"{path}: config.json is larger than {MAX_CONFIG_BYTES / 2**20:g} MiB, "
                               "the most DL Studio reads")
    if info.file_size > MAX_CONFIG_BYTES:
        raise too_big
    with archive.open(info) as handle:
        raw = handle.read(MAX_CONFIG_BYTES + 1)  # the declared size may lie: never read past the cap
    if len(raw) > MAX_CONFIG_BYTES:
        raise too_big
    return raw


def load_keras_file(path: str | Path, with_model: bool = False):
    """Import a ``.keras`` file as a graph (and, if asked, the safely loaded model with weights).

    The file's size, structure, every layer and every object in its params are checked first; a
    Lambda, custom or unknown layer or object is refused before Keras deserializes anything.

    Args:
        path: a Keras 3 ``.keras`` file.
        with_model: also load the model, with ``safe_mode=True`` and uncompiled.

    Returns:
        The graph, or ``(graph, model)`` when ``with_model`` is true.

    Raises:
        KerasImportError: see ``read_keras_config`` and ``graph_from_config``; also when Keras cannot
            load the weights.
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
    """Copy weights layer by layer from ``source`` into ``target``, matched by name.

    Args:
        source: the Keras model the graph was imported from (nested models and all).
        target: a model built from that graph (``to_keras``); its layer ``stem.conv`` takes the
            weights of layer ``conv`` of ``source``'s nested model ``stem``.
    """
    layers = source_layers(source)
    for layer in target.layers:
        weights = layers[layer.name].get_weights()
        if weights:
            layer.set_weights(weights)


def source_layers(model, prefix: str = "") -> dict[str, Any]:
    """Every layer of ``model`` by the name of the node it was imported as, nested models included.

    One pass over the model: looking each name up with ``get_layer`` is quadratic, seconds for a
    model of a thousand layers.

    Args:
        model: a Keras model.
        prefix: put before every name (the names of a nested model's layers start with its own).

    Returns:
        Node name (``<nested model>.<layer>`` for a layer of a nested model) -> Keras layer; a
        nested model is there under its own name too.
    """
    import keras

    layers = {}
    for layer in model.layers:
        layers[prefix + layer.name] = layer
        if isinstance(layer, keras.Model):
            layers.update(source_layers(layer, f"{prefix}{layer.name}{NESTED_SEPARATOR}"))
    return layers
