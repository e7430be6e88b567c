"""Evaluation of a model on labelled data: its task scores the outputs (see studio.core.tasks)."""

from __future__ import annotations

import numpy as np

from studio.core.inspect.errors import InspectError
from studio.core.tasks import TaskError, get_task


def evaluate_predictions(y_true, outputs, task: str, class_names=None):
    """Score model ``outputs`` against ``y_true`` with the dataset's task.

    Args:
        y_true: the targets (class indices or one-hot, values, masks, class + box).
        outputs: the model's raw outputs for the same samples.
        task: the dataset's task name ("classification", "regression", "segmentation", ...).
        class_names: names for the classes; defaults to "0", "1", ...

    Returns:
        The task's report (ClassificationReport, RegressionReport, SegmentationReport, ...).

    Raises:
        InspectError: the numbers of targets and outputs differ, or the task cannot score them.
    """
    outputs = np.asarray(outputs)
    if len(np.asarray(y_true)) != len(outputs):
        raise InspectError(f"{len(y_true)} labels but {len(outputs)} predictions; they must match")
    try:
        return get_task(task).evaluate(y_true, outputs, class_names)
    except TaskError as exc:
        raise InspectError(str(exc)) from None


def evaluate_model(model, x, y, task: str, class_names=None, batch_size: int = 256):
    """Run ``model`` on ``x`` (batched, inference mode) and score it against ``y``.

    Args:
        model: the Keras model.
        x: the inputs, a batch.
        y: their targets.
        task: the dataset's task name.
        class_names: names for the classes, or None.
        batch_size: samples per model call.

    Returns:
        The task's report (see ``evaluate_predictions``).

    Raises:
        InspectError: the inputs do not fit the model, or see ``evaluate_predictions``.
    """
    from studio.core.inspect.activations import model_outputs

    return evaluate_predictions(y, model_outputs(model, x, batch_size), task, class_names)
