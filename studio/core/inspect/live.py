"""Live probes: per-epoch snapshots of pinned samples (feature maps + Grad-CAM) for a running job.

The training engine calls ``probe_snapshot`` at the end of an epoch and stores the result with
``save_probe_snapshot``; the app reads it back with ``load_probe_snapshot`` and redraws.
"""

from __future__ import annotations

import io
import os

import numpy as np

from studio.core.fileio import atomic_write_bytes
from studio.core.inspect.activations import activations
from studio.core.inspect.errors import InspectError
from studio.core.inspect.saliency import default_cam_layer, grad_cam

MAX_PINNED = 8


def probe_snapshot(model, samples, layer: str, cam_layer: str | None = None) -> dict[str, np.ndarray]:
    """Activations of ``layer`` and Grad-CAM maps (of ``cam_layer``, default the last spatial
    layer; none without one) for up to ``MAX_PINNED`` samples, with the predicted classes."""
    samples = np.asarray(samples, dtype="float32")
    if not 1 <= len(samples) <= MAX_PINNED:
        raise InspectError(f"pin between 1 and {MAX_PINNED} samples (got {len(samples)})")
    snapshot = {"activations": activations(model, samples, layer)}
    cam_layer = cam_layer or default_cam_layer(model)
    if cam_layer is not None:
        result = grad_cam(model, samples, cam_layer)
        snapshot.update(heatmaps=result.heatmaps, classes=result.class_indices, outputs=result.outputs)
    return snapshot


def save_probe_snapshot(path: str | os.PathLike, snapshot: dict[str, np.ndarray]) -> None:
    """Atomically write a snapshot as an .npz file (readers never see half a file)."""
    buffer = io.BytesIO()
    np.savez(buffer, **snapshot)
    atomic_write_bytes(path, buffer.getvalue())


def load_probe_snapshot(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Read a snapshot written by ``save_probe_snapshot``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise InspectError(f"{path} is not a readable probe snapshot ({exc})") from exc
