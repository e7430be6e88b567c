"""Grad-CAM for any layer with spatial output, and plain gradient saliency.

Class scores are taken before the final softmax/sigmoid when the model ends in one (a Dense layer
with that activation, or an Activation layer): gradients of saturated probabilities vanish and
would blank the maps of confident predictions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from studio.core.inspect.errors import InspectError
from studio.core.inspect.layers import (
    as_batch,
    find_layer,
    input_signature,
    is_spatial,
    layer_output,
    spatial_layers,
)
from studio.core.inspect.per_model import PerModel

_SQUASHING = ("softmax", "sigmoid")


@dataclass
class SaliencyResult:
    """Heat maps in [0, 1] (one per sample, at input resolution when the input is an image or a
    sequence), the class each map explains, and the model's outputs for the same inputs."""

    heatmaps: np.ndarray
    class_indices: np.ndarray
    outputs: np.ndarray
    layer: str | None = None


def _score_source(model):
    """The tensor class scores are read from, and how to turn it into per-class logits."""
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if activation in _SQUASHING and type(last).__name__ == "Activation":
        return last.input, lambda h: h
    if activation in _SQUASHING and type(last).__name__ == "Dense":
        import keras

        def dense_logits(h):
            logits = keras.ops.matmul(h, keras.ops.cast(last.kernel, h.dtype))
            return logits + keras.ops.cast(last.bias, h.dtype) if last.use_bias else logits

        return last.input, dense_logits
    return model.outputs[0], lambda h: h


def _class_scores(logits):
    """(batch, classes) scores; a single sigmoid unit becomes two classes (-z, z)."""
    import tensorflow as tf

    # A static width keeps ``shape[-1]`` known (a -1 reshape would hide a single sigmoid unit).
    width = -1 if None in logits.shape[1:] else int(np.prod(logits.shape[1:]))
    logits = tf.reshape(tf.cast(logits, tf.float32), (tf.shape(logits)[0], width))
    if logits.shape[-1] == 1:
        return tf.concat([-logits, logits], axis=-1)
    return logits


def _num_classes(model) -> int:
    shape = tuple(model.outputs[0].shape[1:])
    units = shape[-1] if None in shape else int(np.prod(shape))
    return 2 if units == 1 else units


def _pick_classes(scores, class_index):
    """Per-row class: the top-scoring one when ``class_index`` < 0, else ``class_index``."""
    import tensorflow as tf

    top = tf.argmax(scores, axis=-1, output_type=tf.int32)
    return tf.where(class_index < 0, top, tf.fill(tf.shape(top), class_index))


def _normalize_and_resize(maps, target_shape):
    """Resize each map to the input's spatial size when that makes sense, then scale it to [0, 1]."""
    import tensorflow as tf

    if maps.shape.rank == 3 and len(target_shape) == 3:
        maps = tf.image.resize(maps[..., None], target_shape[:2])[..., 0]
    elif maps.shape.rank == 2 and len(target_shape) == 2:
        maps = tf.image.resize(maps[:, :, None, None], (target_shape[0], 1))[:, :, 0, 0]
    peak = tf.reduce_max(maps, axis=tuple(range(1, maps.shape.rank)), keepdims=True)
    return tf.math.divide_no_nan(maps, peak)


class SaliencyMaps:
    """Grad-CAM and gradient saliency for one model, with compiled functions cached per layer.

    Safe to call from a worker thread.
    """

    def __init__(self, model):
        self.model = model
        self.num_classes = _num_classes(model)
        self._functions: dict[tuple[str | None, bool], object] = {}
        self._lock = threading.Lock()

    def grad_cam(self, x, layer_name: str, class_index: int | None = None,
                 per_position: bool = False) -> SaliencyResult:
        """Grad-CAM of ``layer_name`` for ``class_index`` (None: each sample's predicted class).

        ``per_position`` gives HiResCAM: gradient times activation at each position, not the
        gradient averaged over the map. It stays faithful behind Flatten -> Dense heads, where
        averaged weights can cancel out and plain Grad-CAM shows nothing.
        """
        layer = find_layer(self.model, layer_name)
        if not is_spatial(layer):
            shape = tuple(layer_output(layer).shape[1:])
            qualifying = ", ".join(spatial_layers(self.model)) or "none in this model"
            raise InspectError(
                f"layer {layer_name!r} outputs {shape} with no spatial axes, so Grad-CAM cannot "
                f"locate anything in it; use a convolution-like layer: {qualifying}"
            )
        return self._run(layer_name, x, class_index, per_position)

    def gradient_saliency(self, x, class_index: int | None = None) -> SaliencyResult:
        """|d score / d input|, maximum over channels, for ``class_index`` (None: predicted)."""
        return self._run(None, x, class_index)

    def _run(self, layer_name, x, class_index, per_position: bool = False) -> SaliencyResult:
        index = -1 if class_index is None else int(class_index)
        if not -1 <= index < self.num_classes:
            raise InspectError(
                f"class index {class_index} is out of range; the model has {self.num_classes} classes"
            )
        function = self._function(layer_name, per_position)
        heatmaps, classes, outputs = function(as_batch(self.model, x), np.int32(index))
        return SaliencyResult(np.asarray(heatmaps), np.asarray(classes), np.asarray(outputs), layer_name)

    def _function(self, layer_name, per_position):
        with self._lock:
            function = self._functions.get((layer_name, per_position))
            if function is None:
                function = self._functions[(layer_name, per_position)] = self._compile(layer_name, per_position)
            return function

    def _compile(self, layer_name, per_position):
        import keras
        import tensorflow as tf

        source, to_logits = _score_source(self.model)
        target_shape = tuple(self.model.inputs[0].shape[1:])
        if layer_name is None:
            grad_model = keras.Model(self.model.inputs[0], [source, self.model.outputs[0]])
        else:
            feature = layer_output(find_layer(self.model, layer_name))
            grad_model = keras.Model(self.model.inputs[0], [feature, source, self.model.outputs[0]])

        def run(x, class_index):
            with tf.GradientTape() as tape:
                if layer_name is None:
                    tape.watch(x)
                    features = x
                    h, outputs = grad_model(x, training=False)
                else:
                    features, h, outputs = grad_model(x, training=False)
                scores = _class_scores(to_logits(h))
                classes = _pick_classes(scores, class_index)
                # Samples are independent in inference mode, so one summed score gives per-sample grads.
                total = tf.reduce_sum(tf.gather(scores, classes, axis=1, batch_dims=1))
            grads = tf.cast(tape.gradient(total, features), tf.float32)
            if layer_name is None:
                # Tabular inputs keep one value per feature; images/sequences take the channel max.
                maps = tf.abs(grads) if grads.shape.rank == 2 else tf.reduce_max(tf.abs(grads), axis=-1)
            else:
                spatial_axes = tuple(range(1, grads.shape.rank - 1))
                weights = grads if per_position else tf.reduce_mean(grads, axis=spatial_axes, keepdims=True)
                maps = tf.nn.relu(tf.reduce_sum(weights * tf.cast(features, tf.float32), axis=-1))
            return _normalize_and_resize(maps, target_shape), classes, outputs

        signature = [*input_signature(self.model), tf.TensorSpec((), tf.int32)]
        return tf.function(run, input_signature=signature)


_SHARED = PerModel(SaliencyMaps)


def saliency_for(model) -> SaliencyMaps:
    """The shared SaliencyMaps of ``model`` (created on first use, dropped with the model)."""
    return _SHARED(model)


def grad_cam(model, x, layer_name: str, class_index: int | None = None,
             per_position: bool = False) -> SaliencyResult:
    """Grad-CAM (or, ``per_position``, HiResCAM) heat maps of ``layer_name`` for ``x`` (sample or
    batch), cached per model."""
    return saliency_for(model).grad_cam(x, layer_name, class_index, per_position)


def gradient_saliency(model, x, class_index: int | None = None) -> SaliencyResult:
    """Plain input-gradient saliency maps for ``x`` (sample or batch), cached per model."""
    return saliency_for(model).gradient_saliency(x, class_index)


def default_cam_layer(model) -> str | None:
    """The last layer with spatial output (the usual Grad-CAM choice), or None if there is none."""
    names = spatial_layers(model)
    return names[-1] if names else None
