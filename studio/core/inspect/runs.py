"""Open a training run folder for inspection: its model and the test data it was trained for."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.core.inspect.errors import InspectError

MODEL_CHOICES = ("auto", "final", "best", "last")


def run_model_path(run_dir: str | os.PathLike, which: str = "auto") -> Path:
    """The model file of a run: "final", "best", "last", or "auto" (the first of those that exists).

    Args:
        run_dir: the run folder.
        which: "final" (model.keras), "best" or "last" (checkpoints), or "auto".

    Returns:
        The path of an existing model file.

    Raises:
        InspectError: the folder does not exist, ``which`` is unknown, or the file is missing.
    """
    from studio.core.training.runs import RunFolder

    folder = RunFolder(run_dir)
    if not folder.path.is_dir():
        raise InspectError(f"{folder.path} is not a run folder (it does not exist or is a file)")
    if which not in MODEL_CHOICES:
        raise InspectError(f"unknown model choice {which!r}; use one of {', '.join(MODEL_CHOICES)}")
    files = {"final": folder.model_file, "best": folder.best_checkpoint, "last": folder.last_checkpoint}
    candidates = list(files.values()) if which == "auto" else [files[which]]
    for path in candidates:
        if path.is_file():
            return path
    names = " or ".join(str(path.relative_to(folder.path)) for path in candidates)
    raise InspectError(f"run {folder.path} has no model file ({names}); train it until a checkpoint is saved")


def load_run_model(run_dir: str | os.PathLike, which: str = "auto"):
    """Load a run's Keras model safely: Lambda/custom/unknown layers are refused before loading.

    Args:
        run_dir: the run folder.
        which: the model file, as ``run_model_path`` takes it.

    Returns:
        The uncompiled ``keras.Model`` with its weights.

    Raises:
        InspectError: no model file, or one that ``load_keras_file`` refuses (first line of its reason).
    """
    from studio.core.graph.keras_io import KerasImportError, load_keras_file

    try:
        _graph, model = load_keras_file(run_model_path(run_dir, which), with_model=True)
    except KerasImportError as exc:
        raise InspectError(str(exc).splitlines()[0]) from exc
    return model


def load_run_dataset(run_dir: str | os.PathLike):
    """The run's frozen project snapshot and the dataset it describes, as (project, dataset).

    Raises:
        InspectError: the run has no project snapshot.
        ProjectError: the snapshot cannot be loaded.
        DataError: its dataset cannot be loaded.
    """
    from studio.core.data import load_dataset
    from studio.core.project import load_project
    from studio.core.training.runs import RunFolder

    snapshot = RunFolder(run_dir).project_file
    if not snapshot.is_file():
        raise InspectError(f"run {run_dir} has no {snapshot.name} snapshot, so its dataset is unknown")
    project = load_project(snapshot)
    return project, load_dataset(project.dataset)


@dataclass
class RunContents:
    """What inspection needs from a run."""

    run_dir: Path
    model: object  # keras.Model
    project: object  # studio.core.project.Project snapshot
    dataset: object  # studio.core.data.Dataset


def open_run(run_dir: str | os.PathLike, which: str = "auto") -> RunContents:
    """Load a run's model, project snapshot and dataset.

    Args:
        run_dir: the run folder.
        which: the model file, as ``run_model_path`` takes it.

    Returns:
        RunContents with the model, the project snapshot and its loaded dataset.

    Raises:
        InspectError, ProjectError, DataError: see ``load_run_model`` and ``load_run_dataset``.
    """
    model = load_run_model(run_dir, which)
    project, dataset = load_run_dataset(run_dir)
    return RunContents(Path(run_dir), model, project, dataset)
