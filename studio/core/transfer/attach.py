"""A backbone in the project graph: its layers renamed ``backbone_<name>``, a new head for the
dataset, and which of those layers train (the Keras ``trainable`` flag as a node param; a frozen
BatchNormalization runs in inference mode, as Keras recommends for fine-tuning)."""

from __future__ import annotations

from studio.core.graph.groups import BACKBONE_PREFIX
from studio.core.graph.model import Graph
from studio.core.tasks import get_task

FREEZE_HELP = ("all (train only the new head), none (train everything) or until:LAYER (freeze the backbone "
               "layers before LAYER, train LAYER and the layers after it)")
_HEAD_TYPES = ("Dense", "Activation", "Softmax")


def backbone_layers(graph: Graph) -> list[str]:
    """Ids of the backbone's nodes, in data-flow order."""
    return [node_id for node_id in graph.topological_order() if graph.nodes[node_id].name.startswith(BACKBONE_PREFIX)]


def parse_freeze(text: str) -> tuple[str, str | None]:
    """``("all"|"none"|"until", layer)`` from ``all``, ``none`` or ``until:LAYER``.

    Raises:
        ValueError: any other text.
    """
    if text in ("all", "none"):
        return text, None
    if text.startswith("until:") and text[len("until:"):].strip():
        return "until", text[len("until:"):].strip()
    raise ValueError(f"freeze must be {FREEZE_HELP}; got {text!r}")


def apply_freeze(graph: Graph, freeze: str) -> None:
    """Set ``trainable`` on every backbone node of ``graph`` as ``freeze`` says (see FREEZE_HELP).

    Args:
        graph: a graph whose backbone layers are named ``backbone_<layer>``; edited in place (one
            ``param_changed`` event per backbone node).
        freeze: ``all`` (every backbone layer frozen), ``none``, or ``until:LAYER`` (the layers before
            LAYER frozen, LAYER and those after it trained); LAYER may omit the ``backbone_`` prefix.

    Raises:
        ValueError: a malformed ``freeze``, or a LAYER that is not in the backbone.
    """
    mode, layer = parse_freeze(freeze)
    ids = backbone_layers(graph)
    names = [graph.nodes[node_id].name for node_id in ids]
    start = len(ids) if mode == "all" else 0
    if mode == "until":
        wanted = layer if layer.startswith(BACKBONE_PREFIX) else BACKBONE_PREFIX + layer
        if wanted not in names:
            shown = ", ".join(name[len(BACKBONE_PREFIX):] for name in names[:12])
            raise ValueError(f"the backbone has no layer {layer!r}; it starts with {shown}")
        start = names.index(wanted)
    for position, node_id in enumerate(ids):
        graph.set_param(node_id, "trainable", position >= start)


def with_backbone(backbone, input_shape, task: str, num_classes: int, targets: int = 1,
                  freeze: str = "all") -> Graph:
    """A new graph: an Input for the dataset, the backbone's feature layers (its old classifier
    dropped), pooling for spatial features, and a new head for ``task``; frozen as ``freeze`` says.

    Args:
        backbone: what ``load_backbone`` returned; its graph's layers are copied as ``backbone_<name>``.
        input_shape: the dataset's sample shape; images of another size get a Resizing layer.
        task: the dataset's task name (the head's units and activation).
        num_classes: the dataset's class count.
        targets: the number of values a regression target holds.
        freeze: as ``apply_freeze`` takes it.

    Returns:
        The new graph; the backbone's weights are not in it (a run copies them at its start).

    Raises:
        BackboneError: the backbone's input and the data differ in rank or channel count.
        ValueError: a bad ``freeze``.
    """
    from studio.core.graph.infer import analyze
    from studio.core.transfer.backbones import BackboneError

    source = backbone.graph
    source_input = source.nodes[source.input_nodes()[0]].params["shape"]
    graph = Graph()
    previous = graph.add_node("Input", {"shape": list(input_shape)}, name="input").id
    if list(source_input) != list(input_shape):
        if len(input_shape) != 3 or len(source_input) != 3 or input_shape[2] != source_input[2]:
            raise BackboneError(f"{backbone.label} reads {tuple(source_input)} but the dataset gives "
                                f"{tuple(input_shape)}: pick a backbone with the same number of channels")
        previous = _add(graph, "Resizing", previous, name="resize_for_backbone",
                        height=source_input[0], width=source_input[1])
    ids = {source.input_nodes()[0]: previous}
    for node_id in _feature_nodes(source):
        node = source.nodes[node_id]
        ids[node_id] = graph.add_node(node.type, dict(node.params), name=BACKBONE_PREFIX + node.name).id
        for edge in sorted(source.in_edges(node_id), key=lambda e: e.port):
            graph.connect(ids[edge.src], ids[node_id], edge.port)
    features = ids[_feature_nodes(source)[-1]] if _feature_nodes(source) else previous
    shape = analyze(graph).nodes[features].output_shape or ()
    if len(shape) == 3:
        features = _add(graph, "GlobalAveragePooling2D", features, name="head_pool")
    elif len(shape) > 3 or len(shape) == 2:
        features = _add(graph, "Flatten", features, name="head_flatten")
    fitted = get_task(task)
    units = fitted.output_units(num_classes, targets, None)
    _add(graph, "Dense", features, name="head", units=units, activation=fitted.output_activation(units))
    apply_freeze(graph, freeze)
    return graph


def _add(graph: Graph, type: str, source: str, name: str, **params) -> str:
    from studio.core.graph.catalog import default_params

    node = graph.add_node(type, {**default_params(type), **params}, name=name)
    graph.connect(source, node.id)
    return node.id


def _feature_nodes(source: Graph) -> list[str]:
    """The source's layers minus its classifier: the last Dense and any activation after it."""
    order = [node_id for node_id in source.topological_order() if source.nodes[node_id].type != "Input"]
    end = len(order)
    while end and source.nodes[order[end - 1]].type in ("Activation", "Softmax"):
        end -= 1
    if end and source.nodes[order[end - 1]].type == "Dense":
        end -= 1
    return order[:end]
