"""Live probes: each epoch, feature maps and Grad-CAM of pinned test samples, for watching a run.

The optional probes config is a small file in the run folder, so the app can pin samples before
or while a run trains::

    RUN/probes.json           {"samples": [test-split indices, at most 8], "layer": "conv2d"}
    RUN/probes/epoch_NNN.npz  the epoch's snapshot (activations, heatmaps, outputs) plus "samples"

Grad-CAM uses the probed layer when it has spatial output, else the model's last such layer.
At each epoch end the run's live probes (a callback the inspect feature adds to every run) read the
config; when there is one they write the snapshot and emit
``probes {epoch, path (relative to the run), layer, samples}``, or ``probes {epoch, error}`` once
per config it cannot serve (unknown layer, index out of range...).
"""

from __future__ import annotations

import json
import os

from studio.core import fileio
from studio.core.training.runs import RunFolder

PROBES_CONFIG = "probes.json"
PROBES_DIR = "probes"


def write_probes_config(run_dir: str | os.PathLike, samples, layer: str) -> None:
    """Ask the run's engine for live probes of ``samples`` (test indices) at ``layer``."""
    config = {"samples": [int(index) for index in samples], "layer": str(layer)}
    fileio.atomic_write_json(RunFolder(run_dir).path / PROBES_CONFIG, config)


def read_probes_config(run_dir: str | os.PathLike) -> dict | None:
    """The run's probes config, or None when there is none (or it cannot be read)."""
    try:
        config = json.loads((RunFolder(run_dir).path / PROBES_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def probe_indices(config: dict, available: int) -> list[int]:
    """The config's sample indices, checked against a test split of ``available`` samples."""
    samples = config.get("samples")
    if not isinstance(samples, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in samples):
        raise ValueError("probes.json: samples must be a list of test-sample indices")
    bad = [index for index in samples if not 0 <= index < available]
    if bad:
        raise ValueError(f"probes.json: sample {bad[0]} is outside the test split (0..{available - 1})")
    if not isinstance(config.get("layer"), str):
        raise ValueError("probes.json: layer must be a layer name")
    return samples
