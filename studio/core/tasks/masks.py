"""Per-pixel targets (the segmentation task): the Dice loss, IoU/Dice scores and mask overlays.

Labels ``y`` have shape (N, H, W) and hold a class index per pixel (0 = background); the model
outputs (H, W, classes) probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.pictures import CLASS_COLOURS, grey_rgb
from studio.core.tasks.base import Report, TaskError


def sparse_dice_loss(y_true, y_pred):
    """1 - the soft Dice coefficient averaged over classes, for integer masks and softmax outputs."""
    from keras import ops

    classes = ops.shape(y_pred)[-1]
    truth = ops.one_hot(ops.cast(ops.reshape(y_true, ops.shape(y_pred)[:-1]), "int32"), classes)
    axes = tuple(range(1, len(y_pred.shape) - 1))
    overlap = ops.sum(truth * y_pred, axis=axes)
    total = ops.sum(truth, axis=axes) + ops.sum(y_pred, axis=axes)
    return 1.0 - ops.mean((2.0 * overlap + 1.0) / (total + 1.0), axis=-1)


@dataclass
class SegmentationReport(Report):
    """Per-class IoU and Dice over all pixels of a split, and pixel accuracy."""

    class_names: list[str]
    iou: np.ndarray
    dice: np.ndarray
    pixel_accuracy: float
    present: np.ndarray  # classes that occur in the labels or the predictions

    @property
    def mean_iou(self) -> float:
        return float(self.iou[self.present].mean()) if self.present.any() else 0.0

    @property
    def mean_dice(self) -> float:
        return float(self.dice[self.present].mean()) if self.present.any() else 0.0

    @property
    def accuracy(self) -> float:
        return self.pixel_accuracy

    def table(self) -> tuple[list[str], list[list[str]]]:
        rows = [[name, f"{iou:.4f}", f"{dice:.4f}"] for name, iou, dice in zip(self.class_names, self.iou, self.dice)]
        return ["class", "IoU", "Dice"], rows + [["mean", f"{self.mean_iou:.4f}", f"{self.mean_dice:.4f}"]]

    def summary(self) -> str:
        return (f"mean IoU {self.mean_iou:.4f}, mean Dice {self.mean_dice:.4f}, "
                f"pixel accuracy {self.pixel_accuracy:.4f}")


def segmentation_report(y_true, outputs, class_names) -> SegmentationReport:
    """Score (N, H, W, classes) model outputs against (N, H, W) integer masks."""
    outputs = np.asarray(outputs)
    truth = np.asarray(y_true).astype("int64")
    if outputs.ndim != 4 or truth.shape != outputs.shape[:3]:
        raise TaskError(f"masks of shape {truth.shape[1:]} need per-pixel outputs (H, W, classes); the "
                           f"model gives {outputs.shape[1:]}")
    k = outputs.shape[-1]
    if len(class_names) != k:
        raise TaskError(f"{len(class_names)} classes in the masks but the model outputs {k} per pixel")
    predicted = outputs.argmax(axis=-1).ravel()
    truth = truth.ravel()
    counts = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
    overlap = np.diag(counts).astype("float64")
    true_total, predicted_total = counts.sum(axis=1), counts.sum(axis=0)
    union = true_total + predicted_total - overlap
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(union > 0, overlap / union, 0.0)
        dice = np.where(true_total + predicted_total > 0, 2 * overlap / (true_total + predicted_total), 0.0)
    return SegmentationReport([str(n) for n in class_names], iou, dice,
                              float(overlap.sum() / max(1, truth.size)), union > 0)


def mask_overlay(image, mask, alpha: float = 0.5) -> np.ndarray:
    """An RGB uint8 picture of ``image`` with each non-background class of ``mask`` tinted."""
    picture = grey_rgb(image)
    mask = np.asarray(mask).astype(int)
    colours = CLASS_COLOURS[(mask - 1) % len(CLASS_COLOURS)]
    tinted = np.where((mask > 0)[..., None], picture * (1 - alpha) + colours * alpha, picture)
    return tinted.round().astype("uint8")


def mask_pictures(image, predicted, truth=None, scale: int = 4) -> np.ndarray:
    """The predicted mask over ``image`` beside the true one (when given), enlarged ``scale`` times."""
    pictures = [mask_overlay(image, predicted)] + ([mask_overlay(image, truth)] if truth is not None else [])
    gap = np.full((pictures[0].shape[0], 2, 3), 255, "uint8")
    joined = np.concatenate([part for picture in pictures for part in (picture, gap)][:-1], axis=1)
    return joined.repeat(scale, axis=0).repeat(scale, axis=1)
