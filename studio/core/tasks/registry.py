"""The registered tasks by name: each task module registers its one ``Task`` when imported."""

from __future__ import annotations

from typing import Callable

from studio.core.tasks.base import Task, TaskError

TASKS: dict[str, Task] = {}


def register(task: Task) -> Task:
    """Make ``task`` known by its name (a later registration of the same name replaces it).

    Args:
        task: the task instance; its ``name`` is what datasets and run folders store.

    Returns:
        ``task``, so a module can write ``TASK = register(MyTask())``.
    """
    TASKS[task.name] = task
    return task


def get_task(name: str) -> Task:
    """The registered task called ``name``.

    Args:
        name: a dataset's ``task`` ("classification", "segmentation", ...).

    Returns:
        The ``Task``; raises TaskError naming the known tasks when there is none.
    """
    try:
        return TASKS[name]
    except KeyError:
        raise TaskError(f"unknown task {name!r}; expected one of {', '.join(TASKS)}") from None


def loss_owner(name: str) -> Task | None:
    """The task that brings its own loss called ``name`` (None: a Keras built-in or unknown loss)."""
    return next((owner for owner in TASKS.values() if name in owner.own_losses), None)


def own_loss(name: str) -> Callable | None:
    """The loss function a task brings under ``name``, or None."""
    owner = loss_owner(name)
    return owner.loss_function(name) if owner is not None else None
