"""The regression task: numbers to predict (one or more per sample or per time step), a linear output."""

from __future__ import annotations

from typing import Any

from studio.core.tasks.base import CROSS_ENTROPIES, Shown, Task, TaskError
from studio.core.tasks.registry import register


class Regression(Task):
    name = "regression"
    targets = "numeric targets"
    has_classes = False
    values_last_axis = True
    metric = "mae"

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "mse"

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        if name in CROSS_ENTROPIES:
            raise TaskError(f"loss {name} needs class labels but the dataset is a regression: use mse, mae or huber")

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        made = [name for name in names if name in ("mae", "mse")]
        return made, [f"metric {name} does not fit a regression task with {loss}"
                      f"{' on logits' if from_logits else ''}: skipped" for name in names if name not in made]

    def activation_problem(self, activation: str, units: int) -> tuple[str, str] | None:
        if activation in ("softmax", "sigmoid"):
            return "linear", f"applies {activation}, which does not fit a regression target"
        return None

    def evaluate(self, y_true, outputs, class_names):
        from studio.core.tasks.value_scores import regression_report

        return regression_report(y_true, outputs)

    def label_text(self, value, class_names: list[str]) -> str:
        import numpy as np

        return ", ".join(f"{v:.3g}" for v in np.ravel(value))

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        import numpy as np

        values = np.ravel(output)
        true = f" (true {self.label_text(truth, class_names)})" if truth is not None else ""
        return Shown(output, values, "predicted values",
                     f"Predicted {', '.join(f'{v:.4g}' for v in values)}{true}")


TASK = register(Regression())
