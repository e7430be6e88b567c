"""Run folders: layout, run.json, the events log, the control file, deletion (listing: RunIndex).

Layout (see ARCHITECTURE.md "Training")::

    RUN/run.json  project.dlstudio  events.jsonl  history.json  model.keras  control  log.txt
        checkpoints/best.keras  checkpoints/last.keras  backup/
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.training.errors import TrainingError

RUN_JSON = "run.json"
PROJECT_FILE = "project.dlstudio"
EVENTS_FILE = "events.jsonl"
HISTORY_FILE = "history.json"
MODEL_FILE = "model.keras"
CONTROL_FILE = "control"
LOG_FILE = "log.txt"
CHECKPOINTS_DIR = "checkpoints"
BACKUP_DIR = "backup"
BACKUP_METADATA = "training_metadata.json"  # the name Keras' BackupAndRestore uses

RUNS_DIR = "runs"  # a project's runs live in this folder beside its project file
LIVE_STATUSES = ("starting", "running", "paused", "stopping")
FINAL_STATUSES = ("completed", "stopped", "failed", "killed", "crashed")
CONTROL_COMMANDS = ("run", "pause", "stop")


class RunFolder:
    """Paths inside one run folder plus the small writes every part of the engine needs."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    run_json = property(lambda self: self.path / RUN_JSON)
    project_file = property(lambda self: self.path / PROJECT_FILE)
    events_file = property(lambda self: self.path / EVENTS_FILE)
    history_file = property(lambda self: self.path / HISTORY_FILE)
    model_file = property(lambda self: self.path / MODEL_FILE)
    control_file = property(lambda self: self.path / CONTROL_FILE)
    log_file = property(lambda self: self.path / LOG_FILE)
    checkpoints = property(lambda self: self.path / CHECKPOINTS_DIR)
    best_checkpoint = property(lambda self: self.path / CHECKPOINTS_DIR / "best.keras")
    last_checkpoint = property(lambda self: self.path / CHECKPOINTS_DIR / "last.keras")
    backup_dir = property(lambda self: self.path / BACKUP_DIR)

    def info(self) -> dict[str, Any]:
        """The raw run.json content ({} when missing or unreadable)."""
        try:
            return json.loads(self.run_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def update_info(self, **changes: Any) -> dict[str, Any]:
        """Merge ``changes`` into run.json (atomic write) and return the new content."""
        info = self.info()
        info.update(changes)
        fileio.atomic_write_json(self.run_json, info)
        return info

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Append one event line (with ``type`` and ``time``) to events.jsonl and return it."""
        event = {"type": event_type, "time": time.time(), **fields}
        fileio.append_text(self.events_file, json.dumps(event, default=_jsonable) + "\n")
        return event


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars and arrays into plain JSON values."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in an event")


def send_control(run_dir: str | os.PathLike, command: str) -> None:
    """Ask a running training process to ``run``, ``pause`` or ``stop`` (read at each batch end).

    Args:
        run_dir: the run folder; the command is written atomically to its control file.
        command: one of ``CONTROL_COMMANDS``.

    Raises:
        ValueError: an unknown command.
    """
    if command not in CONTROL_COMMANDS:
        raise ValueError(f"unknown control command {command!r}: use {', '.join(CONTROL_COMMANDS)}")
    fileio.atomic_write_text(RunFolder(run_dir).control_file, command)


def read_control(run_dir: str | os.PathLike) -> str:
    """The last control command sent to a run (``run`` when none)."""
    try:
        text = RunFolder(run_dir).control_file.read_text(encoding="utf-8").strip()
    except OSError:
        return "run"
    return text if text in CONTROL_COMMANDS else "run"


def _parse_lines(data: bytes) -> list[dict[str, Any]]:
    events = []
    for line in data.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash, or garbage: skip it, keep the rest readable
        if isinstance(event, dict) and "type" in event:
            events.append(event)
    return events


def read_events(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every complete event of a run, in order; a truncated or corrupt line is skipped."""
    try:
        data = RunFolder(run_dir).events_file.read_bytes()
    except FileNotFoundError:
        return []
    return _parse_lines(data)


class EventTail:
    """Follows a run's events.jsonl as it grows: each ``read()`` returns only the new events.

    A line still being written (no newline yet) is kept back until it is complete.
    """

    def __init__(self, run_dir: str | os.PathLike) -> None:
        self.path = RunFolder(run_dir).events_file
        self._offset = 0

    def read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1
        self._offset += end
        return _parse_lines(data[:end])


def pid_alive(pid: int | None) -> bool:
    """Whether a process with this id runs on this machine."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_status(info: dict[str, Any], default: str = "unknown") -> str:
    """The status in run.json (``default`` when none), with a dead process reported as ``crashed``.

    A run marked ``running``/``paused``/``stopping`` whose training process is gone (on this host),
    or ``starting`` whose launching program died before the training process ran, has crashed.
    A run on another host is taken at its word.
    """
    status = info.get("status", default)
    if info.get("host", socket.gethostname()) != socket.gethostname():
        return status
    if status in ("running", "paused", "stopping") and not pid_alive(info.get("pid")):
        return "crashed"
    if status == "starting" and not info.get("pid") and "launcher" in info and not pid_alive(info["launcher"]):
        return "crashed"
    return status


def read_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """A run's run.json plus a summary drawn from its events; works on folders left by a crash.

    The status is ``run_status``'s: a run whose process died is reported as ``crashed``.
    Added keys: ``path``, ``name``, ``epochs_done``, ``last_epoch`` (its event or None),
    ``error`` (from run.json or the last error event).

    Args:
        run_dir: the run folder.

    Returns:
        run.json's keys plus the keys above.

    Raises:
        TrainingError: the folder does not exist, or holds neither run.json nor events.jsonl.
    """
    folder = RunFolder(run_dir)
    if not folder.path.is_dir():
        raise TrainingError(f"no run folder at {folder.path}")
    info = folder.info()
    events = read_events(folder.path)
    if not info and not events:
        raise TrainingError(f"{folder.path} is not a run folder (no run.json, no events.jsonl)")
    status = run_status(info, "running" if events else "unknown")
    epochs = [event for event in events if event["type"] == "epoch"]
    errors = [event for event in events if event["type"] == "error"]
    return {
        **info,
        "path": str(folder.path),
        "name": folder.path.name,
        "status": status,
        "epochs_done": len({event.get("epoch") for event in epochs if not event.get("partial")}),
        "last_epoch": epochs[-1] if epochs else None,
        "error": info.get("error") or (errors[-1] if errors else None),
    }


def delete_run(run_dir: str | os.PathLike) -> None:
    """Delete a finished run folder; refuse a live run or a folder that is not a run.

    Args:
        run_dir: the run folder, removed with everything in it.

    Raises:
        TrainingError: the run is running or paused, or the folder is not a run (see ``read_run``).
    """
    folder = RunFolder(run_dir)
    run = read_run(folder.path)
    if run["status"] in ("running", "paused"):
        raise TrainingError(f"run {run['name']} is still training: stop it before deleting it")
    shutil.rmtree(folder.path)


def move_runs(runs_root: str | os.PathLike, target_root: str | os.PathLike,
              since: float = 0.0) -> tuple[list[Path], list[Path]]:
    """Move the run folders of ``runs_root`` created at or after ``since`` into ``target_root``.

    A run still training stays where its process writes; a name already taken in ``target_root``
    gets a ``-2``, ``-3``... suffix.

    Args:
        runs_root: the folder holding the runs (e.g. the app's folder for unsaved projects).
        target_root: where they go (e.g. ``runs/`` beside the project file just saved).
        since: a time (``time.time()``); runs whose run.json says they were created earlier stay.

    Returns:
        (the moved runs' new folders, the live runs left in place).
    """
    moved: list[Path] = []
    live: list[Path] = []
    source = Path(runs_root)
    if not source.is_dir() or source.resolve() == Path(target_root).resolve():
        return moved, live
    for folder in sorted(source.iterdir()):
        info = RunFolder(folder).info() if (folder / RUN_JSON).is_file() else {}
        created = info.get("created") if isinstance(info, dict) else None
        if not isinstance(created, (int, float)) or created < since:
            continue
        if run_status(info) in LIVE_STATUSES:
            live.append(folder)
            continue
        target = Path(target_root) / folder.name
        suffix = 2
        while target.exists():
            target = Path(target_root) / f"{folder.name}-{suffix}"
            suffix += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
        moved.append(target)
    return moved, live


def default_runs_root(project_path: str | os.PathLike | None, unsaved: str | os.PathLike = RUNS_DIR) -> Path:
    """Where a project's runs go: ``runs/`` beside its project file, or ``unsaved`` for a project
    never saved (the CLI's ``./runs``; the desktop app passes its per-user data folder).

    Args:
        project_path: the project file, or None for an unsaved project.
        unsaved: the folder for an unsaved project's runs.

    Returns:
        The runs folder; it is not created.
    """
    return Path(project_path).parent / RUNS_DIR if project_path else Path(unsaved)


def run_name(project, project_path: str | os.PathLike | None = None) -> str:
    """A run's name after the project file, its model and its data, e.g. ``myproj-resnet18-shapes``;
    ``vae_28-digits`` for a project never saved (its name is the first template's, which a later
    template would contradict)."""
    spec = project.dataset or {}
    data = spec.get("name") or (Path(spec["path"]).stem if spec.get("path") else spec.get("source", "data"))
    model = (project.view or {}).get("template") or (project.generative or {}).get("kind") or "model"
    owner = [Path(project_path).stem] if project_path else []
    return "-".join(str(part) for part in (*owner, model, data))


def new_run_dir(runs_root: str | os.PathLike, name: str) -> Path:
    """A fresh ``<runs_root>/<YYYYmmdd-HHMMSS>-<name>`` path (not created) that does not exist yet.

    Args:
        runs_root: the folder holding the runs.
        name: the run's name; characters other than letters, digits, ``_``, ``.`` and ``-`` become
            ``-`` (an empty result becomes ``run``).

    Returns:
        The path, with ``-2``, ``-3``... appended when a folder of that name exists.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.") or "run"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = Path(runs_root) / f"{stamp}-{safe}"
    suffix = 2
    while candidate.exists():
        candidate = Path(runs_root) / f"{stamp}-{safe}-{suffix}"
        suffix += 1
    return candidate
