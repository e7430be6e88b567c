"""JAX adapter: ``jax.value_and_grad``, ``jax.jit``, devices from ``jax.devices()``."""

from __future__ import annotations

from typing import Any, Callable


def load():
    import jax

    return jax


def list_gpus() -> list[dict[str, Any]]:
    """Local GPUs as ``{"name", "id", "memory_mb", "compute_capability"}``."""
    jax = load()
    try:
        devices = jax.local_devices(backend="gpu")
    except RuntimeError:  # no GPU platform in this jaxlib
        return []
    gpus = []
    for device in devices:
        stats = device.memory_stats() or {}
        memory = stats.get("bytes_limit")
        gpus.append({"name": device.device_kind, "id": str(device.id),
                     "memory_mb": round(memory / 2**20) if memory else None,
                     "compute_capability": getattr(device, "compute_capability", None)})
    return gpus


def memory_stats() -> dict[str, float]:
    stats = load().local_devices()[0].memory_stats() or {}
    if "bytes_in_use" not in stats:
        return {}
    return {"used_mb": stats["bytes_in_use"] / 2**20,
            "peak_mb": stats.get("peak_bytes_in_use", 0) / 2**20}


def sync(model) -> None:
    """Write the trainer's state back into the model's variables: during ``fit`` JAX keeps the
    current values outside them, so a callback reading weights mid-epoch must call this first."""
    if getattr(model, "_jax_state", None) is not None:
        model.jax_state_sync()


def value_and_grad(fn: Callable, args: list, has_aux: bool = False):
    """``(fn(*args), grads)`` like the TensorFlow adapter's."""
    jax = load()
    return jax.value_and_grad(fn, argnums=tuple(range(len(args))), has_aux=has_aux)(*args)


def compile(fn: Callable) -> Callable:  # noqa: A001
    return load().jit(fn)


def process_rows(batch):
    """This process's rows of a global batch: with several JAX processes (``jax.distributed``)
    each feeds an equal, contiguous share, which ``keras.distribution`` assembles into the global
    batch in process order; one process keeps the whole batch."""
    jax = load()
    count = jax.process_count()
    if count == 1:
        return batch
    rows = len(batch)
    if rows % count:
        raise ValueError(f"a batch of {rows} cannot be split evenly over {count} processes: "
                         f"use a batch size divisible by {count} (and by the dataset's last batch)")
    share = rows // count
    return batch[jax.process_index() * share:(jax.process_index() + 1) * share]
