"""Everything checked before a training process starts, and the run folder it starts from.

``plan_run`` refuses bad settings, graphs with errors and graph/dataset mismatches with one clear
message, and adapts a template to the dataset where that is well defined. ``prepare_run_folder``
writes run.json and the frozen project snapshot (or re-opens a run for ``--resume``).
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.core import hooks
from studio.core.backends import TITLES, versions  # noqa: F401  (versions: re-exported for export manifests)
from studio.core.training.adapt import adapt_to_dataset
from studio.core.training.compat import DataFacts, check_compat
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError
from studio.core.training.runs import FINAL_STATUSES, RunFolder, pid_alive, send_control


@dataclass
class RunPlan:
    """A checked project ready to train: the adapted project, its config and what was changed."""

    project: Any
    config: TrainingConfig
    adaptations: list[str] = field(default_factory=list)
    dataset: dict[str, Any] = field(default_factory=dict)


def check_config(training: dict[str, Any]) -> TrainingConfig:
    """The project's training settings as a config; TrainingError listing every bad value.

    Args:
        training: the project's ``training`` section; missing settings take their spec's default.

    Returns:
        The TrainingConfig.

    Raises:
        TrainingError: one or more settings are invalid (all are named).
    """
    config = TrainingConfig.from_dict(training)
    problems = config.validate()
    if problems:
        raise TrainingError("invalid training settings: " + "; ".join(problems))
    return config


def dataset_summary(dataset) -> dict[str, Any]:
    """What run.json records about the dataset."""
    return {
        "source": dataset.spec.get("source"),
        "fingerprint": dataset.fingerprint(),
        "task": dataset.task,
        "input_shape": list(dataset.input_shape),
        "num_classes": dataset.num_classes,
        "samples": {"train": len(dataset.x_train), "val": len(dataset.x_val), "test": len(dataset.x_test)},
    }


def load_checked_dataset(spec: dict[str, Any], load: Callable[[dict], Any] | None = None):
    """``load(spec)`` (default ``load_dataset``) with its DataError turned into a TrainingError."""
    from studio.core.data import DataError, load_dataset

    try:
        return check_dataset((load or load_dataset)(spec))
    except DataError as exc:
        raise TrainingError(f"dataset: {exc}") from None


def check_dataset(dataset):
    """``dataset`` itself; TrainingError when it has nothing to train on."""
    if not len(dataset.x_train):
        raise TrainingError("dataset: the training split is empty; give it a larger share")
    return dataset


def plan_run(project, dataset=None) -> RunPlan:
    """Check ``project`` and fit its graph to its dataset; raise TrainingError when it cannot train.

    ``dataset``: the project's dataset when the caller has already loaded it (e.g. from
    ``studio.core.data.cache``), so a start loads it only once here; else it is loaded now.

    Args:
        project: the project to train; it is not modified.
        dataset: the loaded dataset, or None to load ``project.dataset``.

    Returns:
        A RunPlan holding a copy of the project whose graph is fitted to the data (e.g. the output
        layer's units), its checked config, the changes made (one sentence each) and the dataset
        summary run.json records.

    Raises:
        TrainingError: invalid settings, a dataset that does not load or has no training samples,
            a feature's own check failing, or a model that does not fit the data.
    """
    config = check_config(project.training)
    hooks.call("check_run", project, config)  # each feature's own settings (e.g. a backbone source)
    dataset = load_checked_dataset(project.dataset) if dataset is None else check_dataset(dataset)
    planned = project.copy()
    planned.training = config.to_dict()
    changes: list[str] = []
    facts = DataFacts.of(dataset)
    fitted = hooks.first("plan_objective", planned, dataset)  # e.g. contrastive: labels unused
    if fitted is not None:
        planned.graph, changes = fitted
        return RunPlan(planned, config, changes, dataset_summary(dataset))
    if not planned.generative:
        planned.graph, changes = adapt_to_dataset(planned.graph, dataset)
    problems = check_compat(planned, facts)  # what adapting cannot fix: the Model area shows the same
    if problems:
        raise TrainingError("; ".join(problem.message for problem in problems))
    return RunPlan(planned, config, changes, dataset_summary(dataset))


def _check_writable(path: Path) -> None:
    """Make ``path`` and write a file in it (OSError when the folder cannot be written)."""
    path.mkdir(parents=True, exist_ok=True)
    probe = path / ".write-test"
    probe.write_bytes(b"")
    probe.unlink()


def choose_backend(project, config: TrainingConfig) -> tuple[str, str]:
    """``(backend, why)`` for a run; TrainingError when the chosen one is not installed or cannot
    start (asked of a fresh process once per session, as ``studio doctor`` does, with its fix).

    Args:
        project: the project (its signature picks a measured backend when the setting is auto).
        config: the run's training config; ``config.backend`` is the setting.

    Returns:
        The backend name and a sentence saying why it was chosen.

    Raises:
        TrainingError: the chosen backend is unknown, not installed or cannot start.
    """
    from studio.core.backends import resolve
    from studio.core.backends.measurements import project_signature

    try:
        backend, why = resolve(config.backend, project_signature(project))
    except ValueError as exc:
        raise TrainingError(str(exc)) from None
    check_backend_starts(backend)
    return backend, why


def check_backend_starts(backend: str) -> None:
    """Refuse a backend that cannot start, asked of a fresh process once a session.

    Args:
        backend: tensorflow, jax or torch.

    Raises:
        TrainingError: with ``studio doctor``'s diagnosis and fix line.
    """
    from studio.core.backends import session_probe

    facts = session_probe(backend)
    if not facts.usable:
        fix = f"; fix: {facts.fix}" if facts.fix else ""
        raise TrainingError(f"the {TITLES[backend]} backend cannot start ({facts.reason}){fix} "
                            "(see `studio doctor`)")


def prepare_run_folder(plan: RunPlan, run_dir: str | os.PathLike) -> RunFolder:
    """Create a new run folder with run.json (status ``starting``) and the project snapshot.

    Args:
        plan: what ``plan_run`` returned.
        run_dir: the folder to create; it may exist only if empty.

    Returns:
        The RunFolder.

    Raises:
        TrainingError: the folder already holds files or cannot be written, or the backend cannot
            start (see ``choose_backend``).
    """
    return write_new_run(plan.project, run_dir, plan.config, config=plan.config.to_dict(), dataset=plan.dataset,
                         adaptations=plan.adaptations)


def write_new_run(project, run_dir: str | os.PathLike, settings: TrainingConfig, error=TrainingError,
                  **info: Any) -> RunFolder:
    """A new run folder of any kind of run: the project snapshot and run.json (status ``starting``,
    the chosen backend, versions, host) with ``info`` added.

    Args:
        project: the project to snapshot.
        run_dir: the folder to create; it may exist only if empty.
        settings: the run's training settings (they choose the backend).
        error: the TrainingError class raised (a feature's own, e.g. RLError).
        **info: what this kind of run records in run.json (``config``, ``dataset``, ...).

    Returns:
        The RunFolder.
    """
    from studio.core.project import save_project

    folder = RunFolder(run_dir)
    if folder.path.exists() and any(folder.path.iterdir()):
        raise error(f"{folder.path} already holds files: pick a new run folder, or resume that run")
    backend, why = choose_backend(project, settings)  # before the folder exists
    try:
        _check_writable(folder.path)
        save_project(project, folder.project_file)
        folder.update_info(
            name=project.name, status="starting", created=time.time(), versions=versions(backend),
            backend=backend, backend_reason=why, host=socket.gethostname(), launcher=os.getpid(), error=None,
            resumes=0, **info)
    except OSError as exc:
        raise error(f"cannot write the run folder {folder.path}: {exc.strerror or exc}; "
                    "choose a writable folder") from None
    return folder


def reopen_run_folder(run_dir: str | os.PathLike, training: dict[str, Any] | None = None) -> RunFolder:
    """Prepare a stopped, killed or crashed run for ``--resume`` (optionally with new settings).

    ``training`` replaces the snapshot's training settings (e.g. more epochs); the graph and the
    dataset stay those of the snapshot.
    """
    from studio.core.project import ProjectError, load_project, save_project

    folder = RunFolder(run_dir)
    info = folder.info()
    if not info:
        raise TrainingError(f"{folder.path} is not a run folder (no run.json): nothing to resume")
    if info.get("status") not in FINAL_STATUSES and pid_alive(info.get("pid")):
        raise TrainingError(f"run {folder.path.name} is still training")
    if info.get("status") == "completed":
        raise TrainingError(f"run {folder.path.name} already completed: start a new run to train more")
    if info.get("backend") in TITLES:
        check_backend_starts(info["backend"])
    try:
        project = load_project(folder.project_file)
    except ProjectError as exc:
        raise TrainingError(f"cannot resume: {exc}") from None
    config = check_config({**info.get("config", {}), **(training or {})})
    project.training = config.to_dict()
    _check_writable(folder.path)
    save_project(project, folder.project_file)
    send_control(folder.path, "run")
    folder.update_info(status="starting", config=config.to_dict(), error=None,
                       resumes=info.get("resumes", 0) + 1)
    return folder
