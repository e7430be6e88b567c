"""Per-layer weight and gradient histograms, in the ``weights_hist`` event format of a run."""

from __future__ import annotations

import numpy as np


def _histogram(arrays, bins: int) -> list[list]:
    """[counts, edges] as JSON-friendly lists; non-finite values are left out."""
    values = np.concatenate([np.asarray(a, dtype="float64").ravel() for a in arrays]) if arrays else np.zeros(0)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return [[], []]
    counts, edges = np.histogram(values, bins=bins)
    return [counts.tolist(), edges.tolist()]


def _as_array(gradient):
    return None if gradient is None else np.asarray(gradient)


def layer_gradients(model, x, y, loss) -> dict[str, list[np.ndarray]]:
    """Gradients of ``loss`` on one batch for every layer's trainable weights (inference mode).

    Args:
        loss: a Keras loss name (e.g. "sparse_categorical_crossentropy") or loss callable.
    """
    import keras
    import tensorflow as tf

    loss_fn = keras.losses.get(loss)
    variables = {layer.name: layer.trainable_weights for layer in model.layers if layer.trainable_weights}
    flat = [v for weights in variables.values() for v in weights]
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(loss_fn(y, model(x, training=False)))
    grads = iter(tape.gradient(value, flat))
    return {name: [_as_array(next(grads)) for _ in weights] for name, weights in variables.items()}


def layer_histograms(model, gradients: dict[str, list] | None = None, bins: int = 30) -> dict[str, dict]:
    """{layer: {"weights": [counts, edges], "grads": [counts, edges]}} for layers with weights.

    "grads" appears for the layers found in ``gradients`` (see ``layer_gradients``).
    """
    result = {}
    for layer in model.layers:
        if not layer.trainable_weights:
            continue
        entry = {"weights": _histogram([np.asarray(w) for w in layer.trainable_weights], bins)}
        if gradients and layer.name in gradients:
            entry["grads"] = _histogram([g for g in gradients[layer.name] if g is not None], bins)
        result[layer.name] = entry
    return result


def gradient_norms(gradients: dict[str, list]) -> dict[str, float]:
    """The L2 norm of each layer's gradients (all its weights together)."""
    return {
        name: float(np.sqrt(sum(np.sum(np.square(np.asarray(g, dtype="float64"))) for g in grads if g is not None)))
        for name, grads in gradients.items()
    }
