"""Pixel helpers shared by the inspect pictures and the tasks' target overlays (numpy only)."""

from __future__ import annotations

import math

import numpy as np

# Class colours (colour-blind safe, Okabe-Ito first) for class regions, masks and points.
CLASS_COLOURS = np.array([[0, 114, 178], [230, 159, 0], [0, 158, 115], [204, 121, 167], [86, 180, 233],
                          [213, 94, 0], [240, 228, 66], [90, 90, 90], [150, 80, 40], [40, 40, 140]], dtype="float64")


def normalize01(values) -> np.ndarray:
    """Linearly rescale ``values`` to [0, 1]; a constant array becomes zeros."""
    values = np.nan_to_num(np.asarray(values, dtype="float64"))
    low, high = values.min(), values.max()
    return (values - low) / (high - low) if high > low else np.zeros_like(values)


def grey_rgb(image) -> np.ndarray:
    """A (H, W, 3) float picture in 0..255 of ``image`` (channels averaged, contrast stretched)."""
    image = np.asarray(image, dtype="float64")
    grey = normalize01(image.mean(axis=-1) if image.ndim == 3 else image)
    return np.repeat(grey[..., None] * 255, 3, axis=-1)


GAP_GREY = 128  # reads as a separator on light and dark themes alike


def tile_grid(tiles: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """Arrange uint8 (n, h, w[, 3]) tiles in a grid separated by ``gap`` mid-grey pixels."""
    n, h, w = tiles.shape[:3]
    columns = columns or max(1, math.ceil(math.sqrt(n)))
    rows = max(1, math.ceil(n / columns))
    grid = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap, *tiles.shape[3:]), GAP_GREY, tiles.dtype)
    for index, tile in enumerate(tiles):
        top, left = divmod(index, columns)
        grid[top * (h + gap): top * (h + gap) + h, left * (w + gap): left * (w + gap) + w] = tile
    return grid
