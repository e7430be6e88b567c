"""Tasks: the kind of target a dataset holds (a class, numbers, a mask, a class + box), as registered objects.

Each task module declares one ``Task`` (losses, metrics, how the model's output is fitted, its
evaluation report, how a prediction is shown) and registers it; training, inspect, the CLI and the
app ask ``get_task(dataset.task)`` instead of comparing names. A new task is one module + its import
below. Importing this package imports neither numpy nor Keras.
"""

from studio.core.tasks import (  # noqa: F401 (register)
    binary, classification, detection, localization, regression, segmentation)
from studio.core.tasks.base import Report, Shown, Task, TaskError
from studio.core.tasks.registry import TASKS, get_task, loss_owner, own_loss, register

__all__ = ["TASKS", "Report", "Shown", "Task", "TaskError", "get_task", "loss_owner", "own_loss", "register"]
