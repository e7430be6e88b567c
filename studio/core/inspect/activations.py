"""Layer activations ("feature maps") with one cached, compiled probe model per layer."""

from __future__ import annotations

import threading

import numpy as np

from studio.core.inspect.layers import as_batch, find_layer, layer_output
from studio.core.inspect.per_model import PerModel


class ActivationProbe:
    """Reads the output of any layer of ``model`` for given inputs.

    Each layer's probe ``keras.Model(model.inputs, layer.output)`` is built once and compiled by the
    active backend (``studio.core.backends.stateless``), so it always sees the current weights.
    Safe to call from a worker thread.
    """

    def __init__(self, model):
        self.model = model
        self._probes: dict[str | None, object] = {}
        self._lock = threading.Lock()

    def _probe(self, layer_name: str | None):
        """The compiled probe of ``layer_name``; None probes the model's own output."""
        with self._lock:
            probe = self._probes.get(layer_name)
            if probe is None:
                import keras

                from studio.core.backends import stateless

                if layer_name is None:
                    sub_model = self.model
                else:
                    output = layer_output(find_layer(self.model, layer_name))
                    sub_model = keras.Model(self.model.inputs[0], output)
                probe = stateless(self.model, lambda x: sub_model(x, training=False))
                self._probes[layer_name] = probe
            return probe

    def activations(self, x, layer_name: str) -> np.ndarray:
        """Output of ``layer_name`` for a sample or batch ``x``; always batched (first axis)."""
        probe = self._probe(layer_name)
        return to_numpy(probe(as_batch(self.model, x)))

    def outputs(self, x, batch_size: int = 256) -> np.ndarray:
        """The model's outputs for ``x`` (sample or batch), computed ``batch_size`` rows at a time."""
        probe = self._probe(None)
        x = as_batch(self.model, x)
        parts = [to_numpy(probe(x[start : start + batch_size])) for start in range(0, len(x), batch_size)]
        return np.concatenate(parts) if parts else np.zeros((0, *self.model.outputs[0].shape[1:]), "float32")


def to_numpy(tensor) -> np.ndarray:
    """A backend tensor as numpy (PyTorch tensors may carry gradients)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(tensor))


_SHARED = PerModel(ActivationProbe)


def probe_for(model) -> ActivationProbe:
    """The shared ActivationProbe of ``model`` (created on first use, dropped with the model)."""
    return _SHARED(model)


def activations(model, x, layer_name: str) -> np.ndarray:
    """Output of ``layer_name`` for ``x`` using the model's cached probe; always batched.

    Args:
        model: a functional Keras model.
        x: one sample (a batch axis is added) or a batch.
        layer_name: the layer to read.

    Returns:
        The layer's output as numpy, batch axis first.

    Raises:
        InspectError: no such layer, or ``x`` does not fit the model input.
    """
    return probe_for(model).activations(x, layer_name)


def model_outputs(model, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs for ``x`` in batches, through the cached compiled call.

    Args:
        model: a Keras model (its first output is returned).
        x: one sample or a batch.
        batch_size: rows per call.

    Returns:
        The outputs as numpy, one row per sample.

    Raises:
        InspectError: ``x`` does not fit the model input.
    """
    return probe_for(model).outputs(x, batch_size)


def channel_stats(activation: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel statistics of one sample's activation (channels on the last axis).

    Returns arrays of length C for ``mean``, ``std``, ``min``, ``max`` and ``zero_fraction``
    (the share of exactly-zero values: a channel near 1.0 is "dead" after a ReLU).
    """
    values = np.asarray(activation, dtype="float64")
    values = values.reshape(-1, values.shape[-1]) if values.ndim > 1 else values[None]
    return {
        "mean": values.mean(axis=0),
        "std": values.std(axis=0),
        "min": values.min(axis=0),
        "max": values.max(axis=0),
        "zero_fraction": (values == 0).mean(axis=0),
    }
