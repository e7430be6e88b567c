"""Detection data: several boxed objects per image, from the built-in scenes, a COCO file or YOLO labels.

Targets are (N, max_boxes, 5) float32 rows ``[x0, y0, x1, y1, class]`` with the corners as fractions
of the image side; unused rows are ``[0, 0, 0, 0, -1]``. Boxes that cannot be used (outside the image,
no area, an unknown class, more than ``max_boxes`` in one image) and unreadable images are skipped
and named in the report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.core.data.builtin import _draw, _paint
from studio.core.data.dataset import DataError
from studio.core.data.mask_folder import read_pixels
from studio.core.data.raw import RawData, existing_path, option
from studio.core.data.scan import IMAGE_SUFFIXES, read_header
from studio.core.data.source_options import source_option
from studio.core.fileio import loads_json_bounded, read_bytes_capped

NONE = -1.0  # the class of an unused box row
MAX_FILES = 100_000
MAX_ANNOTATION_BYTES = 256 * 2**20  # a COCO annotation file
MAX_LABEL_BYTES = 1 << 20  # one YOLO label file, classes.txt
MAX_REPORTED = 50  # report lines per reason beyond which only a count is given
PLACE_TRIES = 30  # tries to place an object of a scene clear of the others


def empty_targets(count: int, max_boxes: int) -> np.ndarray:
    """(count, max_boxes, 5) float32 targets holding no box."""
    targets = np.zeros((count, max_boxes, 5), np.float32)
    targets[..., 4] = NONE
    return targets


def load_shape_scenes(spec: dict) -> RawData:
    """Scenes of 1..``max_objects`` shapes apart from each other, each boxed at its drawn pixels; seeded."""
    classes, count, size, most, noise = (source_option(spec, "shape_scenes", key)
                                         for key in ("classes", "count", "image_size", "max_objects", "noise"))
    rng = np.random.default_rng(option(spec, "seed", 0, int))
    x = np.zeros((count, size, size, 1), np.float32)
    y = empty_targets(count, most)
    for i in range(count):
        drawn = np.zeros((size, size), bool)
        for k in range(int(rng.integers(1, most + 1))):
            label = int(rng.integers(len(classes)))
            for _try in range(PLACE_TRIES):
                mask = _draw(classes[label], 1, size, rng, spread=(0.12, 0.88), radius=(0.08, 0.16))[0]
                box = mask_box(mask)
                x0, y0, x1, y1 = (np.array(box) * size).round().astype(int)
                if mask.any() and not drawn[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1].any():
                    drawn |= mask
                    y[i, k] = [*box, label]
                    break
        x[i] = _paint(drawn[None], False, rng)[0]
    y = np.stack([_packed(boxes) for boxes in y])
    if noise:
        x = np.clip(x + rng.normal(0.0, noise * 255, x.shape).astype(np.float32), 0, 255)
    return RawData(x=x, y=y, task="detection", class_names=list(classes))


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float]:
    """The box ``(x0, y0, x1, y1)`` around a (H, W) boolean mask's pixels, as fractions of its sides."""
    rows, columns = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return columns[0] / width, rows[0] / height, (columns[-1] + 1) / width, (rows[-1] + 1) / height


def _packed(boxes: np.ndarray) -> np.ndarray:
    """The used rows of one image's targets first (objects that found no place leave gaps)."""
    used = boxes[:, 4] >= 0
    return np.concatenate([boxes[used], boxes[~used]])


def load_coco(spec: dict) -> RawData:
    """A COCO annotation file (``images``, ``annotations`` with pixel ``bbox`` [x, y, w, h],
    ``categories``) and the folder its ``file_name``s are in."""
    path = existing_path(spec)
    size, colour, most, max_pixels = (source_option(spec, "coco", key)
                                      for key in ("image_size", "color", "max_boxes", "max_pixels"))
    images_dir = existing_path(spec, "images", folder=True) if spec.get("images") else path.parent
    try:
        document = loads_json_bounded(read_bytes_capped(path, MAX_ANNOTATION_BYTES))
        categories = {int(c["id"]): str(c.get("name", c["id"])) for c in document.get("categories", [])}
        images = {int(i["id"]): i for i in document["images"][:MAX_FILES]}
        annotations = list(document.get("annotations", []))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path} is not a COCO annotation file (images, annotations, categories): {exc}") from None
    if not categories:
        raise DataError(f"{path} has no categories; a COCO file lists them with an id and a name")
    ids = sorted(categories)
    index = {category: k for k, category in enumerate(ids)}
    report = SkipReport()
    boxes: dict[int, list] = {image_id: [] for image_id in images}
    for number, note in enumerate(annotations):
        try:
            image = images[int(note["image_id"])]
            left, top, width, height = (float(v) for v in note["bbox"])
            category = int(note["category_id"])
            box = [left / image["width"], top / image["height"], (left + width) / image["width"],
                   (top + height) / image["height"]]
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            report.add("unreadable annotation", f"annotation {number}: {exc!r}")
            continue
        if category not in index:
            report.add("unknown class", f"annotation {number}: category {category} is not in categories")
            continue
        problem = box_problem(box)
        if problem:
            report.add(problem, f"annotation {number} in {image.get('file_name')}")
            continue
        boxes[int(note["image_id"])].append([*np.clip(box, 0, 1), index[category]])
    files = [(images_dir / str(image.get("file_name", "")), boxes[image_id]) for image_id, image in images.items()]
    x, y = _read_images(files, size, colour, most, max_pixels, report)
    return RawData(x=x, y=y, task="detection", class_names=[categories[c] for c in ids], report=report.lines())


def load_yolo(spec: dict) -> RawData:
    """A folder with ``images/`` and ``labels/`` (one .txt per image: ``class cx cy w h`` per line, as
    fractions) and an optional ``classes.txt``; an image without a label file holds no object."""
    root = existing_path(spec, folder=True)
    size, colour, most, max_pixels = (source_option(spec, "yolo", key)
                                      for key in ("image_size", "color", "max_boxes", "max_pixels"))
    images_dir, labels_dir = root / "images", root / "labels"
    if not images_dir.is_dir() or not labels_dir.is_dir():
        raise DataError(f"{root} needs an images/ and a labels/ folder (labels/NAME.txt for images/NAME.*)")
    names = _class_names(root / "classes.txt")
    report = SkipReport()
    files, largest = [], -1
    for image in sorted(p for p in images_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)[:MAX_FILES]:
        label_file, boxes = labels_dir / f"{image.stem}.txt", []
        try:
            text = read_bytes_capped(label_file, MAX_LABEL_BYTES).decode("utf-8") if label_file.exists() else ""
        except (OSError, ValueError) as exc:
            report.add("unreadable label file", f"labels/{label_file.name}: {exc}")
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            where = f"labels/{label_file.name} line {number}"
            if not line.strip():
                continue
            try:
                label, cx, cy, w, h = line.split()[:5]
                label, cx, cy, w, h = int(label), float(cx), float(cy), float(w), float(h)
            except ValueError:
                report.add("unreadable line (class cx cy w h)", where)
                continue
            if label < 0 or names is not None and label >= len(names):
                report.add("unknown class", f"{where}: class {label}")
                continue
            box = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
            problem = box_problem(box)
            if problem:
                report.add(problem, where)
                continue
            boxes.append([*np.clip(box, 0, 1), label])
            largest = max(largest, label)
        files.append((image, boxes))
    x, y = _read_images(files, size, colour, most, max_pixels, report)
    if names is None:
        names = [f"class {k}" for k in range(max(1, largest + 1))]
    return RawData(x=x, y=y, task="detection", class_names=names, report=report.lines())


def box_problem(box) -> str | None:
    """Why a box ``[x0, y0, x1, y1]`` (fractions) cannot be used, or None: not finite, no area, outside."""
    x0, y0, x1, y1 = box
    if not np.isfinite(box).all():
        return "box not a number"
    if x1 <= x0 or y1 <= y0:
        return "box of zero area"
    if x1 <= 0 or y1 <= 0 or x0 >= 1 or y0 >= 1:
        return "box outside the image"
    return None


class SkipReport:
    """Skipped boxes and files grouped by reason: the first few named, then a count."""

    def __init__(self):
        self.reasons: dict[str, list[str]] = {}

    def add(self, reason: str, where: str) -> None:
        self.reasons.setdefault(reason, []).append(where)

    def lines(self) -> list[str]:
        lines = []
        for reason, places in self.reasons.items():
            shown = "; ".join(places[:MAX_REPORTED]) + (f"; and {len(places) - MAX_REPORTED} more"
                                                       if len(places) > MAX_REPORTED else "")
            lines.append(f"skipped {len(places)} ({reason}): {shown}")
        return lines


def _read_images(files, size: int, colour: str, most: int, max_pixels: int, report: SkipReport):
    """Decode each ``(image path, boxes)`` at ``size`` pixels; targets padded to ``most`` boxes."""
    pixels, targets = [], []
    for path, boxes in files:
        problem = read_header(path, max_pixels)[1] if path.is_file() else "no such image file"
        if not problem:
            try:
                pixels.append(read_pixels(path, size, colour == "rgb", nearest=False))
            except (OSError, ValueError) as exc:
                problem = f"cannot decode ({exc})"
        if problem:
            report.add("unreadable image", f"{path.name}: {problem}")
            continue
        if len(boxes) > most:
            report.add(f"over {most} boxes in one image (max_boxes)", f"{len(boxes) - most} in {path.name}")
        target = empty_targets(1, most)[0]
        if boxes:
            target[:min(most, len(boxes))] = np.asarray(boxes[:most], np.float32)
        targets.append(target)
    if not pixels:
        raise DataError("no image could be read; see the report of skipped files")
    return np.stack(pixels).astype(np.float32), np.stack(targets)


def _class_names(names_file: Path) -> list[str] | None:
    """The names in ``classes.txt`` (one a line), or None when there is no such file."""
    if not names_file.is_file():
        return None
    try:
        text = read_bytes_capped(names_file, MAX_LABEL_BYTES).decode("utf-8-sig")
    except (OSError, ValueError) as exc:
        raise DataError(f"{names_file} cannot be read as class names ({exc})") from None
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        raise DataError(f"{names_file} names no class; write one class name a line")
    return names
