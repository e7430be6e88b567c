"""Attention maps per head (Attention, AdditiveAttention, MultiHeadAttention scores) and token
saliency for one sample.

``attention_maps`` reads the inputs of the chosen attention layer with a probe model, then
calls the layer on them with ``return_attention_scores=True`` (same weights, same call arguments
such as the causal mask): (heads, query steps, key steps), each row sums to 1; the single-head
layers (Attention, AdditiveAttention) give one head. ``token_saliency`` differentiates the
explained score (the predicted class, or for a sequence output the predicted token at ``position``)
with respect to the embedding output (backend adapter's ``value_and_grad``) and gives each token
|gradient x embedding| summed over features, scaled to [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.inspect.errors import InspectError
from studio.core.inspect.layers import find_layer
from studio.core.inspect.per_model import PerModel

ATTENTION_TYPES = ("Attention", "AdditiveAttention", "MultiHeadAttention")
_probes: PerModel[dict] = PerModel(lambda model: {})  # probe models by key, per model


@dataclass
class AttentionMaps:
    """Per-head maps ``scores`` (heads, queries, keys) of ``layer`` for one sample of ``tokens``."""

    layer: str
    scores: np.ndarray
    tokens: np.ndarray


def attention_layers(model) -> list[str]:
    """Names of the model's attention layers (see ``ATTENTION_TYPES``), in model order."""
    return [layer.name for layer in model.layers if type(layer).__name__ in ATTENTION_TYPES]


def _attention_layer(model, name: str | None):
    names = attention_layers(model)
    if not names:
        raise InspectError("the model has no attention layer (Attention, AdditiveAttention or "
                           "MultiHeadAttention); attention maps need one (e.g. the tiny_gpt or "
                           "seq2seq_attention template)")
    layer = find_layer(model, name or names[0])
    if type(layer).__name__ not in ATTENTION_TYPES:
        raise InspectError(f"layer {layer.name!r} is a {type(layer).__name__}, not attention; "
                           f"choose one of: {', '.join(names)}")
    return layer


def _cached(model, key, build):
    cache = _probes(model)
    if key not in cache:
        cache[key] = build()
    return cache[key]


def _inputs_probe(model, layer):
    """A model from the inputs to the tensors ``layer`` reads (built once per model and layer)."""
    def build():
        import keras

        node = layer._inbound_nodes[0]
        return node, keras.Model(model.inputs, list(node.input_tensors), name=f"attention_in_{layer.name}")

    return _cached(model, ("attention", layer.name), build)


def _sample(model, x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim == len(model.inputs[0].shape) - 1:
        x = x[None]
    expected = tuple(model.inputs[0].shape[1:])
    if x.shape[1:] != expected:
        raise InspectError(f"the sample has shape {x.shape[1:]} but the model expects {expected}")
    return x[:1]


def attention_maps(model, x, layer: str | None = None) -> AttentionMaps:
    """Per-head attention of ``layer`` (default: the first attention layer) for the sample ``x``."""
    found = _attention_layer(model, layer)
    sample = _sample(model, x)
    node, probe = _inputs_probe(model, found)
    values = probe.predict_on_batch(sample)
    values = values if isinstance(values, (list, tuple)) else [values]
    args, kwargs = node.arguments.fill_in({id(t): v for t, v in zip(node.input_tensors, values)})
    _, scores = found(*args, **kwargs, return_attention_scores=True, training=False)
    scores = np.asarray(scores)[0]
    if scores.ndim == 2:  # a single-head layer: (queries, keys)
        scores = scores[None]
    return AttentionMaps(found.name, scores.astype(np.float32), sample[0])


def _embedding_layer(model):
    for layer in model.layers:
        if type(layer).__name__ == "Embedding":
            return layer
    raise InspectError("token saliency needs an Embedding layer after the token input")


def _split_at_embedding(model):
    """(tokens -> embeddings, embeddings -> outputs) sharing the model's layers."""
    def build():
        import keras

        embedding = _embedding_layer(model)
        head = keras.Model(model.inputs, embedding.output)
        tail = keras.Model(embedding.output, model.outputs[0])
        return head, tail

    return _cached(model, ("saliency",), build)


def explained_position(tokens: np.ndarray) -> int:
    """The last non-padding step (padding id 0): the step whose next token an LM predicts."""
    filled = np.flatnonzero(np.asarray(tokens) != 0)
    return int(filled[-1]) if len(filled) else 0


def token_saliency(model, x, position: int | None = None) -> tuple[np.ndarray, int]:
    """(per-token saliency in [0, 1], explained class or token id) for the sample ``x``."""
    from keras import ops

    from studio.core.backends import adapter

    sample = _sample(model, x)
    head, tail = _split_at_embedding(model)
    embedded = ops.convert_to_tensor(np.asarray(head.predict_on_batch(sample)))
    outputs = np.asarray(tail.predict_on_batch(embedded))[0]
    if outputs.ndim == 2:  # a score per step: explain one step's prediction
        step = explained_position(sample[0]) if position is None else int(position)
        if not 0 <= step < len(outputs):
            raise InspectError(f"position {step} is outside the sequence (0..{len(outputs) - 1})")
        target = int(np.argmax(outputs[step]))
        pick = lambda out: out[0, step, target]  # noqa: E731
    else:
        target = int(np.argmax(outputs))
        pick = lambda out: ops.reshape(out, (-1,))[target]  # noqa: E731
    _, (gradient,) = adapter().value_and_grad(lambda e: pick(tail(e, training=False)), [embedded])
    weights = np.abs(np.asarray(gradient)[0] * np.asarray(embedded)[0]).sum(axis=-1)
    peak = weights.max()
    return (weights / peak if peak > 0 else weights).astype(np.float32), target


def attention_picture(maps: AttentionMaps, saliency: np.ndarray | None = None, pixels: int = 4) -> np.ndarray:
    """RGB picture: the heads side by side (rows = queries, columns = keys, bright = attended),
    each with a strip of the key tokens' saliency under it."""
    from studio.core.inspect.render import colormap
    from studio.core.pictures import tile_grid

    heads = maps.scores.repeat(pixels, axis=1).repeat(pixels, axis=2)
    if saliency is not None and len(saliency) == maps.scores.shape[2]:
        strip = np.full((len(heads), 3 * pixels, heads.shape[2]), np.nan)
        strip[:, pixels:] = np.asarray(saliency).repeat(pixels)
        heads = np.concatenate([heads, strip], axis=1)
    tiles = colormap(np.nan_to_num(heads, nan=0.0))
    if saliency is not None and len(saliency) == maps.scores.shape[2]:
        tiles[:, maps.scores.shape[1] * pixels: maps.scores.shape[1] * pixels + pixels] = 255  # gap above the strip
    return tile_grid(tiles, columns=len(tiles), gap=pixels)
