"""Pictures of inspection results as uint8 arrays, and an atomic PNG writer (Pillow)."""

from __future__ import annotations

import io
import math
import os

import numpy as np

from studio.core.fileio import atomic_write_bytes
from studio.core.pictures import normalize01, tile_grid

# Anchor colours of a dark-to-bright map (black, purple, red, orange, pale yellow).
_HEAT_ANCHORS = np.array(
    [[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype="float64"
)
_TILE_MIN_PIXELS = 32


def colormap(values) -> np.ndarray:
    """Map values in [0, 1] to RGB uint8 colours (dark = low, bright yellow = high)."""
    values = np.clip(np.nan_to_num(np.asarray(values, dtype="float64")), 0, 1)
    position = values * (len(_HEAT_ANCHORS) - 1)
    low = np.floor(position).astype(int).clip(0, len(_HEAT_ANCHORS) - 2)
    fraction = (position - low)[..., None]
    colours = _HEAT_ANCHORS[low] * (1 - fraction) + _HEAT_ANCHORS[low + 1] * fraction
    return colours.round().astype("uint8")


def _upscale(tiles: np.ndarray) -> np.ndarray:
    """Repeat pixels so that small maps (e.g. 4x4) stay visible in a grid."""
    factor = max(1, math.ceil(_TILE_MIN_PIXELS / max(tiles.shape[1:3])))
    return tiles.repeat(factor, axis=1).repeat(factor, axis=2)


def feature_map_grid(activation: np.ndarray, columns: int | None = None) -> np.ndarray:
    """One sample's activation as an RGB picture.

    (H, W, C): one tile per channel, each normalized on its own. (steps, C): one row per channel.
    (units,): a bar chart of the unit values.
    """
    activation = np.asarray(activation)
    if activation.ndim == 3:
        tiles = colormap(normalize01_per_channel(activation).transpose(2, 0, 1))
        return tile_grid(_upscale(tiles), columns)
    if activation.ndim == 2:
        rows = normalize01_per_channel(activation).T
        stretch = max(1, math.ceil(4 * _TILE_MIN_PIXELS / rows.shape[1]))
        return colormap(rows.repeat(8, axis=0).repeat(stretch, axis=1))
    return bar_chart(activation.ravel())


def normalize01_per_channel(activation: np.ndarray) -> np.ndarray:
    """Rescale each channel (last axis) of ``activation`` to [0, 1] independently."""
    values = np.nan_to_num(np.asarray(activation, dtype="float64"))
    flat = values.reshape(-1, values.shape[-1])
    low, high = flat.min(axis=0), flat.max(axis=0)
    span = np.where(high > low, high - low, 1.0)
    return np.where(high > low, (values - low) / span, 0.0)


def bar_chart(values: np.ndarray, height: int = 160, bar_width: int = 6) -> np.ndarray:
    """Vertical bars for a vector (positive up, negative down from a grey zero line), RGB."""
    values = np.nan_to_num(np.asarray(values, dtype="float64"))
    scale = np.abs(values).max() or 1.0
    zero = height // 2 if values.min() < 0 else height - 1
    image = np.full((height, max(1, len(values)) * bar_width, 3), 255, "uint8")
    image[zero, :] = 160
    for index, value in enumerate(values):
        extent = int(round(abs(value) / scale * (zero if value >= 0 else height - 1 - zero)))
        top, bottom = (zero - extent, zero) if value >= 0 else (zero, zero + extent)
        image[top: bottom + 1, index * bar_width: (index + 1) * bar_width - 1] = (40, 90, 200)
    return image


def filter_grid(images: np.ndarray, columns: int | None = None) -> np.ndarray:
    """Filters from ``filters.filter_images`` ((n, h, w) grey or (n, h, w, 3) RGB) as one picture."""
    tiles = (np.asarray(images) * 255).round().astype("uint8")
    if tiles.ndim == 3:
        tiles = np.repeat(tiles[..., None], 3, axis=3)
    return tile_grid(_upscale(tiles), columns)


def heatmap_overlay(image: np.ndarray, heatmap: np.ndarray, alpha: float = 0.45) -> np.ndarray:
    """Blend a [0, 1] heat map over an image (H, W[, C], any range) as RGB uint8."""
    image = normalize01(image)
    if image.ndim == 3 and image.shape[2] >= 3:
        base = image[..., :3]
    else:
        base = np.repeat(image.reshape(*image.shape[:2], 1), 3, axis=2)
    blended = (1 - alpha) * base * 255 + alpha * colormap(heatmap)
    return blended.round().astype("uint8")


def confusion_matrix_image(counts: np.ndarray, class_names, normalized: bool = True, cell: int = 44) -> np.ndarray:
    """A labelled confusion matrix (rows true, columns predicted) as RGB uint8.

    Cells are shaded by the share of their true class; the text is the count, or the share when
    ``normalized``.
    """
    from PIL import Image, ImageDraw, ImageFont

    counts = np.asarray(counts)
    k = len(counts)
    totals = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts, totals, out=np.zeros(counts.shape), where=totals != 0)
    font = ImageFont.load_default(size=12)
    names = [str(name)[:14] for name in class_names]
    label_width = 12 + max(int(font.getlength(name)) for name in names)
    margin_top = 28
    left, top = label_width + 24, margin_top + label_width
    image = Image.new("RGB", (left + k * cell + 8, top + k * cell + 8), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 6), "predicted", fill="black", font=font)
    draw.text((4, top - 18), "true", fill="black", font=font)
    for index, name in enumerate(names):
        draw.text((8, top + index * cell + cell // 2), name, fill="black", font=font, anchor="lm")
        label = Image.new("RGB", (label_width, cell), "white")
        ImageDraw.Draw(label).text((4, cell // 2), name, fill="black", font=font, anchor="lm")
        image.paste(label.rotate(90, expand=True), (left + index * cell, margin_top))
    for row in range(k):
        for column in range(k):
            x0, y0 = left + column * cell, top + row * cell
            colour = tuple(int(c) for c in colormap(0.15 + 0.85 * shares[row, column]))
            draw.rectangle((x0, y0, x0 + cell - 1, y0 + cell - 1), fill=colour, outline="white")
            text = f"{shares[row, column]:.2f}" if normalized else str(int(counts[row, column]))
            ink = "black" if shares[row, column] > 0.55 else "white"
            draw.text((x0 + cell // 2, y0 + cell // 2), text, fill=ink, font=font, anchor="mm")
    return np.asarray(image)


def png_bytes(pixels: np.ndarray) -> bytes:
    """Encode a uint8 grey (H, W) or RGB(A) (H, W, C) array as PNG."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype="uint8")).save(buffer, format="PNG")
    return buffer.getvalue()


def save_png(path: str | os.PathLike, pixels: np.ndarray) -> None:
    """Atomically write ``pixels`` as a PNG file."""
    atomic_write_bytes(path, png_bytes(pixels))
