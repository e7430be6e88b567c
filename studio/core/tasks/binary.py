"""The binary task: two classes, one sigmoid unit (or two softmax units)."""

from __future__ import annotations

from studio.core.tasks.classification import Classification
from studio.core.tasks.registry import register


class Binary(Classification):
    name = "binary"

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "binary_crossentropy" if out_units == 1 else super().default_loss(out_units, soft_labels)

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        if name != "binary_crossentropy":
            super().check_loss(name, out_units, soft_labels)

    def wants_one_hot(self, names: list[str], loss: str) -> bool:
        return False

    def float_labels(self, y, num_classes: int, one_hot: bool):
        """The positive class's share, one column for the sigmoid unit (one-hot rows for metrics)."""
        import numpy as np

        return np.eye(num_classes, dtype=np.float32)[y] if one_hot else y.astype(np.float32)[:, None]

    def output_units(self, num_classes: int | None, target_size: int, current: int | None) -> int:
        return current if current in (1, 2) else 1

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        return "a binary target"

    def output_activation(self, units: int) -> str:
        return "softmax" if units == 2 else "sigmoid"

    def activation_problem(self, activation: str, units: int) -> tuple[str, str] | None:
        if units == 1 and activation == "softmax":
            return "sigmoid", "applies softmax to one unit (always 1)"
        return None


TASK = register(Binary())
