"""Turn an image file (e.g. one dropped on the window) into a model input sample."""

from __future__ import annotations

import io
import os

import numpy as np

from studio.core.inspect.errors import InspectError

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def normalize_pixels(pixels: np.ndarray, normalization: dict | None = None) -> np.ndarray:
    """Apply a dataset's image ``normalization`` record (``Dataset.normalization``) to 0..255 pixels.

    None means the default "scale" (divide by 255). "standardize" divides by 255, then subtracts
    the per-channel mean and divides by the std; "none" keeps 0..255.
    """
    normalization = normalization or {"mode": "scale", "divide": 255.0}
    mode = normalization.get("mode")
    if mode == "none":
        return pixels
    if mode not in ("scale", "standardize"):
        raise InspectError(f"unknown normalization {mode!r}; expected scale, standardize or none")
    values = pixels / np.float32(normalization.get("divide", 255.0))
    if mode == "standardize":
        mean = np.asarray(normalization["mean"], dtype="float32")
        std = np.asarray(normalization["std"], dtype="float32")
        if mean.size not in (1, values.shape[-1]):
            raise InspectError(
                f"the dataset was standardized over {mean.size} channels, the image has {values.shape[-1]}"
            )
        values = (values - mean) / std
    return values.astype("float32")


def load_image(source: str | os.PathLike | bytes, input_shape, normalization: dict | None = None) -> np.ndarray:
    """Read an image and convert it to one float32 sample of ``input_shape``.

    The image is converted to the model's channel count (grey, RGB or RGBA), resized to its
    height and width (a None dimension keeps the image's own size) and normalized like the
    training data.

    Args:
        source: a file path or the file's bytes.
        input_shape: the model input without batch axis: (H, W), (H, W, C) with C in 1, 3, 4.
        normalization: the dataset's ``normalization`` record; None scales pixels to [0, 1].
    """
    from PIL import Image, ImageOps

    shape = tuple(input_shape)
    channels = shape[2] if len(shape) == 3 else 1
    if len(shape) not in (2, 3) or channels not in _MODES:
        raise InspectError(f"the model input {shape} is not an image (expected height, width, 1/3/4 channels)")
    name = "the dropped data" if isinstance(source, bytes) else os.fspath(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            image = ImageOps.exif_transpose(image).convert(_MODES[channels])
    except FileNotFoundError as exc:
        raise InspectError(f"{name} does not exist") from exc
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise InspectError(f"{name} is not an image that can be read (PNG, JPEG, BMP, GIF, ...)") from exc
    height = shape[0] or image.height
    width = shape[1] or image.width
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    pixels = normalize_pixels(np.asarray(image, dtype="float32").reshape(height, width, channels), normalization)
    return pixels[..., 0] if len(shape) == 2 else pixels
