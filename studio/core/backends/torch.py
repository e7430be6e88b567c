"""PyTorch adapter: ``torch.autograd.grad``, devices from ``torch.cuda`` / ``torch.mps``."""

from __future__ import annotations

from typing import Any, Callable

from studio.core.backends.devices import (NO_GPU, DeviceError, DeviceRequest, DeviceSetup, check_request,
                                          set_precision, setup_info)


def load():
    import torch

    return torch


def version() -> str:
    return load().__version__


def list_gpus() -> list[dict[str, Any]]:
    """Local GPUs as ``{"name", "id", "memory_mb", "compute_capability"}`` (Apple GPU: "mps")."""
    torch = load()
    gpus = []
    for index in range(torch.cuda.device_count() if torch.cuda.is_available() else 0):
        props = torch.cuda.get_device_properties(index)
        gpus.append({"name": props.name, "id": f"cuda:{index}", "memory_mb": round(props.total_memory / 2**20),
                     "compute_capability": f"{props.major}.{props.minor}"})
    if not gpus and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        gpus.append({"name": "Apple GPU", "id": "mps", "memory_mb": None, "compute_capability": None})
    return gpus


def setup_devices(request: DeviceRequest, mixed_precision: bool, compile_choice: bool | None) -> DeviceSetup:
    """One device (Keras' PyTorch trainer has no data parallelism); torch.compile when
    ``compile_choice`` measured it faster."""
    notes: list[str] = []
    gpus = list_gpus() if request.kind not in ("cpu", "cpu_split") else []
    check_request(request, gpus)
    if request.kind == "cpu_split" or (request.kind == "gpus" and request.count != 1):
        raise DeviceError("several devices need the jax or tensorflow backend",
                          fixes=(("backend", "jax"), ("devices", "gpu")))
    if not gpus and request.kind == "auto":
        notes.append(f"{NO_GPU}: training on the CPU")
    used = gpus[:1]
    policy = set_precision(mixed_precision, used, notes)
    return DeviceSetup(None, setup_info(used, gpus, 1, "default", policy), jit_compile=bool(compile_choice),
                       notes=notes, compiler="torch.compile")


def deterministic() -> None:
    """Left at PyTorch's default: ``use_deterministic_algorithms`` would fail on every op that
    lacks a deterministic kernel."""


def memory_stats() -> dict[str, float]:
    torch = load()
    if not torch.cuda.is_available():
        return {}
    return {"used_mb": torch.cuda.memory_allocated() / 2**20,
            "peak_mb": torch.cuda.max_memory_allocated() / 2**20}


def sync(model) -> None:
    """Variables always hold the current values on this backend: nothing to do."""


def value_and_grad(fn: Callable, args: list, has_aux: bool = False):
    """``(fn(*args), grads)`` like the TensorFlow adapter's (unused inputs get zero gradients)."""
    import keras

    torch = load()
    leaves = [torch.as_tensor(v).detach().requires_grad_(True) for v in keras.tree.flatten(args)]
    watched = keras.tree.pack_sequence_as(args, leaves)
    with torch.enable_grad():
        out = fn(*watched)
        value = out[0] if has_aux else out
        grads = torch.autograd.grad(value, leaves, allow_unused=True)
    grads = [torch.zeros_like(leaf) if g is None else g for leaf, g in zip(leaves, grads)]
    detach = lambda tree: keras.tree.map_structure(  # noqa: E731
        lambda t: t.detach() if isinstance(t, torch.Tensor) else t, tree)
    return detach(out), keras.tree.pack_sequence_as(args, grads)


def compile(fn: Callable) -> Callable:  # noqa: A001 - eager: compiling a probe costs more than it saves
    return fn
