"""JAX adapter: ``jax.value_and_grad``, ``jax.jit``, devices from ``jax.devices()``, clusters."""

from __future__ import annotations

import os
from typing import Any, Callable

from studio.core.backends.devices import (NO_GPU, DeviceRequest, DeviceSetup, check_request, set_precision,
                                          setup_info)


def load():
    import jax

    return jax


def version() -> str:
    return load().__version__


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


def setup_devices(request: DeviceRequest, mixed_precision: bool, compile_choice: bool | None) -> DeviceSetup:
    """The chosen devices data-parallel through ``keras.distribution``; XLA always (so
    ``compile_choice`` is not needed). With ``JAX_COORDINATOR_ADDRESS`` set, several processes form
    one mesh and each feeds its own rows of every global batch (``process_rows``)."""
    import keras

    jax = load()
    if os.environ.get("JAX_COORDINATOR_ADDRESS") and not jax.distributed.is_initialized():
        join_cluster()
    notes: list[str] = []
    gpus = list_gpus() if request.kind not in ("cpu", "cpu_split") else []
    check_request(request, gpus)
    if gpus:
        count = len(gpus) if request.kind == "gpus" and request.count == 0 else \
            (request.count if request.kind == "gpus" else 1)
        devices, used = jax.local_devices(backend="gpu")[:count], gpus[:count]
    else:
        if request.kind == "auto":
            notes.append(f"{NO_GPU}: training on the CPU")
        devices, used = jax.local_devices(backend="cpu"), []
        if request.kind != "cpu_split":
            devices = devices[:1]
        jax.config.update("jax_default_device", devices[0])
    if jax.process_count() > 1:
        devices = jax.devices()  # every process's devices: one data-parallel mesh over the cluster
    strategy = "default"
    if len(devices) > 1:  # several processes feed their own rows already: no tf.data auto-sharding
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=devices, auto_shard_dataset=jax.process_count() == 1))
        strategy = "DataParallel"
    policy = set_precision(mixed_precision, used, notes)
    return DeviceSetup(None, setup_info(used, gpus, len(devices), strategy, policy), jit_compile=True,
                       notes=notes, compiler="xla")


def join_cluster() -> None:
    """Join the processes at ``JAX_COORDINATOR_ADDRESS``; ``JAX_NUM_PROCESSES`` and ``JAX_PROCESS_ID``
    say how many and which one (JAX reads only the address itself; without them it detects SLURM,
    Open MPI and the like)."""
    def number(name):
        value = os.environ.get(name)
        if value is not None and not value.strip().isdigit():
            raise ValueError(f"{name}={value!r} must be a whole number (docs/training.md, Beyond one machine)")
        return None if value is None else int(value)

    load().distributed.initialize(num_processes=number("JAX_NUM_PROCESSES"),
                                  process_id=number("JAX_PROCESS_ID"))


def deterministic() -> None:
    """Nothing to do: XLA's CPU kernels give the same numbers for the same seed."""


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
