"""Augmentation: declarative step catalog, Keras-layer builder and seeded previews."""

from studio.core.augment.builder import Augmenter, build_augmenter, default_augmentation
from studio.core.augment.catalog import (
    AUGMENTATIONS,
    Augmentation,
    AugmentationError,
    needs_soft_labels,
    validate_steps,
)
from studio.core.augment.preview import grid_image, save_grid_png

__all__ = [
    "AUGMENTATIONS",
    "Augmentation",
    "AugmentationError",
    "Augmenter",
    "build_augmenter",
    "default_augmentation",
    "grid_image",
    "needs_soft_labels",
    "save_grid_png",
    "validate_steps",
]
