"""The localization task: a class and one box per image, a model that outputs class scores + 4 box values.

Source ``shape_boxes``; the loss, scores and pictures are in ``tasks.boxes``.
"""

from __future__ import annotations

from typing import Any, Callable

from studio.core.tasks.base import Shown, Task, TaskError
from studio.core.tasks.registry import register

TRUE, PREDICTED = (40, 200, 40), (230, 60, 40)  # box colours: green, red


class Localization(Task):
    name = "localization"
    targets = "class + box targets"
    dense_output = False
    picture_title = "predicted box"
    own_losses = ("localization",)

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "localization"

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        raise TaskError(f"loss {name} does not fit class + box targets: use auto (class cross-entropy + box error)")

    def loss_function(self, name: str) -> Callable:
        from studio.core.tasks.boxes import localization_loss

        return localization_loss

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        """The class, and how well the box overlaps the true one."""
        from studio.core.tasks.boxes import box_iou, class_accuracy

        return [class_accuracy, box_iou], []

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        return f"{num_classes} classes and a box"

    def fit_output(self, graph, output_id: str, shape: tuple, input_shape: tuple, num_classes: int | None) -> list[str]:
        """Class scores + 4 box values (a Concatenate of a class Dense and a box Dense); the class
        Dense's units are fitted to the classes."""
        node = graph.nodes[output_id]
        parts = [graph.nodes[i] for i in graph.inputs(output_id)] if node.type == "Concatenate" else []
        if len(shape) != 1 or len(parts) != 2 or any(part.type != "Dense" for part in parts):
            raise TaskError(
                f"this dataset has a box target (a class and 4 box coordinates per image) but output {node.name!r} "
                f"gives {shape}: a classification model predicts the class only; use a model that ends in a "
                "Concatenate of a class Dense (softmax) and a box Dense (4, sigmoid), e.g. the localizer_28 template")
        head, box = parts
        if box.params.get("units") != 4:
            raise TaskError(f"the second input of {node.name!r} must be the box: a Dense of 4 units")
        if head.params.get("units") == num_classes:
            return []
        old = head.params.get("units")
        graph.set_param(head.id, "units", num_classes)
        return [f"output {head.name!r}: units {old} -> {num_classes} ({num_classes} classes)"]

    def evaluate(self, y_true, outputs, class_names):
        from studio.core.tasks.boxes import localization_report

        return localization_report(y_true, outputs, class_names or [])

    def target_classes(self, y):
        import numpy as np

        return np.asarray(y)[:, 0].astype(int)

    def label_text(self, value, class_names: list[str]) -> str:
        label = int(value[0])
        box = ", ".join(f"{v:.2f}" for v in value[1:])
        return f"{class_names[label] if label < len(class_names) else label} in [{box}]"

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        """The class probabilities as bars; the predicted box (red) and the true one (green) on the sample."""
        import numpy as np

        from studio.core.tasks.boxes import BOX_VALUES, draw_boxes

        scores, predicted = output[:len(class_names)], output[-BOX_VALUES:]
        boxes, colours = ([predicted], (PREDICTED,)) if truth is None else ([truth[1:], predicted], (TRUE, PREDICTED))
        index = int(np.argmax(scores))
        true = " (true box in green)" if truth is not None else ""
        return Shown(output, scores, "class probabilities", f"Predicted {class_names[index]!r} in the red box{true}",
                     class_names, index, draw_boxes(sample, boxes, colours, scale=8))


TASK = register(Localization())
