"""Detection scores from pycocotools (the COCO evaluation everyone reports), and their pictures.

``detection_report(y_true, detections, class_names, image_size)`` hands the true and predicted boxes
to ``COCOeval`` and keeps mAP@0.5, mAP@[.5:.95], each class's AP and, per class, each image's mistakes
at IoU 0.5 (missed true boxes + confident false detections), so its worst images can be shown.
"""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass

import numpy as np

from studio.core.tasks.base import Report, TaskError
from studio.core.tasks.grid_boxes import SURE

TRUE, PREDICTED = (40, 200, 40), (230, 60, 40)  # box colours: green, red


@dataclass
class Detections:
    """Decoded detections per image: boxes (N, K, 4) fractions, scores (N, K) (0: dropped), classes (N, K)."""

    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray

    def of(self, image: int, min_score: float = SURE) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One image's boxes, scores and classes scoring at least ``min_score``."""
        kept = self.scores[image] >= min_score
        return self.boxes[image][kept], self.scores[image][kept], self.classes[image][kept]


@dataclass
class DetectionReport(Report):
    class_names: list[str]
    y_true: np.ndarray  # (N, max_boxes, 5)
    detections: Detections
    map50: float
    map: float  # mAP@[.5:.95]
    class_ap50: list[float]  # nan: the class has no true box
    class_ap: list[float]
    missed: np.ndarray  # (classes, N): true boxes no confident detection finds at IoU 0.5
    false: np.ndarray  # (classes, N): confident detections that match no true box at IoU 0.5

    @property
    def mistakes(self) -> np.ndarray:
        """(classes, N): missed true boxes plus confident false detections, per class and image."""
        return self.missed + self.false

    @property
    def object_recall(self) -> float:
        """Share of the true boxes that a confident detection of their class finds at IoU 0.5."""
        total = self.true_counts.sum()
        return float(1 - self.missed.sum() / total) if total else 0.0

    @property
    def true_counts(self) -> np.ndarray:
        labels = self.y_true[..., 4].astype(int)
        return np.array([(labels == k).sum() for k in range(len(self.class_names))])

    def worst_images(self, class_index: int, count: int = 16) -> list[int]:
        """The images with the most mistakes on class ``class_index`` (none when it has none)."""
        errors = self.mistakes[class_index]
        order = np.argsort(-errors, kind="stable")
        return [int(i) for i in order[:count] if errors[i] > 0]

    def table(self) -> tuple[list[str], list[list[str]]]:
        rows = [[name, _score(ap50), _score(ap), str(int(n)), str(int(errors.sum()))]
                for name, ap50, ap, n, errors in zip(self.class_names, self.class_ap50, self.class_ap,
                                                     self.true_counts, self.mistakes)]
        rows.append(["all classes (mean)", _score(self.map50), _score(self.map), str(int(self.true_counts.sum())),
                     str(int(self.mistakes.sum()))])
        return ["class", "AP@0.5", "AP@[.5:.95]", "true boxes", "mistakes at IoU 0.5"], rows

    def summary(self) -> str:
        return (f"{len(self.y_true)} images, {int(self.true_counts.sum())} true boxes: mAP@0.5 {self.map50:.4f}, "
                f"mAP@[.5:.95] {self.map:.4f} (pycocotools); {self.object_recall:.1%} of the boxes found with a "
                f"score >= {SURE} (boxes: true green, predicted red)")

    def row_samples(self, row: int) -> tuple[str, list[int], list[str]] | None:
        """A class row's worst images: those with the most mistakes on the class."""
        if row >= len(self.class_names):
            return None
        indices = self.worst_images(row, 32)
        name = self.class_names[row]
        return (f"{len(indices)} images with the most mistakes on {name!r} (true green, predicted red)", indices,
                [f"#{i}: {int(self.mistakes[row, i])} {name} mistake(s)" for i in indices])

    def sample_picture(self, x, image: int) -> np.ndarray:
        """One image with its true boxes (green) and detections scoring >= SURE (red)."""
        from studio.core.tasks.boxes import draw_boxes

        true = self.y_true[image]
        true = true[true[:, 4] >= 0, :4]
        predicted = self.detections.of(image)[0]
        return draw_boxes(x[image], [*true, *predicted], [TRUE] * len(true) + [PREDICTED] * len(predicted))

    def pictures(self, x, count: int = 16) -> dict[str, np.ndarray]:
        """boxes.png: the first ``count`` samples with their true and predicted boxes."""
        from studio.core.pictures import tile_grid

        tiles = [self.sample_picture(x, i) for i in range(min(count, len(x)))]
        return {"boxes.png": tile_grid(np.stack(tiles), columns=4)}


def _score(value: float) -> str:
    return "-" if np.isnan(value) else f"{value:.4f}"


def detection_report(y_true, detections: Detections, class_names: list[str], image_size: tuple[int, int]
                     ) -> DetectionReport:
    """Score ``detections`` against (N, max_boxes, 5) targets with pycocotools' COCOeval.

    Args:
        y_true: rows ``[x0, y0, x1, y1, class]`` per image (class -1: no box), corners as fractions.
        detections: the decoded detections of the same images.
        class_names: the dataset's class names.
        image_size: ``(height, width)`` in pixels, so COCO's boxes are in pixels as usual.

    Returns:
        The DetectionReport.

    Raises:
        TaskError: targets and detections of different image counts, or targets of another form.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    y_true = np.asarray(y_true, np.float64)
    if y_true.ndim != 3 or y_true.shape[-1] != 5 or len(y_true) != len(detections.boxes):
        raise TaskError(f"detection targets are (images, boxes, 5) rows [x0, y0, x1, y1, class] per image; got "
                        f"{y_true.shape} for {len(detections.boxes)} images")
    height, width = image_size
    scale = np.array([width, height, width, height], np.float64)
    images = [{"id": i, "width": width, "height": height} for i in range(len(y_true))]
    truths = [_coco_box(box * scale, i, int(label)) for i, rows in enumerate(y_true)
              for *box, label in rows if label >= 0]
    for number, truth in enumerate(truths):
        truth.update(id=number + 1, iscrowd=0, area=truth["bbox"][2] * truth["bbox"][3])
    found = [{**_coco_box(box * scale, i, int(label)), "score": float(score)}
             for i in range(len(y_true)) for box, score, label in zip(*detections.of(i, 1e-9))]
    ground = COCO()
    ground.dataset = {"images": images, "annotations": truths,
                      "categories": [{"id": k, "name": name} for k, name in enumerate(class_names)]}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints its progress
        ground.createIndex()
        predicted = ground.loadRes(found) if found else COCO()
        if not found:  # loadRes refuses an empty list: an empty result scores 0 everywhere
            predicted.dataset = {"images": images, "annotations": [], "categories": ground.dataset["categories"]}
            predicted.createIndex()
        evaluation = COCOeval(ground, predicted, "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
    precision = evaluation.eval["precision"][:, :, :, 0, -1]  # (IoU thresholds, recall, classes): all areas
    class_ap50 = [_mean(precision[0, :, k]) for k in range(len(class_names))]
    class_ap = [_mean(precision[:, :, k]) for k in range(len(class_names))]
    return DetectionReport(list(class_names), y_true.astype(np.float32), detections,
                           _nanmean(class_ap50), _nanmean(class_ap), class_ap50, class_ap,
                           *_mistakes(evaluation, len(class_names), len(y_true)))


def _coco_box(box, image: int, label: int) -> dict:
    x0, y0, x1, y1 = (float(v) for v in box)
    return {"image_id": image, "category_id": label, "bbox": [x0, y0, x1 - x0, y1 - y0]}


def _mean(precision: np.ndarray) -> float:
    """COCO's AP: the mean of the precisions, -1 (no true box of the class) left out."""
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else float("nan")


def _nanmean(values: list[float]) -> float:
    present = [v for v in values if not np.isnan(v)]
    return float(np.mean(present)) if present else 0.0


def _mistakes(evaluation, classes: int, images: int) -> tuple[np.ndarray, np.ndarray]:
    """(classes, images) twice: true boxes no detection >= SURE finds at IoU 0.5, and such detections matching none."""
    missed, false = np.zeros((classes, images)), np.zeros((classes, images))
    areas = len(evaluation.params.areaRng)
    for k in range(classes):
        for i in range(images):
            result = evaluation.evalImgs[(k * areas) * images + i]  # area range "all" comes first
            if result is None:
                continue
            confident = np.asarray(result["dtScores"]) >= SURE
            found = set(result["dtMatches"][0][confident].astype(int).tolist())
            missed[k, i] = sum(1 for gt in result["gtIds"] if gt not in found)
            false[k, i] = ((result["dtMatches"][0] == 0) & confident).sum()
    return missed, false
