"""TensorFlow adapter: gradients with ``tf.GradientTape``, ``tf.function``, GPUs from tf.config.

Every adapter module has the same functions: ``load``, ``list_gpus``, ``memory_stats``,
``value_and_grad``, ``compile`` (see ``studio.core.backends``).
"""

from __future__ import annotations

from typing import Any, Callable


def load():
    import tensorflow as tf

    return tf


def list_gpus() -> list[dict[str, Any]]:
    """Local GPUs as ``{"name", "id", "memory_mb", "compute_capability"}``."""
    tf = load()
    gpus = []
    for device in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(device)
        memory = details.get("memory_limit") or details.get("device_memory_size")
        gpus.append({"name": details.get("device_name", device.name), "id": device.name,
                     "memory_mb": round(memory / 2**20) if memory else None,
                     "compute_capability": details.get("compute_capability")})
    return gpus


def memory_stats() -> dict[str, float]:
    """Memory in use and at peak on the first GPU, in MB ({} on CPU)."""
    tf = load()
    if not tf.config.list_logical_devices("GPU"):
        return {}
    info = tf.config.experimental.get_memory_info("GPU:0")
    return {"used_mb": info["current"] / 2**20, "peak_mb": info["peak"] / 2**20}


def sync(model) -> None:
    """Variables always hold the current values on this backend: nothing to do."""


def value_and_grad(fn: Callable, args: list, has_aux: bool = False):
    """``(fn(*args), grads)``: gradients of the scalar ``fn`` w.r.t. each of ``args`` (tensors or
    lists of tensors; same structure back). With ``has_aux`` fn returns ``(value, aux)``."""
    tf = load()
    with tf.GradientTape() as tape:
        tape.watch(args)
        out = fn(*args)
    value = out[0] if has_aux else out
    return out, tf.nest.map_structure(_dense, tape.gradient(value, args))


def _dense(gradient):
    """Embedding and Gather layers get sparse ``IndexedSlices`` gradients; summed into the
    variable's shape they give the true norm (repeated indices add up) and a numeric array."""
    tf = load()
    return tf.convert_to_tensor(gradient) if isinstance(gradient, tf.IndexedSlices) else gradient


def compile(fn: Callable) -> Callable:  # noqa: A001 - the adapter's verb
    return load().function(fn, reduce_retracing=True)
