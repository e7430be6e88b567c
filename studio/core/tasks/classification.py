"""The classification task: one class label per sample (or per time step), a softmax output."""

from __future__ import annotations

from typing import Any

from studio.core.tasks.base import CROSS_ENTROPIES, Shown, Task, TaskError
from studio.core.tasks.registry import register

ONE_HOT_METRICS = ("precision", "recall", "auc")


class Classification(Task):
    name = "classification"
    targets = "class labels"
    class_labels = True
    explains_class = True

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        return "categorical_crossentropy" if soft_labels else "sparse_categorical_crossentropy"

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        if soft_labels and name == "sparse_categorical_crossentropy":
            raise TaskError("mixup/cutmix make soft labels: use categorical_crossentropy (or auto)")
        if name == "binary_crossentropy":
            raise TaskError("binary_crossentropy fits two classes only: use auto or a categorical loss")
        if name not in CROSS_ENTROPIES and out_units != 1:
            raise TaskError(f"loss {name} compares numbers but the dataset has class labels and the model "
                            f"{out_units} outputs: use auto or a cross-entropy")

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        """Built-in Keras metrics only, so saved models load anywhere. Multi-class precision, recall
        and AUC are micro-averaged over one-hot labels (see ``wants_one_hot``)."""
        import keras

        metrics, notes = [], []
        threshold = 0.0 if from_logits else 0.5
        for name in names:
            made = None
            if loss == "binary_crossentropy":
                made = {
                    "accuracy": lambda: keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold),
                    "precision": lambda: keras.metrics.Precision(name="precision", thresholds=threshold),
                    "recall": lambda: keras.metrics.Recall(name="recall", thresholds=threshold),
                    "auc": lambda: keras.metrics.AUC(name="auc", from_logits=from_logits),
                }.get(name, lambda: None)()
            elif name == "accuracy":
                made = "accuracy"
            elif name == "top_k" and top_k < num_classes:
                sparse = loss == "sparse_categorical_crossentropy"
                cls = keras.metrics.SparseTopKCategoricalAccuracy if sparse else keras.metrics.TopKCategoricalAccuracy
                made = cls(k=top_k, name=f"top_{top_k}")
            elif name == "auc" and loss == "categorical_crossentropy":
                made = keras.metrics.AUC(name="auc", from_logits=from_logits)
            elif name in ("precision", "recall") and loss == "categorical_crossentropy" and not from_logits:
                made = {"precision": keras.metrics.Precision, "recall": keras.metrics.Recall}[name](name=name)
            if made is None:
                notes.append(f"metric {name} does not fit a {self.name} task with {loss}"
                             f"{' on logits' if from_logits else ''}: skipped")
            else:
                metrics.append(made)
        return metrics, notes

    def wants_one_hot(self, names: list[str], loss: str) -> bool:
        """Keras' multi-class precision/recall/AUC need one-hot labels."""
        return loss == "sparse_categorical_crossentropy" and any(name in ONE_HOT_METRICS for name in names)

    def float_labels(self, y, num_classes: int, one_hot: bool):
        """One-hot rows."""
        import numpy as np

        return np.eye(num_classes, dtype=np.float32)[y]

    def output_units(self, num_classes: int | None, target_size: int, current: int | None) -> int:
        return int(num_classes)

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        return f"{num_classes} classes"

    def output_activation(self, units: int) -> str:
        return "softmax"

    def evaluate(self, y_true, outputs, class_names):
        from studio.core.tasks.class_scores import classification_report

        return classification_report(y_true, outputs, class_names)

    def label_text(self, value, class_names: list[str]) -> str:
        import numpy as np

        label = int(np.ravel(value)[0]) if np.size(value) == 1 else int(np.argmax(value))
        return class_names[label] if label < len(class_names) else str(label)

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        """Class probabilities as bars; no picture of its own (Grad-CAM explains the top class)."""
        import numpy as np

        from studio.core.tasks.class_scores import class_probabilities

        probabilities = class_probabilities(np.asarray(output)[None])[0]
        index = int(probabilities.argmax())
        name = class_names[index] if index < len(class_names) else str(index)
        true = f" (true {self.label_text(truth, class_names)!r})" if truth is not None else ""
        return Shown(probabilities, probabilities, "class probabilities",
                     f"Predicted {name!r} with {probabilities[index]:.1%}{true}",
                     class_names if len(class_names) == len(probabilities) else None, index)


TASK = register(Classification())
