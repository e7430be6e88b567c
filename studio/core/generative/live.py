"""Per-epoch live samples of a generative run, its quality score and the mode-collapse warning.

Files in the run folder::

    RUN/samples/fixed.npz              fixed latents (and labels, and real images for reconstructions)
    RUN/samples/epoch_NNN.png          grid from the fixed latents (GAN, VAE)
    RUN/samples/epoch_NNN_recon.png    input | reconstruction pairs (VAE, autoencoder)
    RUN/quality/                       cached feature classifier of the quality score

Events: ``samples {epoch, path (relative to the run), kind: generated|reconstruction}`` and
``warning {kind: mode_collapse, epoch, message}``; ``fid`` and ``diversity`` join the epoch logs.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from studio.core import fileio
from studio.core.generative.images import run_batches, unit_range
from studio.core.generative.parts import Parts
from studio.core.generative.quality import COLLAPSE_RATIO, REFERENCE_SAMPLES, QualityScorer, reference_split
from studio.core.inspect.render import save_png
from studio.core.pictures import tile_grid
from studio.core.tasks import get_task
from studio.core.training.callbacks import Hooks
from studio.core.training.runs import RunFolder

SAMPLES_DIR = "samples"
FIXED_FILE = "fixed.npz"


def sample_latents(seed: int, n: int, latent_dim: int) -> np.ndarray:
    """``n`` standard-normal latent vectors, always the same for the same seed."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def grid_labels(n: int, num_classes: int) -> np.ndarray:
    """Class labels for a conditional grid: class k fills column k."""
    return (np.arange(n) % max(num_classes, 1)).astype(np.int32)


def to_pixels(images: np.ndarray) -> np.ndarray:
    """Images in [0, 1] (n, h, w, c) as uint8 tiles: grey (n, h, w) or RGB (n, h, w, 3)."""
    pixels = (np.clip(np.nan_to_num(np.asarray(images, np.float32)), 0, 1) * 255).round().astype(np.uint8)
    return pixels[..., 0] if pixels.shape[-1] == 1 else pixels[..., :3]


def sample_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """A uint8 picture of images in [0, 1], ``columns`` per row (default: a square)."""
    return tile_grid(to_pixels(images), columns or math.ceil(math.sqrt(len(images))))


def pairs_grid(originals: np.ndarray, reconstructions: np.ndarray, pairs_per_row: int = 4) -> np.ndarray:
    """Alternating original | reconstruction tiles, ``pairs_per_row`` pairs per row."""
    tiles = np.empty((2 * len(originals), *originals.shape[1:]), np.float32)
    tiles[0::2], tiles[1::2] = originals, reconstructions
    return sample_grid(tiles, 2 * pairs_per_row)


def generate(model, latents: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
    """Images in [0, 1] from the generator or decoder of a GAN/VAE/AutoEncoder model."""
    maker = model.generator if hasattr(model, "generator") else model.decoder
    latents = np.asarray(latents, np.float32)
    if labels is None:
        return run_batches(maker, latents)
    return run_batches(maker, latents, np.asarray(labels, np.int32).reshape(-1, 1))


def reconstruct(model, images: np.ndarray) -> np.ndarray:
    """Deterministic reconstructions (a VAE decodes z_mean)."""
    return run_batches(model, np.asarray(images, np.float32))


def fixed_inputs(run_dir, parts: Parts, options: dict, dataset, to_unit) -> dict[str, np.ndarray]:
    """The run's fixed latents/labels/images: read from ``samples/fixed.npz``, made on first use."""
    path = Path(run_dir) / SAMPLES_DIR / FIXED_FILE
    if path.is_file():
        with np.load(path) as data:
            return dict(data)
    n, seed = options["grid_size"], options["seed"]
    fixed = {"latents": sample_latents(seed, n, parts.latent_dim)}
    if parts.conditional:
        fixed["labels"] = grid_labels(n, dataset.num_classes)
    if parts.kind != "gan":
        fixed["images"] = to_unit(reference_split(dataset)[: max(1, n // 2)]).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    np.savez(buffer, **fixed)
    fileio.atomic_write_bytes(path, buffer.getvalue())
    return fixed


def epoch_grids(model, kind: str, fixed: dict[str, np.ndarray], num_classes: int = 0) -> dict[str, np.ndarray]:
    """``{"generated": pixels, "reconstruction": pixels}`` (those that apply to ``kind``)."""
    grids = {}
    if kind != "autoencoder":
        labels = fixed.get("labels")
        columns = num_classes if labels is not None and num_classes else None
        grids["generated"] = sample_grid(generate(model, fixed["latents"], labels), columns)
    if kind != "gan":
        grids["reconstruction"] = pairs_grid(fixed["images"], reconstruct(model, fixed["images"]))
    return grids


def grid_file(epoch: int, grid_kind: str) -> str:
    """Path of an epoch's grid relative to the run folder."""
    suffix = "" if grid_kind == "generated" else "_recon"
    return f"{SAMPLES_DIR}/epoch_{epoch:03d}{suffix}.png"


class LiveSamples(Hooks):
    """Writes the epoch's grids and samples events; adds ``fid``/``diversity`` to the epoch logs."""

    def __init__(self, folder: RunFolder, parts: Parts, options: dict, dataset) -> None:
        self.folder, self.parts, self.options, self.dataset = folder, parts, options, dataset
        self.to_unit = unit_range(dataset)
        self.scorer: QualityScorer | None = None
        self.collapsed = False

    def on_train_begin(self, logs=None):
        self.fixed = fixed_inputs(self.folder.path, self.parts, self.options, self.dataset, self.to_unit)
        if self.options["quality"] and get_task(self.dataset.task).has_classes:
            self.scorer = QualityScorer.for_run(self.folder.path, self.dataset, self.to_unit, self.options["seed"])
            count = min(REFERENCE_SAMPLES, len(reference_split(self.dataset)))
            self.score_latents = sample_latents(self.options["seed"] + 1, max(count, 2), self.parts.latent_dim)
            self.score_labels = grid_labels(len(self.score_latents), self.dataset.num_classes)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if not all(math.isfinite(float(value)) for value in logs.values()):
            return  # a diverged model draws nothing worth keeping; the engine reports the NaN
        for grid_kind, pixels in epoch_grids(self.model, self.parts.kind, self.fixed,
                                             self.dataset.num_classes).items():
            relative = grid_file(epoch + 1, grid_kind)
            save_png(self.folder.path / relative, pixels)
            self.folder.emit("samples", epoch=epoch + 1, path=relative, kind=grid_kind)
        if self.scorer is not None:
            self._score(epoch + 1, logs)

    def _score(self, epoch: int, logs: dict) -> None:
        if self.parts.kind == "autoencoder":
            images = reconstruct(self.model, self.to_unit(reference_split(self.dataset)[:REFERENCE_SAMPLES]))
        else:
            labels = self.score_labels if self.parts.conditional else None
            images = generate(self.model, self.score_latents, labels)
        fid, diversity = self.scorer.score(images)
        logs["fid"], logs["diversity"] = fid, diversity
        collapsed = self.parts.kind == "gan" and diversity < COLLAPSE_RATIO
        if collapsed and not self.collapsed:
            self.folder.emit("warning", kind="mode_collapse", epoch=epoch, message=(
                f"sample diversity fell to {diversity:.0%} of the data's at epoch {epoch}: the generator "
                "may be collapsing to a few images; try a lower learning rate or more discriminator capacity"))
        self.collapsed = collapsed
