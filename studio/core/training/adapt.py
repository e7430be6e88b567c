"""Fit a graph to a dataset before training: check it, and adapt Input shape and output units.

Adapting is done only where the meaning is clear (same input rank; a Dense layer producing the
output); anything else is refused with a message naming the node. Pure Python (no Keras).
"""

from __future__ import annotations

from studio.core.graph.infer import analyze
from studio.core.graph.model import Graph
from studio.core.tasks import TaskError, get_task
from studio.core.tasks.outputs import output_activation, output_dense
from studio.core.training.errors import TrainingError


def check_graph(graph: Graph) -> None:
    """Raise TrainingError listing the graph's errors (each names its node)."""
    analysis = analyze(graph)
    if not analysis.ok:
        shown = "; ".join(problem.message for problem in analysis.problems[:5])
        more = len(analysis.problems) - 5
        raise TrainingError(
            f"the model has errors: {shown}{f' (and {more} more)' if more > 0 else ''}; fix them before training"
        )


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
    try:
        fitted = get_task(task)
        if not fitted.dense_output:
            changes += fitted.fit_output(graph, output_id, tuple(shape), want, num_classes)
        else:
            changes += _fit_dense_output(graph, fitted, output_id, shape, num_classes, target_size, target_shape)
    except TaskError as exc:
        raise TrainingError(str(exc)) from None
    check_graph(graph)
    return graph, changes


def _fit_dense_output(graph: Graph, task, output_id: str, shape: tuple, num_classes: int | None,
                      target_size: int, target_shape: tuple | None) -> list[str]:
    """Fit the output Dense's units and activation to ``task``'s targets (in place); the changes made."""
    changes = []
    current = shape[-1] if shape else None
    need = task.output_units(num_classes, target_size, current)
    what = task.target_text(num_classes, target_size)
    if target_shape is None:
        target_shape = (target_size,) if task.values_last_axis else ()
    steps = tuple(target_shape)[:-1] if task.values_last_axis else tuple(target_shape)
    if tuple(shape[:-1]) != steps:
        per, fix = ((f"per time step, shape {tuple(target_shape)}", "keep the time axis (return_sequences, "
                     "TimeDistributed)") if steps else
                    (f"per sample, shape {tuple(target_shape) or (1,)}", "reduce the time axis (pooling, "
                     "or return_sequences off on the last recurrent layer)"))
        raise TaskError(f"output {graph.nodes[output_id].name!r} gives shape {shape} but the dataset's "
                        f"target is {per}: {fix} so the output has one value per target")
    if current != need:
        dense = output_dense(graph)
        if dense is None:
            raise TaskError(
                f"output {graph.nodes[output_id].name!r} gives shape {shape} but the dataset has "
                f"{what}: end the model with a Dense layer of {need} units"
            )
        graph.set_param(dense.id, "units", need)
        changes.append(f"output {dense.name!r}: units {current} -> {need} ({what})")
    activation, dense = output_activation(graph), output_dense(graph)
    problem = task.activation_problem(activation, need)
    if problem is not None and dense is not None:
        better, wrong = problem
        if graph.nodes[output_id].type in ("Softmax", "Activation"):
            raise TaskError(f"output {graph.nodes[output_id].name!r} {wrong}: use {better}")
        graph.set_param(dense.id, "activation", better)
        changes.append(f"output {dense.name!r}: activation {activation} -> {better} ({task.name})")
    return changes
