"""Scores of a classifier: class probabilities, the per-class report and binary curves (numpy).

Classification numbers follow scikit-learn's definitions (zero_division=0) and are tested against
it; confusion rows are true classes, columns predicted classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from studio.core.tasks.base import TaskError


def class_probabilities(outputs) -> np.ndarray:
    """(n, classes) probabilities from model outputs.

    One output unit is a binary sigmoid and becomes two columns (1 - p, p). Outputs that are not
    already probabilities (logits) are passed through softmax / sigmoid.
    """
    outputs = np.asarray(outputs, dtype="float64")
    outputs = outputs.reshape(len(outputs), -1)
    in_unit_range = outputs.size == 0 or (outputs.min() >= 0 and outputs.max() <= 1)
    if outputs.shape[1] == 1:
        p = outputs[:, 0] if in_unit_range else 1 / (1 + np.exp(-outputs[:, 0]))
        return np.stack([1 - p, p], axis=1)
    if in_unit_range and np.allclose(outputs.sum(axis=1), 1, atol=1e-3):
        return outputs
    shifted = np.exp(outputs - outputs.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def label_indices(y, num_classes: int) -> np.ndarray:
    """Integer class labels from integer or one-hot ``y``; rejects labels the model cannot output."""
    y = np.asarray(y)
    labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(len(y))
    if labels.size and not np.all(np.equal(np.mod(labels, 1), 0)):
        raise TaskError("classification labels must be whole numbers (class indices)")
    labels = labels.astype("int64")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise TaskError(
            f"labels range from {labels.min()} to {labels.max()} but the model outputs "
            f"{num_classes} classes; check that the run's model matches its dataset"
        )
    return labels


def safe_divide(numerator, denominator):
    numerator = np.asarray(numerator, dtype="float64")
    denominator = np.asarray(denominator, dtype="float64")
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator != 0)


def _f1(precision, recall):
    return safe_divide(2 * precision * recall, precision + recall)


@dataclass
class BinaryCurves:
    """ROC and precision-recall curves of the positive class (scikit-learn's points)."""

    fpr: np.ndarray
    tpr: np.ndarray
    roc_thresholds: np.ndarray
    roc_auc: float
    precision: np.ndarray
    recall: np.ndarray
    pr_thresholds: np.ndarray
    average_precision: float


def binary_curves(y_true, positive_scores) -> BinaryCurves | None:
    """ROC/PR curves, or None when the labels hold a single class (the curves are undefined)."""
    from sklearn import metrics

    y_true = np.asarray(y_true)
    if len(np.unique(y_true)) < 2:
        return None
    fpr, tpr, roc_thresholds = metrics.roc_curve(y_true, positive_scores)
    precision, recall, pr_thresholds = metrics.precision_recall_curve(y_true, positive_scores)
    return BinaryCurves(
        fpr, tpr, roc_thresholds, float(metrics.auc(fpr, tpr)),
        precision, recall, pr_thresholds,
        float(metrics.average_precision_score(y_true, positive_scores)),
    )


@dataclass
class ClassificationReport:
    """Metrics of a classifier on labelled samples, plus what a gallery needs to show them."""

    class_names: list[str]
    y_true: np.ndarray
    probabilities: np.ndarray
    curves: BinaryCurves | None = None
    y_pred: np.ndarray = field(init=False)
    confidence: np.ndarray = field(init=False)  # probability of the predicted class
    confusion: np.ndarray = field(init=False)

    def __post_init__(self):
        k = len(self.class_names)
        self.y_pred = self.probabilities.argmax(axis=1)
        self.confidence = self.probabilities[np.arange(len(self.probabilities)), self.y_pred]
        self.confusion = np.bincount(self.y_true * k + self.y_pred, minlength=k * k).reshape(k, k)

    @property
    def accuracy(self) -> float:
        return float(safe_divide(np.trace(self.confusion), self.confusion.sum()))

    @property
    def support(self) -> np.ndarray:
        return self.confusion.sum(axis=1)

    @property
    def precision(self) -> np.ndarray:
        return safe_divide(np.diag(self.confusion), self.confusion.sum(axis=0))

    @property
    def recall(self) -> np.ndarray:
        return safe_divide(np.diag(self.confusion), self.support)

    @property
    def f1(self) -> np.ndarray:
        return _f1(self.precision, self.recall)

    @property
    def macro(self) -> dict[str, float]:
        """Unweighted means over classes (absent classes count as zeros, like scikit-learn)."""
        return {"precision": float(self.precision.mean()), "recall": float(self.recall.mean()),
                "f1": float(self.f1.mean())}

    @property
    def weighted(self) -> dict[str, float]:
        """Means over classes weighted by their support."""
        weights = self.support
        if weights.sum() == 0:
            return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
        return {name: float(np.average(values, weights=weights)) for name, values in
                (("precision", self.precision), ("recall", self.recall), ("f1", self.f1))}

    @property
    def micro(self) -> dict[str, float]:
        """Metrics over all samples pooled; for single-label data all three equal accuracy."""
        hits = np.trace(self.confusion)
        precision = float(safe_divide(hits, self.confusion.sum()))
        recall = float(safe_divide(hits, self.support.sum()))
        return {"precision": precision, "recall": recall, "f1": float(_f1(precision, recall))}

    @property
    def confusion_normalized(self) -> np.ndarray:
        """Confusion counts divided by each true class's total (rows sum to 1; empty rows are 0)."""
        return safe_divide(self.confusion, self.support[:, None])

    def cell_indices(self, true_class: int, predicted_class: int) -> np.ndarray:
        """Indices of the samples in one confusion cell, most confident first."""
        mask = (self.y_true == true_class) & (self.y_pred == predicted_class)
        return self._by_confidence(np.flatnonzero(mask))

    def confident_mistakes(self, limit: int = 16) -> np.ndarray:
        """Indices of misclassified samples, most confident first (at most ``limit``)."""
        return self._by_confidence(np.flatnonzero(self.y_true != self.y_pred))[:limit]

    def _by_confidence(self, indices: np.ndarray) -> np.ndarray:
        return indices[np.argsort(-self.confidence[indices], kind="stable")]


def classification_report(y_true, outputs, class_names=None) -> ClassificationReport:
    """Score a classifier's raw ``outputs`` against integer or one-hot labels ``y_true``.

    Args:
        y_true: class indices or one-hot rows.
        outputs: the model's outputs (probabilities or logits; one unit is a sigmoid).
        class_names: names for the classes; defaults to "0", "1", ...

    Returns:
        A ClassificationReport (with ROC/PR curves for two classes).
    """
    probabilities = class_probabilities(outputs)
    k = probabilities.shape[1]
    names = [str(name) for name in class_names] if class_names is not None else [str(i) for i in range(k)]
    if len(names) != k:
        raise TaskError(
            f"the dataset has {len(names)} classes but the model outputs {k} values per sample: only a "
            "classifier made for this dataset can be evaluated (a contrastive pretraining run's model is a "
            "feature encoder: train a classifier on it with --backbone RUN, or Use as backbone, and evaluate that)"
        )
    labels = label_indices(y_true, k)
    curves = binary_curves(labels, probabilities[:, 1]) if k == 2 else None
    return ClassificationReport(names, labels, probabilities, curves)
