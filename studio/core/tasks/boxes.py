"""Class + box targets (the localization task, the step before R-CNN detectors): loss, scores, pictures.

Labels are (N, 5) float32 ``[class, x0, y0, x1, y1]`` (corners as fractions of the image side); the
model outputs ``classes + 4`` values: class probabilities (softmax) then the box (sigmoid), e.g. the
``localizer_28`` template. The loss adds cross-entropy on the class and the L1 error of the box.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.pictures import grey_rgb
from studio.core.tasks.base import Report, TaskError

BOX_VALUES = 4


def localization_loss(y_true, y_pred):
    """Sparse cross-entropy of the class part plus 4 x the mean absolute error of the box."""
    from keras import losses, ops

    classes = ops.cast(y_true[:, 0], "int32")
    class_part = losses.sparse_categorical_crossentropy(classes, y_pred[:, :-BOX_VALUES])
    return class_part + 4.0 * ops.mean(ops.abs(y_true[:, 1:] - y_pred[:, -BOX_VALUES:]), axis=-1)


def class_accuracy(y_true, y_pred):
    """Share of images whose class is right."""
    from keras import ops

    predicted = ops.cast(ops.argmax(y_pred[:, :-BOX_VALUES], axis=-1), "int32")
    return ops.cast(ops.equal(ops.cast(y_true[:, 0], "int32"), predicted), "float32")


def box_iou(y_true, y_pred):
    """Intersection over union of the true and predicted boxes, per image (a Keras metric)."""
    from keras import ops

    return box_iou_values(y_true[:, 1:], y_pred[:, -BOX_VALUES:], ops)


def box_iou_values(a, b, ops=np):
    """IoU of (N, 4) boxes ``[x0, y0, x1, y1]`` (numpy or keras.ops)."""
    width = ops.maximum(ops.minimum(a[:, 2], b[:, 2]) - ops.maximum(a[:, 0], b[:, 0]), 0.0)
    height = ops.maximum(ops.minimum(a[:, 3], b[:, 3]) - ops.maximum(a[:, 1], b[:, 1]), 0.0)
    overlap = width * height
    area = lambda box: ops.maximum(box[:, 2] - box[:, 0], 0.0) * ops.maximum(box[:, 3] - box[:, 1], 0.0)  # noqa: E731
    return overlap / (area(a) + area(b) - overlap + 1e-7)


@dataclass
class LocalizationReport(Report):
    class_names: list[str]
    y_true: np.ndarray  # (N, 5)
    classes: np.ndarray  # predicted class per image
    boxes: np.ndarray  # predicted (N, 4)

    @property
    def iou(self) -> np.ndarray:
        return box_iou_values(self.y_true[:, 1:].astype("float64"), self.boxes.astype("float64"))

    @property
    def accuracy(self) -> float:
        return float((self.classes == self.y_true[:, 0].astype(int)).mean()) if len(self.classes) else 0.0

    @property
    def mean_iou(self) -> float:
        return float(self.iou.mean()) if len(self.classes) else 0.0

    @property
    def hits(self) -> float:
        """Share of images with the right class and a box of IoU >= 0.5 (detection-style)."""
        right = (self.classes == self.y_true[:, 0].astype(int)) & (self.iou >= 0.5)
        return float(right.mean()) if len(right) else 0.0

    def table(self) -> tuple[list[str], list[list[str]]]:
        return ["metric", "value"], [["class accuracy", f"{self.accuracy:.4f}"],
                                     ["mean box IoU", f"{self.mean_iou:.4f}"],
                                     ["right class, IoU >= 0.5", f"{self.hits:.4f}"]]

    def summary(self) -> str:
        return (f"{len(self.classes)} images: class accuracy {self.accuracy:.4f}, mean box IoU {self.mean_iou:.4f}, "
                f"right class with box IoU >= 0.5: {self.hits:.4f} (boxes: true green, predicted red)")

    def pictures(self, x, count: int = 16) -> dict[str, np.ndarray]:
        """boxes.png: the first ``count`` samples with their true and predicted boxes."""
        from studio.core.pictures import tile_grid

        tiles = np.stack([draw_boxes(x[i], [self.y_true[i, 1:], self.boxes[i]]) for i in range(min(count, len(x)))])
        return {"boxes.png": tile_grid(tiles, columns=4)}


def localization_report(y_true, outputs, class_names) -> LocalizationReport:
    """Score (N, classes + 4) outputs against (N, 5) ``[class, x0, y0, x1, y1]`` targets."""
    outputs, y_true = np.asarray(outputs), np.asarray(y_true)
    k = len(class_names)
    if outputs.ndim != 2 or outputs.shape[1] != k + BOX_VALUES or y_true.shape[1:] != (1 + BOX_VALUES,):
        raise TaskError(f"boxes need a model that outputs {k} class scores + 4 box values; it gives "
                           f"{outputs.shape[1:]}")
    return LocalizationReport([str(n) for n in class_names], y_true, outputs[:, :k].argmax(axis=1),
                              outputs[:, k:])


def draw_boxes(image, boxes, colours=((40, 200, 40), (230, 60, 40)), scale: int = 4) -> np.ndarray:
    """An RGB uint8 picture of ``image`` with each box (fractions ``[x0, y0, x1, y1]``) outlined in turn
    in ``colours`` (default: true in green, predicted in red)."""
    picture = grey_rgb(image).repeat(scale, 0).repeat(scale, 1).astype("uint8")
    height, width = picture.shape[:2]
    for box, colour in zip(boxes, colours):
        corners = np.clip(np.asarray(box, "float64"), 0, 1) * [width - 1, height - 1, width - 1, height - 1]
        x0, y0, x1, y1 = corners.round().astype(int)
        picture[y0, x0:x1 + 1] = picture[y1, x0:x1 + 1] = colour
        picture[y0:y1 + 1, x0] = picture[y0:y1 + 1, x1] = colour
    return picture
