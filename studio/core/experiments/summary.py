"""A run's summary: small figures read at a glance, never by parsing the whole event log again.

RUN/summary.json holds what only the events know (epochs done, last and best value of every logged
metric, the last error, a partial epoch) plus ``offset``, the bytes of events.jsonl already read: ``update_summary``
reads only what was appended since. The training process refreshes it at each epoch (see
``hook.StoreHook``); a folder from before the store gets it built once, on first listing.
``run_row`` joins it with run.json (status, config, device, times) and the user's labels.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.experiments.labels import read_labels
from studio.core.experiments.tail import open_appended
from studio.core.training.callbacks import better_is_higher
from studio.core.training.runs import EVENTS_FILE, RUN_JSON, run_status

SUMMARY_FILE = "summary.json"
SUMMARY_VERSION = 2  # 2: a partial epoch is no epoch (older summaries are rebuilt from the events)
DAMAGED = "damaged"  # the status of a run whose files cannot be read (its error says why)
MAX_JSON_BYTES = 4 << 20  # run.json / summary.json are a few KB
# Event types that never change the summary: skipped before JSON parsing (they are ~all the bytes).
_SKIPPED = tuple(f'{{"type": "{kind}"'.encode() for kind in
                 ("batch", "grad_norms", "weights_hist", "probes", "samples"))
def empty_summary() -> dict[str, Any]:
    return {"version": SUMMARY_VERSION, "offset": 0, "epochs": 0, "last": {}, "best": {}, "error": None,
            "partial": None}


def read_summary(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The stored summary.json, or None when missing, unreadable, malformed or from another version
    (it is then rebuilt from the events)."""
    try:
        data = _read_json(Path(run_dir) / SUMMARY_FILE, missing=None)
    except (OSError, ValueError):
        return None
    return data if _is_summary(data) else None


def _is_summary(data: Any) -> bool:
    if not isinstance(data, dict) or data.get("version") != SUMMARY_VERSION:
        return False
    last, best, error = data.get("last"), data.get("best"), data.get("error", ())
    return (_is_count(data.get("offset")) and _is_count(data.get("epochs"))
            and isinstance(last, dict) and all(_is_number(value) for value in last.values())
            and isinstance(best, dict) and all(isinstance(entry, dict) and _is_number(entry.get("value"))
                                               and _is_count(entry.get("epoch")) for entry in best.values())
            and (error is None or isinstance(error, dict) and all(
                value is None or isinstance(value, str) for value in error.values())))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def fold_event(summary: dict[str, Any], event: dict[str, Any]) -> None:
    """Update ``summary`` in place with one event (only epoch and error events count).

    A partial epoch (stopped mid-epoch) is no epoch: it is kept as ``partial`` (its number) and
    changes neither ``epochs`` nor ``last`` nor ``best``, the rule of ``training.curves``.
    """
    kind = event.get("type")
    if kind == "epoch":
        epoch, logs = event.get("epoch") or 0, event.get("logs") or {}
        if not _is_count(epoch) or not isinstance(logs, dict):
            return  # a malformed event is skipped, like a line cut by a crash
        if event.get("partial"):
            summary["partial"] = epoch
            return
        if (summary.get("partial") or 0) <= epoch:
            summary["partial"] = None
        summary["epochs"] = max(summary["epochs"], epoch)
        summary["last"] = {key: value for key, value in logs.items() if _is_number(value)}
        for key, value in summary["last"].items():
            if value != value:  # NaN never counts as best
                continue
            best = summary["best"].get(key)
            higher = better_is_higher(key)
            if best is None or (value > best["value"] if higher else value < best["value"]):
                summary["best"][key] = {"value": value, "epoch": epoch}
    elif kind == "error":
        summary["error"] = {key: value if value is None or isinstance(value, str) else str(value)
                            for key, value in (("kind", event.get("kind")), ("message", event.get("message")))}


def update_summary(run_dir: str | os.PathLike, write: bool = True) -> dict[str, Any]:
    """Bring summary.json up to date with the events appended since it was written; return it.

    A line still being written (no newline yet) is left for the next call. When the folder is
    read-only the summary is still returned, just not stored.
    """
    path = Path(run_dir)
    summary = read_summary(path) or empty_summary()
    start, lines = open_appended(path / EVENTS_FILE, summary["offset"])
    if start < summary["offset"]:  # the log was replaced: start over
        summary = empty_summary()
    offset = start
    for line, offset in lines:
        if line.startswith(_SKIPPED):
            continue
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue  # a line cut by a crash (or damaged): skip it, as read_events does
        if isinstance(event, dict):
            fold_event(summary, event)
    if offset == summary["offset"]:
        return summary
    summary["offset"] = offset
    if write:
        try:
            fileio.atomic_write_json(path / SUMMARY_FILE, summary)
        except OSError:
            pass  # read-only folder: the index keeps the summary instead
    return summary


def config_digest(config: dict[str, Any]) -> str:
    """A short, stable fingerprint of a training config (equal configs, equal digests)."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def device_name(device: dict[str, Any] | None) -> str:
    """``cpu``, or the GPU names (``2x NVIDIA H100``)."""
    if not device:
        return ""
    gpus = [gpu.get("name", "gpu") for gpu in device.get("gpus") or []]
    if not gpus:
        return device.get("kind", "cpu")
    return gpus[0] if len(gpus) == 1 else f"{len(gpus)}x {gpus[0]}"


def build_row(run_dir: str | os.PathLike, info: dict[str, Any], summary: dict[str, Any]) -> dict[str, Any]:
    """One run-table row.

    Args:
        run_dir: the run folder.
        info: its run.json.
        summary: its summary (``update_summary``).

    Returns:
        The JSON-ready row: name, path, status as stored (see ``runs.run_status``), times, config,
        dataset, backend, device, last/best metrics, error, labels, ``info`` and what the run
        ``generates`` (``"images"``, ``"text"`` or None).
    """
    from studio.core.generative.runs import generates

    path = Path(run_dir)
    config = info.get("config") or {}
    started, ended = info.get("started"), info.get("ended")
    labels = read_labels(path)
    dataset = info.get("dataset") or {}
    return {
        "name": path.name,
        "path": str(path),
        "project": info.get("name", ""),
        "status": info.get("status", "running" if summary["offset"] else "unknown"),
        "created": info.get("created"),
        "duration_s": (ended - started) if started and ended else None,
        "epochs": summary["epochs"],
        "partial_epoch": summary.get("partial"),
        "epochs_planned": config.get("epochs"),
        "config": config,
        "config_digest": config_digest(config) if config else "",
        "dataset": {key: dataset.get(key) for key in ("fingerprint", "task", "samples") if key in dataset},
        "backend": info.get("backend", "tensorflow"),
        "device": device_name(info.get("device")),
        "last": summary["last"],
        "best": {key: entry["value"] for key, entry in summary["best"].items()},
        "best_epoch": {key: entry["epoch"] for key, entry in summary["best"].items()},
        "error": (info.get("error") or summary.get("error") or {}).get("message", ""),
        "tags": labels["tags"],
        "note": labels["note"],
        "info": {key: info.get(key) for key in ("host", "pid", "launcher", "started") if key in info},
        "generates": generates(path),
    }


def stored_row(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The up-to-date row of one run folder, status as run.json says (what the index keeps).

    Each run is read on its own: a folder whose files are damaged gives ``damaged_row`` with the
    reason instead of an exception, so one bad run never hides the others.
    """
    path = Path(run_dir)
    try:
        info = _read_json(path / RUN_JSON, missing={})
        problem = info_problem(info)
        row = build_row(path, info, update_summary(path)) if problem is None else None
        problem = problem or row_problem(row)
    except OSError as exc:
        problem = f"cannot read {Path(exc.filename).name}: {exc.strerror}" if exc.filename else str(exc)
    except ValueError as exc:
        problem = str(exc)
    except (TypeError, AttributeError, KeyError) as exc:  # nested values of odd types
        problem = f"unexpected contents ({type(exc).__name__}: {exc})"
    return row if problem is None else damaged_row(path, problem)


def damaged_row(run_dir: str | os.PathLike, reason: str) -> dict[str, Any]:
    """The row of a run folder that cannot be read: status ``damaged``, ``reason`` as its error."""
    path = Path(run_dir)
    row = {key: kind() if kind in (str, dict, list) else None for key, kind in _ROW_TYPES.items()}
    return {**row, **read_labels(path), "name": path.name, "path": str(path), "status": DAMAGED,
            "epochs": 0, "error": reason[:300]}


_NUMBER, _OPTIONAL_NUMBER, _OPTIONAL_STR = "number", "optional number", "optional text"
# run.json fields a row reads, and the types they must have (absent is fine)
_INFO_TYPES = {"name": str, "status": str, "created": _NUMBER, "started": _NUMBER, "ended": _NUMBER,
               "config": dict, "dataset": dict, "backend": str, "device": dict, "error": dict, "host": str,
               "pid": int, "launcher": int}
# every key of a row and its type (a row read back from the index is checked against it)
_ROW_TYPES = {"name": str, "path": str, "project": str, "status": str, "created": _OPTIONAL_NUMBER,
              "duration_s": _OPTIONAL_NUMBER, "epochs": int, "epochs_planned": object, "config": dict,
              "config_digest": str, "dataset": dict, "backend": str, "device": str, "last": dict,
              "best": dict, "best_epoch": dict, "error": _OPTIONAL_STR, "tags": list, "note": str,
              "info": dict, "generates": _OPTIONAL_STR, "partial_epoch": _OPTIONAL_NUMBER}


def _has_type(value: Any, kind: Any) -> bool:
    if kind in (_NUMBER, _OPTIONAL_NUMBER):
        return (value is None and kind == _OPTIONAL_NUMBER) or (_is_number(value) and math.isfinite(value))
    if kind == _OPTIONAL_STR:
        return value is None or isinstance(value, str)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def info_problem(info: Any) -> str | None:
    """Why a run.json cannot give a row (not an object, a field of the wrong type), or None."""
    if not isinstance(info, dict):
        return f"{RUN_JSON} holds {type(info).__name__}, not an object"
    for key, kind in _INFO_TYPES.items():
        if info.get(key) is not None and not _has_type(info[key], kind):
            return f"{RUN_JSON}: {key} is {info[key]!r:.40}, not {getattr(kind, '__name__', kind)}"
    if isinstance(info.get("pid"), int) and info["pid"] <= 0:
        return f"{RUN_JSON}: pid {info['pid']} is not a process id"
    return None


def row_problem(row: Any) -> str | None:
    """Why ``row`` (built, or read back from the index) is not a well-formed row, or None."""
    if not isinstance(row, dict) or set(row) != set(_ROW_TYPES):
        return "malformed row"
    for key, kind in _ROW_TYPES.items():
        if not _has_type(row[key], kind):
            return f"{key} is {row[key]!r:.40}"
    if not all(_is_number(value) for group in ("last", "best") for value in row[group].values()):
        return "a metric is not a number"
    return info_problem(row["info"]) or (None if all(isinstance(tag, str) for tag in row["tags"]) else "bad tags")


def _read_json(path: Path, missing: Any) -> Any:
    """The JSON in ``path`` (``missing`` when there is none); ValueError for a file that is not
    readable JSON, OSError when it cannot be read."""
    if not path.exists():
        return missing
    if not path.is_file():
        raise OSError(f"{path.name} is not a file")
    try:
        return fileio.loads_json_bounded(fileio.read_bytes_capped(path, MAX_JSON_BYTES))
    except ValueError as exc:
        raise ValueError(f"{path.name}: {exc}") from None


def run_row(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The up-to-date row of one run folder, with its live status."""
    return with_live_status(stored_row(run_dir))


def with_live_status(row: dict[str, Any]) -> dict[str, Any]:
    """``row`` with a dead live run shown as crashed, and the duration of a live run so far."""
    if row["status"] in ("running", "paused", "starting"):
        row = {**row, "status": run_status({**row["info"], "status": row["status"]})}
        started = row["info"].get("started")
        if row["status"] in ("running", "paused") and started:
            row["duration_s"] = time.time() - started
    return row
