"""The R-CNN lesson: detection as "propose regions, classify each crop, suppress duplicates" (the idea
of R-CNN, Girshick et al. 2014) against a one-stage detector that reads the whole image once.

Both are trained on the same shape scenes as ordinary run folders and scored on the same test scenes
with pycocotools: the two-stage pipeline slides square windows over each test image (the proposals),
resizes every window to 28x28, classifies it with a small CNN trained on crops of the training
scenes (the true boxes, plus a "background" class of windows that miss every box), and keeps the
best windows after per-class NMS. The table gives mAP and milliseconds per image of each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np


CROP = 28  # the crop classifier's input side (the small_cnn_28 template)
WINDOWS = (10, 14, 18, 22)  # sliding-window sides in pixels of the 64-pixel scenes
NEGATIVES = 3  # background crops per training scene
MAX_PROPOSALS_KEPT = 100  # best-scoring windows handed to NMS per image
NMS_IOU = 0.3  # R-CNN's own threshold: windows of different sides around one shape overlap little
SCENES = {"source": "shape_scenes", "image_size": 64}
PICTURES = 4  # test scenes drawn for each detector in the lesson's picture

@dataclass
class LessonRow:
    name: str
    run_dir: Path
    map50: float
    map: float  # mAP@[.5:.95]
    ms_per_image: float


def crop_set(x: np.ndarray, y: np.ndarray, classes: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Training crops for the classifier: a square window around each true box (jittered) labelled
    with its class, and ``NEGATIVES`` windows per image overlapping no box much, labelled ``classes``
    (background).

    Args:
        x: (N, H, W, C) scenes.
        y: (N, max_boxes, 5) box rows ``[x0, y0, x1, y1, class]`` (fractions; class -1: none).
        classes: the number of object classes.
        seed: the jitter and the background windows.

    Returns:
        ``(crops (M, 28, 28, C), labels (M,) int32)``.
    """
    rng = np.random.default_rng(seed)
    size = x.shape[1]
    crops, labels = [], []
    for image, rows in zip(x, y):
        rows = rows[rows[:, 4] >= 0]
        boxes = rows[:, :4] * size
        windows = []
        for (x0, y0, x1, y1), label in zip(boxes, rows[:, 4]):
            side = max(x1 - x0, y1 - y0) * rng.uniform(1.0, 1.25)
            cx, cy = (x0 + x1) / 2 + rng.uniform(-0.1, 0.1) * side, (y0 + y1) / 2 + rng.uniform(-0.1, 0.1) * side
            windows.append([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2])
            labels.append(int(label))
        for _ in range(NEGATIVES):
            side = float(rng.choice(WINDOWS))
            left, top = rng.uniform(0, size - side, 2)
            window = np.array([left, top, left + side, top + side])
            if len(boxes) and _iou(window[None], boxes).max() >= 0.3:
                continue
            windows.append(window)
            labels.append(classes)
        crops.append(crop_windows(image, np.array(windows, np.float32)))
    return np.concatenate(crops), np.array(labels, np.int32)


def proposals(size: int, stride: int) -> np.ndarray:
    """(K, 4) pixel boxes ``[x0, y0, x1, y1]``: square windows of each side in ``WINDOWS``, ``stride`` apart."""
    boxes = []
    for side in WINDOWS:
        starts = np.arange(0, size - side + 1, stride, dtype=np.float32)
        left, top = np.meshgrid(starts, starts)
        left, top = left.ravel(), top.ravel()
        boxes.append(np.stack([left, top, left + side, top + side], axis=1))
    return np.concatenate(boxes)


def crop_windows(image: np.ndarray, windows: np.ndarray, side: int = CROP) -> np.ndarray:
    """Each (pixel) window of ``image`` resized to ``side`` x ``side`` (nearest pixel; outside: edge pixels)."""
    height, width = image.shape[:2]
    steps = (np.arange(side) + 0.5) / side
    cols = windows[:, 0:1] + steps[None] * (windows[:, 2:3] - windows[:, 0:1])
    rows = windows[:, 1:2] + steps[None] * (windows[:, 3:4] - windows[:, 1:2])
    cols = np.clip(cols.astype(int), 0, width - 1)
    rows = np.clip(rows.astype(int), 0, height - 1)
    return image[rows[:, :, None], cols[:, None, :]]


def rcnn_detect(classifier, x: np.ndarray, classes: int, stride: int):
    """The two-stage detections of scenes ``x``: windows -> crops -> classifier -> per-class NMS.

    Returns:
        ``(Detections, seconds)`` (the time of the whole pipeline).
    """
    from keras import ops

    from studio.core.tasks.coco_scores import Detections
    from studio.core.tasks.grid_boxes import nms

    size = x.shape[1]
    windows = proposals(size, stride)
    keep = min(MAX_PROPOSALS_KEPT, len(windows))
    found = ([], [], [])
    start = time.perf_counter()
    for image in x:
        probabilities = np.asarray(classifier.predict_on_batch(crop_windows(image, windows)))
        objects = probabilities[:, :classes]  # the last class is background
        labels, scores = objects.argmax(axis=1), objects.max(axis=1)
        best = np.argsort(-scores)[:keep]
        boxes = windows[best][None] / size
        kept = ops.convert_to_numpy(nms(boxes, scores[best][None], labels[best][None].astype("int32"),
                                        iou_threshold=NMS_IOU))
        found[0].append(boxes[0])
        found[1].append(scores[best] * kept[0])
        found[2].append(labels[best])
    seconds = time.perf_counter() - start
    return Detections(*(np.stack(part) for part in found)), seconds


def one_stage_detect(detector, x: np.ndarray):
    """The one-stage detections of scenes ``x`` (one pass per image, then decoding + NMS), and the seconds taken."""
    from studio.core.tasks.detection import decoded

    start = time.perf_counter()
    outputs = np.concatenate([np.asarray(detector.predict_on_batch(image[None])) for image in x])
    found = decoded(outputs)
    return found, time.perf_counter() - start


def run_lesson(runs_root: str | Path, say: Callable[[str], None] = print, count: int = 1500, epochs: int = 40,
               classifier_epochs: int = 10, stride: int = 4) -> list[LessonRow]:
    """Train both detectors under ``runs_root`` (in this process), score them on the same test scenes
    and write ``rcnn_lesson.png`` there (true boxes green, found red; two-stage left, one-stage right).

    Args:
        runs_root: the folder of the lesson's run folders and picture.
        say: where progress lines go.
        count: shape scenes drawn.
        epochs: epochs of the one-stage detector.
        classifier_epochs: epochs of the crop classifier.
        stride: pixels between sliding windows.

    Returns:
        One row per detector: mAP@0.5, mAP@[.5:.95] (pycocotools) and milliseconds per test image.
    """
    from studio.core.data import load_dataset
    from studio.core.fileio import atomic_replace_with
    from studio.core.inspect import load_run_model
    from studio.core.inspect.render import save_png
    from studio.core.pictures import tile_grid
    from studio.core.tasks.coco_scores import detection_report
    from studio.core.training.engine import train_lesson_run

    runs_root = Path(runs_root)
    runs_root.mkdir(parents=True, exist_ok=True)
    scenes = {**SCENES, "count": count}
    data = load_dataset(scenes)
    classes = len(data.class_names)
    crops, labels = crop_set(data.x_train, data.y_train, classes)
    crops_file = runs_root / "rcnn_lesson_crops.npz"
    atomic_replace_with(crops_file, lambda path: np.savez(path, x=crops * np.float32(255), y=labels,
                                                          class_names=np.array([*data.class_names, "background"])))
    say(f"{len(crops)} training crops ({int((labels < classes).sum())} boxed shapes, "
        f"{int((labels == classes).sum())} background windows)")
    classifier_run = train_lesson_run(_classifier_project(crops_file, classifier_epochs), runs_root, "rcnn-classifier",
                                      say)
    detector_run = train_lesson_run(_detector_project(scenes, epochs), runs_root, "one-stage", say)
    rows, pictures = [], []
    for name, run, detect in (
            ("two-stage (R-CNN idea)", classifier_run,
             lambda model: rcnn_detect(model, data.x_test, classes, stride)),
            ("one-stage (detector_64)", detector_run, lambda model: one_stage_detect(model, data.x_test))):
        found, seconds = detect(load_run_model(run))
        report = detection_report(data.y_test, found, data.class_names, data.input_shape[:2])
        rows.append(LessonRow(name, run, report.map50, report.map, 1000 * seconds / max(1, len(data.x_test))))
        pictures.append([report.sample_picture(data.x_test, i) for i in range(min(PICTURES, len(data.x_test)))])
        say(f"{name}: mAP@0.5 {report.map50:.3f}, mAP@[.5:.95] {report.map:.3f}, "
            f"{rows[-1].ms_per_image:.1f} ms per image")
    side_by_side = [tile for pair in zip(*pictures) for tile in pair]
    save_png(runs_root / "rcnn_lesson.png", tile_grid(np.stack(side_by_side), columns=2))
    say(f"wrote {runs_root / 'rcnn_lesson.png'} (left: two-stage, right: one-stage; true boxes green, found red)")
    return rows


def _classifier_project(crops_file: Path, epochs: int):
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project

    project = default_project()
    project.name = "rcnn_classifier"
    project.graph = load_template("small_cnn_28").graph
    project.dataset = {"source": "npz", "path": str(crops_file), "seed": 0}
    project.training = {**project.training, "epochs": epochs, "batch_size": 64, "learning_rate": 2e-3, "seed": 0,
                        "grad_norm_every": 0}
    return project


def _detector_project(scenes: dict, epochs: int):
    from studio.core.generative.templates import apply_template
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project

    project = apply_template(default_project(), load_template("detector_64"))
    project.name = "one_stage_detector"
    project.dataset = dict(scenes)
    project.training = {**project.training, "epochs": epochs, "seed": 0, "grad_norm_every": 0}
    return project


def _iou(window: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (1, 4) window with (M, 4) boxes."""
    from studio.core.tasks.boxes import box_iou_values

    return box_iou_values(np.repeat(window, len(boxes), axis=0), boxes)
