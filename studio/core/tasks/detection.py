"""The detection task: any number of boxed objects per image, a model that outputs a grid of class
logits + box values (one-stage, YOLO-style; the ``detector_64`` template).

Targets are (max_boxes, 5) rows ``[x0, y0, x1, y1, class]`` per image (corners as fractions, class -1
for an unused row); sources ``shape_scenes``, ``coco``, ``yolo``. The loss, decoding and NMS are in
``tasks.grid_boxes`` (keras.ops), the COCO scores and pictures in ``tasks.coco_scores``.
"""

from __future__ import annotations

from typing import Any, Callable

from studio.core.tasks.base import Shown, Task, TaskError
from studio.core.tasks.grid_boxes import BOX_VALUES
from studio.core.tasks.outputs import fit_conv_filters
from studio.core.tasks.registry import register


class Detection(Task):
    name = "detection"
    targets = "boxes with classes"
    dense_output = False
    picture_title = "detected boxes"
    metric = "object_recall"
    box_targets = True
    counted = "boxes"
    output_note = (
        "raw grid (rows, columns, classes + 4) per image, decoding not included: in the cell (r, c) of an object's "
        "centre, sigmoid of the first `classes` values = each class's score; centre x = (c + sigmoid(v[classes])) / "
        "columns, centre y = (r + sigmoid(v[classes + 1])) / rows, width = sigmoid(v[classes + 2]) and height = "
        "sigmoid(v[classes + 3]) as fractions of the image; keep (cell, class) scores >= 0.05, then non-maximum "
        "suppression per class at IoU 0.5 (studio.core.tasks.grid_boxes.decode)")
    own_losses = ("detection",)

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "detection"

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        raise TaskError(f"loss {name} does not fit boxes with classes: use auto (focal class loss + box error "
                        "per grid cell)")

    def loss_function(self, name: str) -> Callable:
        from studio.core.tasks.grid_boxes import detection_loss

        return detection_loss

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        """The share of true boxes whose grid cell finds their class (mAP is scored after training)."""
        from studio.core.tasks.grid_boxes import object_recall

        return [object_recall], []

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        return f"boxes of {num_classes} classes"

    def fit_output(self, graph, output_id: str, shape: tuple, input_shape: tuple, num_classes: int | None) -> list[str]:
        """A grid of ``classes + 4`` values per cell; a last Conv2D's filters are fitted to the classes."""
        need = num_classes + BOX_VALUES
        if len(shape) != 3:
            raise TaskError(
                f"this dataset has boxes with classes but output {graph.nodes[output_id].name!r} gives {shape}: a "
                f"detector outputs a grid (rows, columns, {need}) of class logits and 4 box values per cell, "
                "e.g. the detector_64 template")
        return fit_conv_filters(graph, output_id, shape[-1], need, "values per cell",
                                f"{num_classes} classes + 4 box values")

    def evaluate(self, y_true, outputs, class_names):
        """mAP@0.5, mAP@[.5:.95] and per-class AP from pycocotools, after decoding + NMS."""
        import numpy as np

        from studio.core.tasks.coco_scores import detection_report

        outputs = np.asarray(outputs)
        if outputs.ndim != 4 or outputs.shape[-1] <= BOX_VALUES:
            raise TaskError(f"boxes need a model that outputs a grid (rows, columns, classes + 4); it gives "
                            f"{outputs.shape[1:]}")
        names = class_names or [str(k) for k in range(outputs.shape[-1] - BOX_VALUES)]
        return detection_report(y_true, decoded(outputs), list(names), _image_size(outputs))

    def target_classes(self, y):
        import numpy as np

        labels = np.asarray(y)[..., 4]
        return labels[labels >= 0].astype(int)

    def label_text(self, value, class_names: list[str]) -> str:
        labels = [int(row[4]) for row in value if row[4] >= 0]
        if not labels:
            return "no object"
        return f"{len(labels)} object{'s' if len(labels) > 1 else ''}: " + ", ".join(
            class_names[k] if k < len(class_names) else str(k) for k in labels)

    def target_picture(self, sample, target, class_names: list[str]):
        """The sample with each true box outlined in its class's colour."""
        from studio.core.pictures import CLASS_COLOURS
        from studio.core.tasks.boxes import draw_boxes

        rows = [row for row in target if row[4] >= 0]
        colours = [tuple(int(c) for c in CLASS_COLOURS[int(row[4]) % len(CLASS_COLOURS)]) for row in rows]
        return draw_boxes(sample, [row[:4] for row in rows], colours, scale=2)

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        """The detections scoring >= grid_boxes.SURE (red) and the true boxes (green) on the sample; bars: each
        class's best score."""
        import numpy as np

        from studio.core.tasks.boxes import draw_boxes
        from studio.core.tasks.coco_scores import PREDICTED, TRUE

        found = decoded(np.asarray(output)[None])
        boxes, scores, labels = found.of(0)
        best = np.zeros(len(class_names))
        for score, label in zip(found.scores[0], found.classes[0]):
            best[label] = max(best[label], score)
        true = [] if truth is None else [row[:4] for row in truth if row[4] >= 0]
        names = ", ".join(f"{class_names[k]} {s:.2f}" for k, s in zip(labels, scores)) or "nothing"
        return Shown(found, best, "best score per class",
                     f"Found {names} (red){'; true boxes in green' if truth is not None else ''}",
                     class_names, picture=draw_boxes(sample, [*true, *boxes],
                                                     [TRUE] * len(true) + [PREDICTED] * len(boxes), scale=4))


def decoded(outputs):
    """Numpy ``Detections`` of raw (N, G, G, classes + 4) outputs (decoding + NMS run in keras.ops)."""
    import numpy as np
    from keras import ops

    from studio.core.tasks.coco_scores import Detections
    from studio.core.tasks.grid_boxes import decode

    parts = [decode(outputs[start:start + 256]) for start in range(0, len(outputs), 256)]
    return Detections(*(np.concatenate([ops.convert_to_numpy(part[i]) for part in parts]) for i in range(3)))


def _image_size(outputs) -> tuple[int, int]:
    """A nominal image size in pixels for COCO's boxes: 8 pixels per grid cell (scores use ratios only)."""
    return outputs.shape[1] * 8, outputs.shape[2] * 8


TASK = register(Detection())
