"""Error metrics of a regressor (numpy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.tasks.base import TaskError
from studio.core.tasks.class_scores import safe_divide


@dataclass
class RegressionReport:
    """Error metrics of a regressor (averaged uniformly over outputs, like scikit-learn)."""

    y_true: np.ndarray
    y_pred: np.ndarray

    @property
    def errors(self) -> np.ndarray:
        return self.y_pred - self.y_true

    @property
    def mae(self) -> float:
        return float(np.abs(self.errors).mean()) if self.errors.size else 0.0

    @property
    def mse(self) -> float:
        return float((self.errors**2).mean()) if self.errors.size else 0.0

    @property
    def rmse(self) -> float:
        return float(np.sqrt((self.errors**2).mean(axis=0)).mean()) if self.errors.size else 0.0

    @property
    def r2(self) -> float:
        """Coefficient of determination; a constant target scores 1 if fitted exactly, else 0."""
        residual = (self.errors**2).sum(axis=0)
        total = ((self.y_true - self.y_true.mean(axis=0)) ** 2).sum(axis=0)
        scores = np.where(total > 0, 1 - safe_divide(residual, total), np.where(residual == 0, 1.0, 0.0))
        return float(scores.mean())

    def largest_errors(self, limit: int = 16) -> np.ndarray:
        """Indices of the samples with the largest absolute error, worst first."""
        per_sample = np.abs(self.errors).reshape(len(self.errors), -1).max(axis=1)
        return np.argsort(-per_sample, kind="stable")[:limit]


def regression_report(y_true, outputs) -> RegressionReport:
    """Score a regressor's ``outputs`` against ``y_true`` (one row of values per sample)."""
    outputs = np.asarray(outputs)
    y_true = np.asarray(y_true, dtype="float64").reshape(len(outputs), -1)
    y_pred = outputs.astype("float64").reshape(len(outputs), -1)
    if y_true.shape != y_pred.shape:
        raise TaskError(f"targets have {y_true.shape[1]} values per sample but the model outputs {y_pred.shape[1]}")
    return RegressionReport(y_true, y_pred)
