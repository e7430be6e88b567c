"""The segmentation task: a class for every pixel (masks), a model that outputs (H, W, classes).

Sources ``shape_masks`` and ``mask_folder``; the numbers and pictures are in ``tasks.masks``.
"""

from __future__ import annotations

from typing import Any, Callable

from studio.core.tasks.base import Shown, Task, TaskError
from studio.core.tasks.outputs import fit_conv_filters
from studio.core.tasks.registry import register


class Segmentation(Task):
    name = "segmentation"
    targets = "per-pixel masks"
    dense_output = False
    picture_title = "predicted mask"
    counted = "pixels"
    own_losses = ("dice",)

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "sparse_categorical_crossentropy"

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        if name not in ("sparse_categorical_crossentropy", "dice"):
            raise TaskError(f"loss {name} does not fit per-pixel masks: use auto (per-pixel cross-entropy) or dice")

    def loss_function(self, name: str) -> Callable:
        from studio.core.tasks.masks import sparse_dice_loss

        return sparse_dice_loss

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        """Per-pixel accuracy and the mean intersection-over-union of the classes."""
        import keras

        return ["accuracy", keras.metrics.MeanIoU(num_classes, sparse_y_true=True, sparse_y_pred=False,
                                                  name="iou")], []

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        return f"{num_classes} mask classes"

    def fit_output(self, graph, output_id: str, shape: tuple, input_shape: tuple, num_classes: int | None) -> list[str]:
        """One class score per pixel; a last Conv2D's filters are fitted to the classes."""
        classes = num_classes
        if len(shape) != 3 or tuple(shape[:2]) != tuple(input_shape[:2]):
            raise TaskError(
                f"this dataset has a per-pixel target (a class for every pixel of {input_shape[:2]}) but "
                f"output {graph.nodes[output_id].name!r} gives {shape}: a classification model outputs one label "
                f"per image; use a model that outputs ({input_shape[0]}, {input_shape[1]}, {classes}), e.g. the "
                "unet_28 template")
        return fit_conv_filters(graph, output_id, shape[-1], classes, "scores per pixel", f"{classes} mask classes")

    def evaluate(self, y_true, outputs, class_names):
        from studio.core.tasks.masks import segmentation_report

        names = class_names if class_names is not None else [str(i) for i in range(outputs.shape[-1])]
        return segmentation_report(y_true, outputs, names)

    def target_classes(self, y):
        import numpy as np

        return np.asarray(y).ravel().astype(int)

    def label_text(self, value, class_names: list[str]) -> str:
        import numpy as np

        present = [class_names[c] if c < len(class_names) else str(c) for c in np.unique(value) if c > 0]
        return f"mask of {', '.join(present)}" if present else "background only"

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        """The predicted mask over the sample (beside the true one), and the share of pixels per class."""
        import numpy as np

        from studio.core.tasks.masks import mask_pictures

        mask = np.asarray(output).argmax(axis=-1)
        shares = np.bincount(np.ravel(mask), minlength=len(class_names)) / max(1, np.size(mask))
        found = ", ".join(f"{name} {share:.0%}" for name, share in zip(class_names[1:], shares[1:]) if share)
        return Shown(mask, shares, "share of pixels per predicted class",
                     f"Predicted mask (left){' beside the true mask (right)' if truth is not None else ''}: "
                     f"{found or 'background only'}", class_names, picture=mask_pictures(sample, mask, truth))


TASK = register(Segmentation())
