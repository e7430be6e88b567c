"""Variants of one choice of a project, to train side by side ("compare variants").

``make_variants(project, "activation", ["relu", "sigmoid"])`` -> ``[(label, project), ...]``; each
project is a copy of the original with that one choice changed everywhere it applies.
"""

from __future__ import annotations

from typing import Any, Callable

from studio.core.graph.catalog import ACTIVATIONS, INITIALIZERS, get_spec
from studio.core.graph.model import Graph
from studio.core.training.config import OPTIMIZERS

CHOICES = ("activation", "optimizer", "initializer", "batchnorm", "dropout", "learning_rate")
MAX_VARIANTS = 32
_ON = ("on", "with", "true", "yes", "1")
_OFF = ("off", "without", "false", "no", "0")


class VariantError(ValueError):
    """A choice or value that cannot make a variant, with the one line to show."""


def _hidden(graph: Graph) -> list[str]:
    """Node ids in topological order, without inputs and the model's output layers."""
    outputs = set(graph.output_nodes())
    return [i for i in graph.topological_order() if i not in outputs and graph.node(i).type != "Input"]


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


def _set_activation(project, value: str) -> int:
    changed = 0
    for node_id in _hidden(project.graph):
        if "activation" in project.graph.node(node_id).params:
            project.graph.set_param(node_id, "activation", value)
            changed += 1
    return changed


def _set_initializer(project, value: str) -> int:
    changed = 0
    for node in project.graph.nodes.values():
        if "kernel_initializer" in node.params:
            project.graph.set_param(node.id, "kernel_initializer", value)
            changed += 1
    return changed


def _weighted(graph: Graph) -> list[str]:
    return [i for i in _hidden(graph)
            if graph.node(i).type == "Dense" or get_spec(graph.node(i).type).category == "Convolution"]


def _set_batchnorm(project, on: bool) -> int:
    graph = project.graph
    if not on:
        norms = [n.id for n in graph.nodes.values() if n.type == "BatchNormalization"]
        for node_id in norms:
            remove_between(graph, node_id)
        return len(norms)
    added = 0
    for node_id in _weighted(graph):
        if not any(graph.node(d).type == "BatchNormalization" for d in graph.successors(node_id)):
            insert_after(graph, node_id, "BatchNormalization")
            added += 1
    return added


def _set_dropout(project, rate: float) -> int:
    """Rate 0 removes every Dropout; otherwise existing ones take ``rate``, or, when there are
    none, a Dropout(rate) follows each hidden Dense layer."""
    graph = project.graph
    drops = [n.id for n in graph.nodes.values() if n.type == "Dropout"]
    for node_id in drops:
        if rate == 0:
            remove_between(graph, node_id)
        else:
            graph.set_param(node_id, "rate", rate)
    if drops or rate == 0:
        return len(drops)
    dense = [i for i in _hidden(graph) if graph.node(i).type == "Dense"]
    for node_id in dense:
        insert_after(graph, node_id, "Dropout", {"rate": rate})
    return len(dense)


def _training(key: str) -> Callable[[Any, Any], int]:
    def apply(project, value) -> int:
        project.training = {**project.training, key: value}
        return 1
    return apply


def parse_value(choice: str, text: Any) -> Any:
    """A variant value from text (or a value), checked for ``choice``."""
    raw = str(text).strip().lower()
    if choice == "activation" and raw in ACTIVATIONS:
        return raw
    if choice == "optimizer" and raw in OPTIMIZERS:
        return raw
    if choice == "initializer" and raw in INITIALIZERS:
        return raw
    if choice == "batchnorm" and raw in _ON + _OFF:
        return raw in _ON
    if choice in ("dropout", "learning_rate"):
        try:
            number = float(raw)
        except ValueError:
            number = float("nan")
        if choice == "dropout" and 0 <= number < 1:
            return number
        if choice == "learning_rate" and 0 < number <= 10:
            return number
    allowed = {"activation": ", ".join(ACTIVATIONS), "optimizer": ", ".join(OPTIMIZERS),
               "initializer": ", ".join(INITIALIZERS), "batchnorm": "on, off",
               "dropout": "a rate from 0 (none) to below 1", "learning_rate": "a number above 0, up to 10"}
    raise VariantError(f"{choice} cannot be {text!r}: use {allowed[choice]}")


_APPLY = {
    "activation": _set_activation, "initializer": _set_initializer, "batchnorm": _set_batchnorm,
    "dropout": _set_dropout, "optimizer": _training("optimizer"), "learning_rate": _training("learning_rate"),
}


def make_variants(project, choice: str, values: list[Any]) -> list[tuple[str, Any]]:
    """One ``(label, project copy)`` per value of ``choice`` (see ``CHOICES``)."""
    if choice not in CHOICES:
        raise VariantError(f"unknown choice {choice!r}: vary one of {', '.join(CHOICES)}")
    parsed = list(dict.fromkeys(parse_value(choice, value) for value in values))
    if not 1 <= len(parsed) <= MAX_VARIANTS:
        raise VariantError(f"give 1 to {MAX_VARIANTS} different values for {choice}")
    variants = []
    for value in parsed:
        copy = project.copy()
        shown = ("on" if value else "off") if choice == "batchnorm" else f"{value:g}" if isinstance(value, float) else value
        label = f"{choice}={shown}"
        if not _APPLY[choice](copy, value) and (choice in ("activation", "initializer") or value):
            raise VariantError(f"{project.name} has no layer where {label} applies")
        copy.name = f"{project.name}-{choice}-{shown}"
        variants.append((label, copy))
    return variants
