"""Grad-CAM for any layer with spatial output, and plain gradient saliency.

Class scores are taken before the final softmax/sigmoid when the model ends in one (a Dense layer
with that activation, or an Activation layer): gradients of saturated probabilities vanish and
would blank the maps of confident predictions.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from studio.core.inspect.activations import to_numpy
from studio.core.inspect.errors import InspectError
from studio.core.inspect.layers import (
    as_batch,
    find_layer,
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
    from keras import ops

    # A static width keeps ``shape[-1]`` known (a -1 reshape would hide a single sigmoid unit).
    width = -1 if None in logits.shape[1:] else int(np.prod(logits.shape[1:]))
    logits = ops.reshape(ops.cast(logits, "float32"), (ops.shape(logits)[0], width))
    if logits.shape[-1] == 1:
        return ops.concatenate([-logits, logits], axis=-1)
    return logits


def _num_classes(model) -> int:
    shape = tuple(model.outputs[0].shape[1:])
    units = shape[-1] if None in shape else int(np.prod(shape))
    return 2 if units == 1 else units


def _pick_classes(scores, class_index):
    """Per-row class: the top-scoring one when ``class_index`` < 0, else ``class_index``."""
    from keras import ops

    top = ops.cast(ops.argmax(scores, axis=-1), "int32")
    return ops.where(class_index < 0, top, ops.full_like(top, class_index))


def _normalize_and_resize(maps, target_shape):
    """Resize each map to the input's spatial size when that makes sense, then scale it to [0, 1]."""
    from keras import ops

    if len(maps.shape) == 3 and len(target_shape) == 3:
        maps = ops.image.resize(maps[..., None], target_shape[:2], data_format="channels_last")[..., 0]
    elif len(maps.shape) == 2 and len(target_shape) == 2:
        maps = ops.image.resize(maps[:, :, None, None], (target_shape[0], 1),
                                data_format="channels_last")[:, :, 0, 0]
    peak = ops.max(maps, axis=tuple(range(1, len(maps.shape))), keepdims=True)
    return ops.where(peak > 0, maps / ops.where(peak > 0, peak, 1.0), 0.0)


def _forward_with_offset(model, layer, x, offset):
    """``model(x)`` (inference) with ``offset`` added to ``layer``'s output, so the gradient with
    respect to ``offset`` (at zero) is the gradient with respect to that intermediate output on
    every backend. Uses the functional graph runner Keras' own ``Functional.call`` uses."""
    from keras.src.models.functional import operation_fn

    def run(op):
        call = operation_fn(op, training=False)
        return (lambda *args, **kwargs: call(*args, **kwargs) + offset) if op is layer else call

    return model._run_through_graph(x, operation_fn=run)


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
        return SaliencyResult(*(to_numpy(value) for value in (heatmaps, classes, outputs)), layer_name)

    def _function(self, layer_name, per_position):
        with self._lock:
            function = self._functions.get((layer_name, per_position))
            if function is None:
                function = self._functions[(layer_name, per_position)] = self._compile(layer_name, per_position)
            return function

    def _compile(self, layer_name, per_position):
        import keras
        from keras import ops

        from studio.core.backends import adapter, stateless

        backend = adapter()
        source, to_logits = _score_source(self.model)
        target_shape = tuple(self.model.inputs[0].shape[1:])
        layer = None if layer_name is None else find_layer(self.model, layer_name)
        outputs = [source, self.model.outputs[0]]
        if layer is not None:
            outputs.insert(0, layer_output(layer))
        grad_model = keras.Model(self.model.inputs[0], outputs)

        def score(x, offset, class_index):
            if layer is None:
                features, (h, outputs) = x, grad_model(x, training=False)
            else:
                features, h, outputs = _forward_with_offset(grad_model, layer, x, offset)
            scores = _class_scores(to_logits(h))
            classes = _pick_classes(scores, class_index)
            # Samples are independent in inference mode, so one summed score gives per-sample grads.
            total = ops.sum(ops.take_along_axis(scores, classes[:, None], axis=1))
            return total, (features, classes, outputs)

        def run(x, class_index):
            offset = ops.zeros(()) if layer is None else ops.zeros(
                (ops.shape(x)[0], *layer_output(layer).shape[1:]), dtype=layer.compute_dtype)
            (_, (features, classes, outputs)), (grads_x, grads_offset) = backend.value_and_grad(
                lambda x_, offset_: score(x_, offset_, class_index), [x, offset], has_aux=True)
            grads = ops.cast(grads_x if layer is None else grads_offset, "float32")
            if layer is None:
                # Tabular inputs keep one value per feature; images/sequences take the channel max.
                maps = ops.abs(grads) if len(grads.shape) == 2 else ops.max(ops.abs(grads), axis=-1)
            else:
                spatial_axes = tuple(range(1, len(grads.shape) - 1))
                weights = grads if per_position else ops.mean(grads, axis=spatial_axes, keepdims=True)
                maps = ops.relu(ops.sum(weights * ops.cast(features, "float32"), axis=-1))
            return _normalize_and_resize(maps, target_shape), classes, outputs

        compiled = stateless(self.model, run)
        return lambda x, class_index: compiled(ops.convert_to_tensor(x), ops.convert_to_tensor(class_index))


_SHARED = PerModel(SaliencyMaps)


def saliency_for(model) -> SaliencyMaps:
    """The shared SaliencyMaps of ``model`` (created on first use, dropped with the model)."""
    return _SHARED(model)


def grad_cam(model, x, layer_name: str, class_index: int | None = None,
             per_position: bool = False) -> SaliencyResult:
    """Grad-CAM (or, ``per_position``, HiResCAM) heat maps of ``layer_name`` for ``x`` (sample or
    batch), cached per model.

    Args:
        model: a Keras model with class-score outputs.
        x: one sample or a batch.
        layer_name: a layer with spatial output (see ``spatial_layers``).
        class_index: the class to explain; None for each sample's predicted class.
        per_position: HiResCAM instead of Grad-CAM (see ``SaliencyMaps.grad_cam``).

    Returns:
        A SaliencyResult: one heat map in [0, 1] per sample, the classes explained, the outputs.

    Raises:
        InspectError: an unknown or non-spatial layer, a class index out of range, or inputs that do
            not fit the model.
    """
    return saliency_for(model).grad_cam(x, layer_name, class_index, per_position)


def gradient_saliency(model, x, class_index: int | None = None) -> SaliencyResult:
    """Plain input-gradient saliency maps for ``x`` (sample or batch), cached per model.

    Args:
        model: a Keras model with class-score outputs.
        x: one sample or a batch.
        class_index: the class to explain; None for each sample's predicted class.

    Returns:
        A SaliencyResult whose maps are |d score / d input|, the maximum over channels, in [0, 1].

    Raises:
        InspectError: a class index out of range, or inputs that do not fit the model.
    """
    return saliency_for(model).gradient_saliency(x, class_index)


def default_cam_layer(model) -> str | None:
    """The last layer with spatial output (the usual Grad-CAM choice), or None if there is none."""
    names = spatial_layers(model)
    return names[-1] if names else None
