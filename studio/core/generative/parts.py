"""Find the linked sub-graphs of a generative project and check them against the data (pure Python).

A generative graph holds two separate groups of connected layers; which is which is derived from
the graph itself, so editing on the canvas never leaves a stale list of node ids behind:

- the *generator* (GAN) or *decoder* (VAE, autoencoder) is the group without an image Input: it
  starts at a latent Input (and, for a conditional GAN, a class-label Input feeding an Embedding)
  and ends in one image;
- the *discriminator* (GAN) or *encoder* (VAE, autoencoder) is the group that reads an image:
  a discriminator ends in one score, an encoder in the latent code (a VAE's ends in a Sampling
  layer fed by z_mean and z_log_var).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core.graph.infer import analyze
from studio.core.graph.model import Graph
from studio.core.training.errors import TrainingError

KINDS = ("gan", "vae", "autoencoder")
PART_NAMES = {"gan": ("generator", "discriminator"), "vae": ("decoder", "encoder"),
              "autoencoder": ("decoder", "encoder")}
DEFAULTS = {"grid_size": 64, "seed": 0, "quality": True, "kl_weight": 1.0}


class GenerativeError(TrainingError):
    """A generative project or run that cannot be used as asked (train it, sample it, write text
    with it); the message says what to change."""


@dataclass
class Parts:
    """The two sub-graphs of a generative graph and the nodes the engine wires together.

    ``maker`` is the generator/decoder group, ``reader`` the discriminator/encoder group (node id
    lists). ``z_mean``/``z_log_var``/``sampling`` are set for a VAE only; ``label_inputs`` maps
    ``maker``/``reader`` to their class-label Input for a conditional GAN.
    """

    kind: str
    maker: list[str]
    reader: list[str]
    latent_input: str
    image_input: str
    maker_output: str
    reader_output: str
    latent_dim: int
    image_shape: tuple[int, ...]
    label_inputs: dict[str, str]
    z_mean: str | None = None
    z_log_var: str | None = None

    @property
    def conditional(self) -> bool:
        return bool(self.label_inputs)

    def named(self) -> dict[str, list[str]]:
        """``{"generator": ids, "discriminator": ids}`` (or decoder/encoder), e.g. to colour a canvas."""
        maker, reader = PART_NAMES[self.kind]
        return {maker: list(self.maker), reader: list(self.reader)}


def settings(generative: dict[str, Any] | None) -> dict[str, Any]:
    """The project's ``generative`` section with defaults filled in; GenerativeError when malformed.

    Args:
        generative: the project's ``generative`` section (see the package doc).

    Returns:
        A new dict: ``DEFAULTS`` updated with the section.

    Raises:
        GenerativeError: not a dict, an unknown ``kind``, a ``grid_size`` outside 1..400 or a
            negative ``kl_weight``.
    """
    if not isinstance(generative, dict) or generative.get("kind") not in KINDS:
        kind = generative.get("kind") if isinstance(generative, dict) else generative
        raise GenerativeError(f"unknown generative kind {kind!r}: use one of {', '.join(KINDS)}")
    merged = {**DEFAULTS, **generative}
    size = merged["grid_size"]
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= 400:
        raise GenerativeError(f"generative grid_size must be a whole number from 1 to 400, got {size!r}")
    weight = merged["kl_weight"]
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
        raise GenerativeError(f"generative kl_weight must be a number of at least 0, got {weight!r}")
    return merged


def components(graph: Graph) -> list[list[str]]:
    """Groups of node ids joined by edges (direction ignored), in node order."""
    neighbours: dict[str, set[str]] = {node_id: set() for node_id in graph.nodes}
    for edge in graph.edges:
        neighbours[edge.src].add(edge.dst)
        neighbours[edge.dst].add(edge.src)
    seen: set[str] = set()
    groups = []
    for start in graph.nodes:
        if start in seen:
            continue
        stack, group = [start], set()
        while stack:
            current = stack.pop()
            if current not in group:
                group.add(current)
                stack.extend(neighbours[current] - group)
        seen |= group
        groups.append([node_id for node_id in graph.nodes if node_id in group])
    return groups


def find_parts(graph: Graph, kind: str, image_shape=None) -> Parts:
    """Split ``graph`` into its two parts for ``kind``; GenerativeError naming what is wrong.

    With ``image_shape`` (the dataset's), both parts must fit images of that shape.

    Args:
        graph: the project's graph: two groups of connected layers.
        kind: "gan", "vae" or "autoencoder".
        image_shape: the dataset's (height, width, channels), or None to skip that check.

    Returns:
        The Parts: which group makes images from a latent vector and which reads images, their
        Inputs and outputs, the latent size and (VAE) the z_mean/z_log_var nodes.

    Raises:
        GenerativeError: the graph has errors, not two groups, no latent or image Input, parts whose
            shapes do not match each other or the data, or an output the kind does not allow.
    """
    maker_name, reader_name = PART_NAMES[kind]
    analysis = analyze(graph)
    if not analysis.ok:
        shown = "; ".join(problem.message for problem in analysis.problems[:3])
        raise GenerativeError(f"the model has errors: {shown}; fix them before training")
    groups = components(graph)
    if len(groups) != 2:
        raise GenerativeError(
            f"a {kind.upper() if kind != 'autoencoder' else kind} needs two separate parts ({maker_name} "
            f"and {reader_name}) but the graph has {len(groups)} group(s) of connected layers")
    shape_of = {node_id: info.output_shape for node_id, info in analysis.nodes.items()}
    inputs = {node_id for node_id in graph.input_nodes()}

    def image_inputs(group):
        return [i for i in group if i in inputs and len(graph.nodes[i].params.get("shape", ())) == 3]

    makers = [group for group in groups if not image_inputs(group)]
    readers = [group for group in groups if len(image_inputs(group)) == 1]
    if len(makers) != 1 or len(readers) != 1:
        raise GenerativeError(
            f"expected one part reading images through an image Input ({reader_name}) and one starting "
            f"from a latent vector Input ({maker_name}); check the Input shapes")
    maker, reader = makers[0], readers[0]
    label_inputs = {}
    for role, group in (("maker", maker), ("reader", reader)):
        labels = [i for i in group if i in inputs and any(
            graph.nodes[s].type == "Embedding" for s in graph.successors(i))]
        if len(labels) > 1:
            raise GenerativeError(f"the {maker_name if role == 'maker' else reader_name} has "
                                  f"{len(labels)} label Inputs feeding an Embedding; keep one")
        if labels:
            label_inputs[role] = labels[0]
    if label_inputs and (kind != "gan" or len(label_inputs) != 2):
        raise GenerativeError("a conditional model needs a class-label Input (feeding an Embedding) in "
                              "both the generator and the discriminator, and only a GAN can be conditional")
    latents = [i for i in maker if i in inputs and i not in label_inputs.values()]
    if len(latents) != 1 or len(shape_of[latents[0]]) != 1:
        raise GenerativeError(f"the {maker_name} must start from exactly one latent Input of shape "
                              "[latent_dim]")
    latent_input = latents[0]
    latent_dim = int(shape_of[latent_input][0])
    image_input = image_inputs(reader)[0]
    image = tuple(shape_of[image_input])
    if image_shape is not None and tuple(image_shape) != image:
        raise GenerativeError(
            f"the {reader_name} reads images of shape {list(image)} but the dataset has "
            f"{list(image_shape)}: pick the template made for this image size")
    maker_out = _single_sink(graph, maker, maker_name)
    if tuple(shape_of[maker_out]) != image:
        raise GenerativeError(f"the {maker_name} makes images of shape {list(shape_of[maker_out])} but "
                              f"the {reader_name} reads {list(image)}: make them match")
    reader_out = _single_sink(graph, reader, reader_name)
    parts = Parts(kind, maker, reader, latent_input, image_input, maker_out, reader_out, latent_dim,
                  image, label_inputs)
    out_shape = tuple(shape_of[reader_out])
    if kind == "gan" and out_shape != (1,):
        raise GenerativeError(f"the discriminator must end in one unit (real or fake score), not "
                              f"{list(out_shape)}: end it with Dense(1)")
    if kind == "vae":
        node = graph.nodes[reader_out]
        if node.type != "Sampling":
            raise GenerativeError("the VAE encoder must end in a Sampling layer fed by z_mean and z_log_var")
        parts.z_mean, parts.z_log_var = graph.inputs(reader_out)
    if kind != "gan" and out_shape != (latent_dim,):
        raise GenerativeError(f"the encoder makes codes of shape {list(out_shape)} but the decoder's "
                              f"latent Input takes [{latent_dim}]: make them match")
    return parts


def _single_sink(graph: Graph, group: list[str], what: str) -> str:
    sinks = [i for i in graph.output_nodes() if i in group]
    if len(sinks) != 1:
        names = ", ".join(graph.nodes[i].name for i in sinks)
        raise GenerativeError(f"the {what} must have exactly one output layer, it has {len(sinks)} ({names})")
    return sinks[0]


def check_project(project, image_shape) -> Parts:
    """Check a generative project against its dataset's image shape; return its parts.

    Args:
        project: a project with a ``generative`` section.
        image_shape: the dataset's sample shape; it must be (height, width, channels).

    Returns:
        The Parts (see ``find_parts``).

    Raises:
        GenerativeError: the data are not images, the section is malformed, or the graph does not fit.
    """
    if len(tuple(image_shape)) != 3:
        raise GenerativeError(f"generative models work on images, but the dataset has samples of shape "
                              f"{list(image_shape)}: choose an image dataset")
    return find_parts(project.graph, settings(project.generative)["kind"], image_shape)
