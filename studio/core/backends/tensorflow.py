"""TensorFlow adapter: gradients with ``tf.GradientTape``, ``tf.function``, GPUs from tf.config.

Every adapter module has the same functions: ``load``, ``version``, ``list_gpus``,
``setup_devices``, ``deterministic``, ``memory_stats``, ``sync``, ``value_and_grad``, ``compile``
(see ``studio.core.backends``).
"""

from __future__ import annotations

from typing import Any, Callable

from studio.core.backends.devices import (NO_GPU, DeviceRequest, DeviceSetup, check_request, set_precision,
                                          setup_info)


def load():
    import tensorflow as tf

    return tf


def version() -> str:
    return load().__version__


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


def setup_devices(request: DeviceRequest, mixed_precision: bool, compile_choice: bool | None) -> DeviceSetup:
    """Make the requested devices visible, turn on memory growth and pick strategy and XLA.

    XLA is used on GPUs only (or as ``compile_choice`` measured there): on CPUs it brought no
    clear gain here and was measured ~6x slower than plain graph mode for a small CNN on another
    machine.
    """
    tf = load()
    notes: list[str] = []
    physical = tf.config.list_physical_devices("GPU")
    gpus = list_gpus() if physical else []
    check_request(request, physical)

    if request.kind in ("cpu", "cpu_split") or not physical:
        if physical:
            tf.config.set_visible_devices([], "GPU")
        elif request.kind == "auto":
            notes.append(f"{NO_GPU}: training on the CPU")
        used: list[dict[str, Any]] = []
    else:
        count = len(physical) if request.kind == "gpus" and request.count == 0 else request.count
        chosen = physical[: count if request.kind == "gpus" else 1]
        tf.config.set_visible_devices(chosen, "GPU")
        for device in chosen:
            tf.config.experimental.set_memory_growth(device, True)
        used = gpus[: len(chosen)]

    strategy = None
    if request.kind == "cpu_split":
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(request.count)]
        )
        names = [device.name for device in tf.config.list_logical_devices("CPU")]
        strategy = tf.distribute.MirroredStrategy(names) if len(names) > 1 else None
    elif len(used) > 1:
        strategy = tf.distribute.MirroredStrategy()  # every visible GPU: exactly the chosen ones

    policy = set_precision(mixed_precision, used, notes)
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    info = setup_info(used, gpus, replicas, type(strategy).__name__ if strategy is not None else "default", policy)
    jit = compile_choice if compile_choice is not None and used else bool(used)
    return DeviceSetup(strategy, info, jit_compile=jit, notes=notes)


def deterministic() -> None:
    """Deterministic kernels from here on (CPU runs: the same seed gives the same numbers)."""
    load().config.experimental.enable_op_determinism()


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
