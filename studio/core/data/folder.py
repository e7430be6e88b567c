"""An image folder with one sub-folder per class, decoded up front with Pillow.

Every file is opened, verified and fully decoded here; the decoded pixels are exactly what
training uses, so a bad file is reported and left out now instead of failing mid-epoch.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.data.raw import RawData, existing_path, option, task_for_classes
from studio.core.data.source_options import source_option

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
DECODABLE_FORMATS = {"PNG", "JPEG", "MPO", "BMP", "GIF", "WEBP", "TIFF"}
GRAY_MODES = {"1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F"}
_FORMAT_SUFFIXES = {"JPEG": {".jpg", ".jpeg"}, "MPO": {".jpg", ".jpeg"}, "TIFF": {".tif", ".tiff"}}
_MAX_BYTES = 2 << 30


def load_folder(spec: dict) -> RawData:
    """Scan, decode, convert (gray/RGB) and resize every image under ``spec["path"]``."""
    root = existing_path(spec, folder=True)
    colour_mode = source_option(spec, "folder", "color")
    max_pixels = option(spec, "max_pixels", 40_000_000, int, 1)
    report: list[str] = []
    class_dirs = _class_dirs(root, report)
    class_names = [d.name for d in class_dirs]
    task = task_for_classes(class_names)

    files, labels, headers = [], [], []
    for label, folder in enumerate(class_dirs):
        found = 0
        for path in sorted(p for p in folder.rglob("*") if p.is_file() and not _hidden(p.relative_to(folder))):
            where = path.relative_to(root).as_posix()
            header, reason = _read_header(path, max_pixels)
            if reason:
                report.append(f"skipped {where}: {reason}")
                continue
            if header["note"]:
                report.append(f"{where}: {header['note']}")
            files.append(path)
            labels.append(label)
            headers.append(header)
            found += 1
        if not found:
            raise DataError(
                f"class folder {folder.name!r} has no readable image; add images "
                f"({', '.join(sorted(IMAGE_SUFFIXES))}) or remove the folder"
            )

    size = _target_size(spec, headers)
    colour = colour_mode == "rgb" or colour_mode == "auto" and any(h["mode"] not in GRAY_MODES for h in headers)
    channels = 3 if colour else 1
    if len(files) * size[0] * size[1] * channels * 4 > _MAX_BYTES:
        raise DataError(
            f"{len(files)} images of {size[0]}x{size[1]}x{channels} need more than 2 GiB; "
            "set a smaller image_size"
        )
    x = np.empty((len(files), size[0], size[1], channels), np.float32)
    keep = np.ones(len(files), bool)
    for i, path in enumerate(files):
        try:
            x[i] = _decode(path, size, colour)
        except (OSError, ValueError, SyntaxError) as exc:  # truncated data shows up only when decoding
            report.append(f"skipped {path.relative_to(root).as_posix()}: cannot decode ({exc})")
            keep[i] = False
    _report_conversions(headers, keep, size, colour, report)
    y = np.asarray(labels, np.int32)[keep]
    empty = [class_names[c] for c in range(len(class_names)) if not np.any(y == c)]
    if empty:
        raise DataError(f"class folder {empty[0]!r} has no decodable image; see the skipped files")
    return RawData(x=x[keep], y=y, task=task, class_names=class_names, report=report)


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def _class_dirs(root: Path, report: list[str]) -> list[Path]:
    entries = sorted(p for p in root.iterdir() if not p.name.startswith("."))
    for loose in (p for p in entries if p.is_file()):
        report.append(f"ignored {loose.name}: images must be inside a class sub-folder")
    dirs = [p for p in entries if p.is_dir()]
    if not dirs:
        raise DataError(
            f"{root} has no class sub-folders; put the images in one sub-folder per class "
            f"(e.g. {root / 'cats'}, {root / 'dogs'})"
        )
    if len(dirs) == 1:
        raise DataError(f"{root} has a single class sub-folder ({dirs[0].name!r}); add a sub-folder per class, at least two")
    return dirs


def _read_header(path: Path, max_pixels: int):
    """Verify ``path`` without decoding pixels: ``({format, mode, size, note}, None)`` or
    ``(None, reason)``."""
    from PIL import Image, UnidentifiedImageError

    if path.suffix.lower() not in IMAGE_SUFFIXES:
        return None, "not an image file type"
    if path.stat().st_size == 0:
        return None, "empty file"
    try:
        with Image.open(path) as image:
            fmt, mode, (width, height) = image.format, image.mode, image.size
            if fmt not in DECODABLE_FORMATS:
                return None, f"unsupported image format {fmt}"
            if width * height > max_pixels:
                return None, f"too large ({width}x{height} pixels, limit {max_pixels}); shrink it or raise max_pixels"
            image.verify()
    except UnidentifiedImageError:
        return None, "not a readable image (unknown or corrupt content)"
    except Image.DecompressionBombError:
        return None, f"too large (over Pillow's safety limit, limit {max_pixels} pixels); shrink it"
    except (OSError, SyntaxError, ValueError) as exc:
        return None, f"corrupt ({exc})"
    note = None
    expected = _FORMAT_SUFFIXES.get(fmt, {"." + fmt.lower()})
    if path.suffix.lower() not in expected:
        note = f"{fmt} content under a {path.suffix} name (loaded as {fmt})"
    return {"format": fmt, "mode": mode, "size": (height, width), "note": note}, None


def _target_size(spec: dict, headers: list[dict]) -> tuple[int, int]:
    size = spec.get("image_size")
    if size is None:
        return Counter(h["size"] for h in headers).most_common(1)[0][0]
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if (
        not isinstance(size, (list, tuple)) or len(size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and 4 <= s <= 1024 for s in size)
    ):
        raise DataError(f"folder: image_size must be [height, width] between 4 and 1024, got {size!r}")
    return int(size[0]), int(size[1])


def _decode(path: Path, size: tuple[int, int], colour: bool) -> np.ndarray:
    """Decode one file to float32 (H, W, C) in 0..255; transparency is flattened onto white."""
    from PIL import Image

    with Image.open(path) as image:
        image.load()
        if image.mode.startswith("I;16") or image.mode == "I":
            image = Image.fromarray((np.asarray(image, np.float32) / 257).clip(0, 255).astype(np.uint8))
        if image.mode in ("RGBA", "LA", "PA", "P") or "transparency" in image.info:
            rgba = image.convert("RGBA")
            image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        image = image.convert("RGB" if colour else "L")
        if image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.BILINEAR)
        pixels = np.asarray(image, np.float32)
    return pixels if colour else pixels[..., None]


def _report_conversions(headers, keep, size, colour, report):
    kept = [h for h, k in zip(headers, keep) if k]
    resized = sum(h["size"] != size for h in kept)
    if resized:
        report.append(f"resized {resized} image(s) to {size[0]}x{size[1]} (the most common size unless image_size is set)")
    modes = Counter(h["mode"] for h in kept)
    target = "RGB" if colour else "L"
    converted = {m: n for m, n in modes.items() if m != target}
    if converted:
        listing = ", ".join(f"{n} {m}" for m, n in sorted(converted.items()))
        report.append(f"converted to {'RGB' if colour else 'grayscale'}: {listing} (transparent areas become white)")
