"""What the integrations read from a run folder: per-epoch scalars and the latest samples."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def epoch_scalars(events: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """Each logged metric (and ``lr``) per completed epoch: name -> (epochs, values).

    A resumed run repeats epochs: the last event of an epoch wins. Partial epochs (a stop mid-epoch)
    and non-numeric logs are left out.

    Args:
        events: the run's events (``training.runs.read_events``).

    Returns:
        Series sorted by epoch, in the order the names first appear.
    """
    by_epoch: dict[int, dict[str, float]] = {}
    for event in events:
        if event.get("type") != "epoch" or event.get("partial") or not isinstance(event.get("epoch"), int):
            continue
        values = dict(event.get("logs") or {})
        if event.get("lr") is not None:
            values["lr"] = event["lr"]
        by_epoch[event["epoch"]] = {key: float(value) for key, value in values.items()
                                    if isinstance(value, (int, float)) and not isinstance(value, bool)}
    series: dict[str, tuple[list[int], list[float]]] = {}
    for epoch in sorted(by_epoch):
        for key, value in by_epoch[epoch].items():
            epochs, values = series.setdefault(key, ([], []))
            epochs.append(epoch)
            values.append(value)
    return series


def final_values(series: dict[str, tuple[list[int], list[float]]]) -> dict[str, float]:
    """The last finite value of each series."""
    last = {}
    for key, (_epochs, values) in series.items():
        finite = [value for value in values if math.isfinite(value)]
        if finite:
            last[key] = finite[-1]
    return last


def latest_samples(run_dir: str | Path, events: list[dict[str, Any]]) -> dict[str, tuple[int, Path]]:
    """The newest samples file of each kind (generated, reconstruction, text): kind -> (epoch, path).

    Only files inside the run folder that still exist are returned.
    """
    root = Path(run_dir).resolve()
    found: dict[str, tuple[int, Path]] = {}
    for event in events:
        if event.get("type") != "samples" or not isinstance(event.get("path"), str):
            continue
        path = (root / event["path"]).resolve()
        if path.is_relative_to(root) and path.is_file():
            found[str(event.get("kind") or "generated")] = (int(event.get("epoch") or 0), path)
    return found
