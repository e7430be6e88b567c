"""Image grids of augmentation previews (arrays and PNG files); the previews themselves are
``studio.core.data.first_training_samples``, exactly what training receives."""

from __future__ import annotations

import io
import math
import os

import numpy as np

from studio.core.fileio import atomic_write_bytes


def grid_image(images: np.ndarray, labels: list[str] | None = None, cols: int | None = None,
               value_range: tuple[float, float] | None = None, scale: int | None = None) -> np.ndarray:
    """Tile NHWC images into one uint8 RGB picture, with an optional caption under each tile.

    Values are mapped from ``value_range`` (default: the images' own min..max) to 0..255. Small
    images are enlarged (``scale``, default: so tiles are at least 64 pixels) with sharp pixels.

    Args:
        images: an (N, H, W, C) array; only the first three channels are shown, one channel as grey.
        labels: one caption per image (cut to the tile width), or None.
        cols: tiles per row; default about the square root of N.
        value_range: ``(low, high)`` mapped to 0..255; default the images' min and max.
        scale: the integer enlargement of each image.

    Returns:
        An (height, width, 3) uint8 array.

    Raises:
        ValueError: ``images`` is empty or not 4-dimensional.
    """
    from PIL import Image, ImageDraw

    images = np.asarray(images, np.float32)
    if images.ndim != 4 or not len(images):
        raise ValueError(f"grid_image needs a non-empty (N, H, W, C) array, got shape {images.shape}")
    low, high = value_range if value_range is not None else (float(images.min()), float(images.max()))
    pixels = np.clip((images - low) / ((high - low) or 1.0) * 255, 0, 255).astype(np.uint8)
    if pixels.shape[3] == 1:
        pixels = np.repeat(pixels, 3, axis=3)
    pixels = pixels[..., :3]
    count, height, width = pixels.shape[:3]
    scale = scale or max(1, math.ceil(64 / max(height, width)))
    cols = cols or math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    tile_h, tile_w, pad = height * scale, width * scale, 4
    caption = 14 if labels else 0
    canvas = Image.new("RGB", (cols * (tile_w + pad) + pad, rows * (tile_h + pad + caption) + pad), (40, 40, 40))
    draw = ImageDraw.Draw(canvas)
    for i in range(count):
        row, col = divmod(i, cols)
        left, top = pad + col * (tile_w + pad), pad + row * (tile_h + pad + caption)
        canvas.paste(Image.fromarray(pixels[i]).resize((tile_w, tile_h), Image.NEAREST), (left, top))
        if labels:
            draw.text((left, top + tile_h + 1), str(labels[i])[: max(4, tile_w // 6)], fill=(230, 230, 230))
    return np.asarray(canvas)


def save_grid_png(path: str | os.PathLike, images: np.ndarray, labels: list[str] | None = None,
                  cols: int | None = None, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """Write ``grid_image(...)`` to ``path`` as PNG (atomically) and return the grid."""
    from PIL import Image

    grid = grid_image(images, labels, cols, value_range)
    buffer = io.BytesIO()
    Image.fromarray(grid).save(buffer, format="PNG")
    atomic_write_bytes(path, buffer.getvalue())
    return grid
