"""Settings of a whole graph at once, declared as ParamSpecs so a search space (a sweep's, or the grid
of "compare variants") varies them like any training setting:

- ``activation``: every hidden layer that has an activation (the output layers keep theirs);
- ``initializer``: every layer's ``kernel_initializer``;
- ``batchnorm``: true puts a BatchNormalization after each hidden Dense/convolution, false removes them;
- ``dropout``: existing Dropout layers take the rate, or, when there are none, a Dropout follows each
  hidden Dense; 0 removes every Dropout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from studio.core.graph.catalog import ACTIVATIONS, INITIALIZERS, get_spec
from studio.core.graph.model import Graph
from studio.core.params import ParamSpec


@dataclass(frozen=True)
class GraphSetting:
    """A setting applied across a graph: ``applies(graph)`` says whether any layer takes it."""

    spec: ParamSpec
    applies: Callable[[Graph], bool]
    apply: Callable[[Graph, Any], None]


def _hidden(graph: Graph) -> list[str]:
    """Node ids in topological order, without inputs and the model's output layers."""
    outputs = set(graph.output_nodes())
    return [i for i in graph.topological_order() if i not in outputs and graph.node(i).type != "Input"]


def _of_type(graph: Graph, type: str) -> list[str]:
    return [node.id for node in graph.nodes.values() if node.type == type]


def _hidden_dense(graph: Graph) -> list[str]:
    return [i for i in _hidden(graph) if graph.node(i).type == "Dense"]


def _weighted(graph: Graph) -> list[str]:
    return [i for i in _hidden(graph)
            if graph.node(i).type == "Dense" or get_spec(graph.node(i).type).category == "Convolution"]


def _activated(graph: Graph) -> list[str]:
    return [i for i in _hidden(graph) if "activation" in graph.node(i).params]


def _initialized(graph: Graph) -> list[str]:
    return [node.id for node in graph.nodes.values() if "kernel_initializer" in node.params]


def insert_after(graph: Graph, node_id: str, type: str, params: dict[str, Any] | None = None) -> str:
    """Put a new ``type`` layer between ``node_id`` and everything it fed; return its id."""
    edges = graph.out_edges(node_id)
    for edge in edges:
        graph.disconnect(edge)
    new = graph.add_node(type, params).id
    graph.connect(node_id, new)
    for edge in edges:
        graph.connect(new, edge.dst, edge.port)
    return new


def remove_between(graph: Graph, node_id: str) -> None:
    """Remove a single-input layer, feeding its input to everything it fed."""
    (source,) = graph.inputs(node_id)
    edges = graph.out_edges(node_id)
    graph.remove_node(node_id)
    for edge in edges:
        graph.connect(source, edge.dst, edge.port)


def _set_everywhere(find: Callable[[Graph], list[str]], param: str) -> Callable[[Graph, Any], None]:
    def apply(graph: Graph, value: Any) -> None:
        for node_id in find(graph):
            graph.set_param(node_id, param, value)
    return apply


def _set_batchnorm(graph: Graph, on: bool) -> None:
    if not on:
        for node_id in _of_type(graph, "BatchNormalization"):
            remove_between(graph, node_id)
        return
    for node_id in _weighted(graph):
        if not any(graph.node(d).type == "BatchNormalization" for d in graph.successors(node_id)):
            insert_after(graph, node_id, "BatchNormalization")


def _set_dropout(graph: Graph, rate: float) -> None:
    drops = _of_type(graph, "Dropout")
    for node_id in drops:
        if rate == 0:
            remove_between(graph, node_id)
        else:
            graph.set_param(node_id, "rate", rate)
    if not drops and rate:
        for node_id in _hidden_dense(graph):
            insert_after(graph, node_id, "Dropout", {"rate": rate})


_DROPOUT_RATE = next(spec for spec in get_spec("Dropout").params if spec.name == "rate")

GRAPH_SETTINGS: dict[str, GraphSetting] = {setting.spec.name: setting for setting in (
    GraphSetting(ParamSpec("activation", "choice", "relu", "The activation of every hidden layer that has one "
                           "(the output layers keep theirs).", choices=ACTIVATIONS),
                 lambda graph: bool(_activated(graph)), _set_everywhere(_activated, "activation")),
    GraphSetting(ParamSpec("initializer", "choice", "glorot_uniform", "How every layer's starting weights are "
                           "drawn (kernel_initializer).", choices=INITIALIZERS),
                 lambda graph: bool(_initialized(graph)), _set_everywhere(_initialized, "kernel_initializer")),
    GraphSetting(ParamSpec("batchnorm", "bool", False, "True: a BatchNormalization after each hidden Dense or "
                           "convolution; false: none."),
                 lambda graph: bool(_weighted(graph) or _of_type(graph, "BatchNormalization")), _set_batchnorm),
    GraphSetting(ParamSpec("dropout", "float", 0.0, "Existing Dropout layers take this rate, or one follows each "
                           "hidden Dense; 0 removes every Dropout.", _DROPOUT_RATE.minimum, _DROPOUT_RATE.maximum),
                 lambda graph: bool(_of_type(graph, "Dropout") or _hidden_dense(graph)), _set_dropout),
)}
