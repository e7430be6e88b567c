"""Where a graph's output comes from: the layer that sizes it and its activation (pure Python)."""

from __future__ import annotations

from studio.core.tasks.base import TaskError

# Layers that keep the last axis of their input: the output layer may sit before them.
PASS_THROUGH = {"Activation", "Softmax", "Dropout", "GaussianNoise", "GaussianDropout",
                "AlphaDropout", "ActivityRegularization", "Identity", "ReLU", "LeakyReLU", "ELU",
                "PReLU"}


def sizing_node(graph, node_id: str):
    """The node that sets the last axis of ``node_id``'s output (pass-through layers skipped)."""
    node = graph.nodes[node_id]
    while node.type in PASS_THROUGH and graph.inputs(node.id):
        node = graph.nodes[graph.inputs(node.id)[0]]
    return node


def output_activation(graph) -> str:
    """The activation producing the model output (``linear`` when the output is raw logits)."""
    node = graph.nodes[graph.output_nodes()[0]]
    while True:
        if node.type == "Softmax":
            return "softmax"
        if node.type in ("Activation", "Dense") or "activation" in node.params:
            return node.params.get("activation") or "linear"
        inputs = graph.inputs(node.id)
        if node.type not in PASS_THROUGH or not inputs:
            return "linear"
        node = graph.nodes[inputs[0]]


def output_dense(graph):
    """The Dense node whose units set the output size, or None when there is none."""
    node = sizing_node(graph, graph.output_nodes()[0])
    return node if node.type == "Dense" else None


def fit_conv_filters(graph, output_id: str, have: int, need: int, what: str, why: str) -> list[str]:
    """Set the filters of the 1x1 Conv2D that sizes a per-pixel or per-cell output to ``need``.

    Args:
        graph: the graph to change.
        output_id: the output node.
        have: the values per pixel or cell the output gives now.
        need: the values the data needs.
        what: what one value is counted per, e.g. "scores per pixel".
        why: what ``need`` is made of, e.g. "3 mask classes".

    Returns:
        The change as one line (empty when nothing changed); raises TaskError when no Conv2D sizes it.
    """
    if have == need:
        return []
    node = sizing_node(graph, output_id)
    if node.type != "Conv2D":
        raise TaskError(f"the model outputs {have} {what} but {why} need {need}: end it with a 1x1 Conv2D "
                        f"of {need} filters")
    graph.set_param(node.id, "filters", need)
    return [f"output {node.name!r}: filters {have} -> {need} ({why})"]
