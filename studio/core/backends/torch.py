"""PyTorch adapter: ``torch.autograd.grad``, devices from ``torch.cuda`` / ``torch.mps``."""

from __future__ import annotations

from typing import Any, Callable


def load():
    import torch

    return torch


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
