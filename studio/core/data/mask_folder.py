"""Segmentation data from disk: ``images/`` and ``masks/`` folders whose files pair up by name.

A mask is a single-channel image whose pixel values are class indices (0 = background). Class names
come from an optional ``classes.txt`` beside the two folders (one name per line, background first),
else ``class 0``, ``class 1``, ... up to the largest value found. Images and masks are resized to
``image_size`` (masks by nearest neighbour, so labels stay whole); unreadable or unpaired files are
reported and skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.raw import RawData, existing_path
from studio.core.data.scan import read_header
from studio.core.data.source_options import source_option
from studio.core.fileio import read_bytes_capped

MAX_FILES = 100_000
MAX_CLASSES = 256
MAX_NAMES_BYTES = 1 << 20  # classes.txt: at most 256 short names


def load_mask_folder(spec: dict) -> RawData:
    root = existing_path(spec, folder=True)
    size = source_option(spec, "mask_folder", "image_size")
    colour = source_option(spec, "mask_folder", "color") == "rgb"
    max_pixels = source_option(spec, "mask_folder", "max_pixels")
    images_dir, masks_dir = root / "images", root / "masks"
    if not images_dir.is_dir() or not masks_dir.is_dir():
        raise DataError(f"{root} needs an images/ and a masks/ folder whose files pair up by name")
    masks = {path.stem: path for path in sorted(masks_dir.iterdir()) if path.is_file()}
    report, pairs = [], []
    for path in sorted(images_dir.iterdir())[:MAX_FILES]:
        if not path.is_file():
            continue
        mask = masks.get(path.stem)
        problem = "no mask of the same name in masks/" if mask is None else (
            read_header(path, max_pixels)[1] or read_header(mask, max_pixels)[1])
        if not problem:
            try:  # a header can pass its check while the pixels after it are damaged
                pairs.append((read_pixels(path, size, colour, nearest=False),
                              read_pixels(mask, size, False, nearest=True)))
            except (OSError, ValueError) as exc:
                problem = f"cannot decode ({exc})"
        if problem:
            report.append(f"skipped images/{path.name}: {problem}")
    if not pairs:
        raise DataError(f"no image in {images_dir} has a readable mask in {masks_dir}")
    x = np.stack([image for image, _mask in pairs]).astype(np.float32)
    y = np.stack([mask[..., 0] for _image, mask in pairs]).astype(np.int32)
    if y.max() >= MAX_CLASSES:
        raise DataError(f"mask values must be class indices below {MAX_CLASSES}; found {y.max()}")
    return RawData(x=x, y=y, task="segmentation", class_names=_class_names(root / "classes.txt", int(y.max())),
                   report=report)


def _class_names(names_file: Path, largest: int) -> list[str]:
    """The names in ``classes.txt`` (checked against the largest mask value), else numbered names."""
    if not names_file.is_file():
        return [f"class {k}" for k in range(max(2, largest + 1))]
    try:
        text = read_bytes_capped(names_file, MAX_NAMES_BYTES).decode("utf-8-sig")
    except (OSError, ValueError) as exc:  # too large, not UTF-8, not a regular file
        raise DataError(f"{names_file} cannot be read as class names ({exc})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if len(names) <= largest:
        raise DataError(f"{names_file} names {len(names)} classes but a mask holds the value {largest}")
    return names


def read_pixels(path: Path, size: int, colour: bool, nearest: bool) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB" if colour else "L")
        resample = Image.Resampling.NEAREST if nearest else Image.Resampling.BILINEAR
        pixels = np.asarray(image.resize((size, size), resample), dtype=np.float32)
    return pixels if pixels.ndim == 3 else pixels[..., None]
