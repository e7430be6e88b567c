"""Fit a graph to a dataset before training: check it, and adapt Input shape and output units.

Adapting is done only where the meaning is clear (same input rank; a Dense layer producing the
output); anything else is refused with a message naming the node. Pure Python (no Keras).
"""

from __future__ import annotations

from studio.core.graph.infer import analyze
from studio.core.graph.model import Graph
from studio.core.training.errors import TrainingError

# Layers that keep the last axis of their input: the output layer may sit before them.
_PASS_THROUGH = {"Activation", "Softmax", "Dropout", "GaussianNoise", "GaussianDropout",
                 "AlphaDropout", "ActivityRegularization", "Identity", "ReLU", "LeakyReLU", "ELU",
                 "PReLU"}


def check_graph(graph: Graph) -> None:
    """Raise TrainingError listing the graph's errors (each names its node)."""
    analysis = analyze(graph)
    if not analysis.ok:
        shown = "; ".join(problem.message for problem in analysis.problems[:5])
        more = len(analysis.problems) - 5
        raise TrainingError(
            f"the model has errors: {shown}{f' (and {more} more)' if more > 0 else ''}; fix them before training"
        )


def output_activation(graph: Graph) -> str:
    """The activation producing the model output (``linear`` when the output is raw logits)."""
    node = graph.nodes[graph.output_nodes()[0]]
    while True:
        if node.type == "Softmax":
            return "softmax"
        if node.type in ("Activation", "Dense") or "activation" in node.params:
            return node.params.get("activation") or "linear"
        inputs = graph.inputs(node.id)
        if node.type not in _PASS_THROUGH or not inputs:
            return "linear"
        node = graph.nodes[inputs[0]]


def output_dense(graph: Graph):
    """The Dense node whose units set the output size, or None when there is none."""
    node = graph.nodes[graph.output_nodes()[0]]
    while node.type in _PASS_THROUGH and graph.inputs(node.id):
        node = graph.nodes[graph.inputs(node.id)[0]]
    return node if node.type == "Dense" else None


def needed_outputs(task: str, num_classes: int | None, target_size: int, current: int) -> int:
    """How many output units the task needs (binary accepts 1 sigmoid or 2 softmax units)."""
    if task == "classification":
        return int(num_classes)
    if task == "binary":
        return current if current in (1, 2) else 1
    return target_size


def adapt_to_dataset(graph: Graph, dataset) -> tuple[Graph, list[str]]:
    """``adapt_graph`` with the task, shapes and classes of a loaded ``Dataset``; for token-id
    inputs, an Embedding read straight from the Input also gets the dataset's vocabulary size."""
    y = dataset.y_train
    graph, changes = adapt_graph(graph, dataset.task, dataset.input_shape, dataset.num_classes,
                                 y.shape[-1] if y.ndim > 1 else 1, y.shape[1:])
    if dataset.normalization.get("tokens"):
        vocabulary = int(dataset.value_range[1]) + 1
        for node_id in graph.successors(graph.input_nodes()[0]):
            node = graph.nodes[node_id]
            if node.type == "Embedding" and node.params["input_dim"] != vocabulary:
                changes.append(f"embedding {node.name!r}: input_dim {node.params['input_dim']} -> "
                               f"{vocabulary} (vocabulary)")
                graph.set_param(node_id, "input_dim", vocabulary)
        check_graph(graph)
    return graph, changes


def fit_input(graph: Graph, input_shape) -> list[str]:
    """Set the shape of ``graph``'s one Input to ``input_shape`` when only the sizes differ (in place);
    the change made, or TrainingError when the rank differs."""
    input_node = graph.nodes[graph.input_nodes()[0]]
    have, want = tuple(input_node.params.get("shape") or ()), tuple(input_shape)
    if have == want:
        return []
    if len(have) != len(want):
        raise TrainingError(
            f"input {input_node.name!r} expects shape {have} but the dataset gives {want}: "
            "pick a model made for this kind of data"
        )
    graph.set_param(input_node.id, "shape", list(want))
    return [f"input {input_node.name!r}: shape {have} -> {want}"]


def adapt_graph(graph: Graph, task: str, input_shape, num_classes: int | None,
                target_size: int = 1, target_shape: tuple | None = None) -> tuple[Graph, list[str]]:
    """A copy of ``graph`` fitted to the dataset, and the list of changes made (human readable).

    ``target_shape`` is one sample's target shape (default: one label, or ``target_size`` values);
    targets per time step ((T,) class ids or (T, F) values) need an output with the same steps. Raises TrainingError when the graph has
    errors or cannot be fitted.
    """
    check_graph(graph)
    graph = graph.copy()
    changes: list[str] = []
    inputs, outputs = graph.input_nodes(), graph.output_nodes()
    if len(inputs) != 1 or len(outputs) != 1:
        raise TrainingError(
            f"the model has {len(inputs)} inputs and {len(outputs)} outputs; training on a dataset "
            "needs exactly one of each"
        )
    changes += fit_input(graph, input_shape)
    want = tuple(input_shape)
    analysis = analyze(graph)
    if not analysis.ok:
        raise TrainingError(
            f"the model does not accept inputs of shape {want}: {analysis.problems[0].message}"
        )
    output_id = outputs[0]
    shape = analysis.nodes[output_id].output_shape or ()
    if task == "localization":
        return graph, changes + _fit_box_output(graph, output_id, shape, num_classes)
    if task == "segmentation":
        return graph, changes + _fit_pixel_output(graph, output_id, shape, tuple(input_shape), num_classes)
    current = shape[-1] if shape else None
    need = needed_outputs(task, num_classes, target_size, current)
    what = {"classification": f"{num_classes} classes", "binary": "a binary target"}.get(
        task, f"{target_size} target value(s)")
    if target_shape is None:
        target_shape = (target_size,) if task == "regression" else ()
    steps = tuple(target_shape) if task != "regression" else tuple(target_shape)[:-1]
    if tuple(shape[:-1]) != steps:
        per, fix = ((f"per time step, shape {tuple(target_shape)}", "keep the time axis (return_sequences, "
                     "TimeDistributed)") if steps else
                    (f"per sample, shape {tuple(target_shape) or (1,)}", "reduce the time axis (pooling, "
                     "or return_sequences off on the last recurrent layer)"))
        raise TrainingError(f"output {graph.nodes[output_id].name!r} gives shape {shape} but the dataset's "
                            f"target is {per}: {fix} so the output has one value per target")
    if current != need:
        dense = output_dense(graph)
        if dense is None:
            raise TrainingError(
                f"output {graph.nodes[output_id].name!r} gives shape {shape} but the dataset has "
                f"{what}: end the model with a Dense layer of {need} units"
            )
        graph.set_param(dense.id, "units", need)
        changes.append(f"output {dense.name!r}: units {current} -> {need} ({what})")
    activation = output_activation(graph)
    dense = output_dense(graph)
    if task == "regression" and activation in ("softmax", "sigmoid") and dense is not None:
        if graph.nodes[output_id].type in ("Softmax", "Activation"):
            raise TrainingError(
                f"output {graph.nodes[output_id].name!r} applies {activation}, which does not fit a "
                "regression target: remove it"
            )
        graph.set_param(dense.id, "activation", "linear")
        changes.append(f"output {dense.name!r}: activation {activation} -> linear (regression)")
    elif task == "binary" and need == 1 and activation == "softmax" and dense is not None:
        if graph.nodes[output_id].type in ("Softmax", "Activation"):
            raise TrainingError(
                f"output {graph.nodes[output_id].name!r} applies softmax to one unit: use sigmoid"
            )
        graph.set_param(dense.id, "activation", "sigmoid")
        changes.append(f"output {dense.name!r}: activation softmax -> sigmoid (binary)")
    check_graph(graph)
    return graph, changes


def _fit_pixel_output(graph: Graph, output_id: str, shape: tuple, input_shape: tuple, classes: int) -> list[str]:
    """Check that a segmentation model outputs one class score per pixel; fit a last Conv2D's filters."""
    if len(shape) != 3 or tuple(shape[:2]) != tuple(input_shape[:2]):
        raise TrainingError(
            f"this dataset has a per-pixel target (a class for every pixel of {input_shape[:2]}) but "
            f"output {graph.nodes[output_id].name!r} gives {shape}: a classification model outputs one label "
            f"per image; use a model that outputs ({input_shape[0]}, {input_shape[1]}, {classes}), e.g. the "
            "unet_28 template")
    if shape[-1] == classes:
        return []
    node = graph.nodes[output_id]
    while node.type in _PASS_THROUGH and graph.inputs(node.id):
        node = graph.nodes[graph.inputs(node.id)[0]]
    if node.type != "Conv2D":
        raise TrainingError(f"the model outputs {shape[-1]} scores per pixel but the masks have {classes} "
                            f"classes: end it with a 1x1 Conv2D of {classes} filters")
    graph.set_param(node.id, "filters", classes)
    return [f"output {node.name!r}: filters {shape[-1]} -> {classes} ({classes} mask classes)"]


def _fit_box_output(graph: Graph, output_id: str, shape: tuple, classes: int) -> list[str]:
    """Check that a localizer outputs class scores + 4 box values (a Concatenate of a class Dense and a
    box Dense); fit the class Dense's units."""
    node = graph.nodes[output_id]
    parts = [graph.nodes[i] for i in graph.inputs(output_id)] if node.type == "Concatenate" else []
    if len(shape) != 1 or len(parts) != 2 or any(part.type != "Dense" for part in parts):
        raise TrainingError(
            f"this dataset has a box target (a class and 4 box coordinates per image) but output {node.name!r} "
            f"gives {shape}: a classification model predicts the class only; use a model that ends in a "
            "Concatenate of a class Dense (softmax) and a box Dense (4, sigmoid), e.g. the localizer_28 template")
    head, box = parts
    if box.params.get("units") != 4:
        raise TrainingError(f"the second input of {node.name!r} must be the box: a Dense of 4 units")
    if head.params.get("units") == classes:
        return []
    old = head.params.get("units")
    graph.set_param(head.id, "units", classes)
    return [f"output {head.name!r}: units {old} -> {classes} ({classes} classes)"]
