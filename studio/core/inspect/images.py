"""Turn an image file (e.g. one dropped on the window) into a model input sample."""

from __future__ import annotations

import io
import os

import numpy as np

from studio.core.inspect.errors import InspectError

_MODES = {1: "L", 3: "RGB", 4: "RGBA"}


def load_image(source: str | os.PathLike | bytes, input_shape, normalize: str = "scale") -> np.ndarray:
    """Read an image and convert it to one float32 sample of ``input_shape``.

    The image is converted to the model's channel count (grey, RGB or RGBA) and resized to its
    height and width (a None dimension keeps the image's own size).

    Args:
        source: a file path or the file's bytes.
        input_shape: the model input without batch axis: (H, W), (H, W, C) with C in 1, 3, 4.
        normalize: "scale" maps pixels to [0, 1]; "none" keeps 0..255.
    """
    from PIL import Image, ImageOps

    shape = tuple(input_shape)
    channels = shape[2] if len(shape) == 3 else 1
    if len(shape) not in (2, 3) or channels not in _MODES:
        raise InspectError(f"the model input {shape} is not an image (expected height, width, 1/3/4 channels)")
    if normalize not in ("scale", "none"):
        raise InspectError(f"unknown normalization {normalize!r}; use 'scale' or 'none'")
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
    pixels = np.asarray(image, dtype="float32").reshape(height, width, channels)
    if len(shape) == 2:
        pixels = pixels[..., 0]
    return pixels / 255.0 if normalize == "scale" else pixels
