"""Where a graph's output comes from: the layer that sizes it and its activation (pure Python)."""

from __future__ import annotations

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
