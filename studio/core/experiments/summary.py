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
import os
import time
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.experiments.labels import read_labels
from studio.core.experiments.tail import read_appended
from studio.core.training.callbacks import better_is_higher
from studio.core.training.runs import EVENTS_FILE, RUN_JSON, run_status

SUMMARY_FILE = "summary.json"
SUMMARY_VERSION = 2  # 2: a partial epoch is no epoch (older summaries are rebuilt from the events)
# Event types that never change the summary: skipped before JSON parsing (they are ~all the bytes).
_SKIPPED = tuple(f'{{"type": "{kind}"'.encode() for kind in
                 ("batch", "grad_norms", "weights_hist", "probes", "samples"))
def empty_summary() -> dict[str, Any]:
    return {"version": SUMMARY_VERSION, "offset": 0, "epochs": 0, "last": {}, "best": {}, "error": None,
            "partial": None}


def read_summary(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    """The stored summary.json, or None when missing, unreadable or from another version."""
    try:
        data = json.loads((Path(run_dir) / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("version") == SUMMARY_VERSION else None


def fold_event(summary: dict[str, Any], event: dict[str, Any]) -> None:
    """Update ``summary`` in place with one event (only epoch and error events count).

    A partial epoch (stopped mid-epoch) is no epoch: it is kept as ``partial`` (its number) and
    changes neither ``epochs`` nor ``last`` nor ``best``, the rule of ``training.curves``.
    """
    kind = event.get("type")
    if kind == "epoch":
        epoch, logs = int(event.get("epoch") or 0), event.get("logs") or {}
        if event.get("partial"):
            summary["partial"] = epoch
            return
        if (summary.get("partial") or 0) <= epoch:
            summary["partial"] = None
        summary["epochs"] = max(summary["epochs"], epoch)
        summary["last"] = {key: value for key, value in logs.items() if isinstance(value, (int, float))}
        for key, value in summary["last"].items():
            if value != value:  # NaN never counts as best
                continue
            best = summary["best"].get(key)
            higher = better_is_higher(key)
            if best is None or (value > best["value"] if higher else value < best["value"]):
                summary["best"][key] = {"value": value, "epoch": epoch}
    elif kind == "error":
        summary["error"] = {"kind": event.get("kind"), "message": event.get("message")}


def update_summary(run_dir: str | os.PathLike, write: bool = True) -> dict[str, Any]:
    """Bring summary.json up to date with the events appended since it was written; return it.

    A line still being written (no newline yet) is left for the next call. When the folder is
    read-only the summary is still returned, just not stored.
    """
    path = Path(run_dir)
    summary = read_summary(path) or empty_summary()
    lines, offset = read_appended(path / EVENTS_FILE, summary["offset"])
    if offset < summary["offset"]:  # the log was replaced: start over
        summary = empty_summary()
    if offset == summary["offset"]:
        return summary
    for line in lines:
        if line.startswith(_SKIPPED):
            continue
        try:
            event = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash: skip it, as read_events does
        if isinstance(event, dict):
            fold_event(summary, event)
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
    """The up-to-date row of one run folder, status as run.json says (what the index keeps)."""
    path = Path(run_dir)
    try:
        info = json.loads((path / RUN_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        info = {}
    return build_row(path, info, update_summary(path))


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
