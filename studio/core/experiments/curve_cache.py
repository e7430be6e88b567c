"""A run's plotted series cached in RUN/curves.npz, so a long run opens at once.

The cache holds the ``RunCurves`` of the events up to a byte offset; ``load_curves`` restores it
and feeds only the events appended since. The training process refreshes it at each epoch
(``hook.StoreHook``); any reader refreshes it too when it is behind by more than a few events.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
import numpy as np

from studio.core import fileio
from studio.core.experiments.tail import open_appended
from studio.core.training.curves import RunCurves
from studio.core.training.runs import EVENTS_FILE

CURVES_FILE = "curves.npz"
CACHE_VERSION = 3  # 2: the logs/<name> series; 3: no point for a partial epoch (older caches are rebuilt once)
REWRITE_AFTER_BYTES = 256 * 1024  # a reader stores the cache again when it parsed more than this
EVENTS_PER_BATCH = 10_000


def save_curves(run_dir: str | os.PathLike, curves: RunCurves, offset: int) -> None:
    """Store ``curves`` (built from the first ``offset`` bytes of events.jsonl) atomically."""
    state, arrays = curves.state()
    state = {**state, "version": CACHE_VERSION, "offset": offset, "series": list(arrays)}
    buffer = io.BytesIO()
    np.savez(buffer, state=np.array(json.dumps(state)),
             **{f"s{i}": xy for i, xy in enumerate(arrays.values())})
    fileio.atomic_write_bytes(Path(run_dir) / CURVES_FILE, buffer.getvalue())


def _restore(run_dir: Path) -> tuple[RunCurves, int]:
    try:
        with np.load(run_dir / CURVES_FILE, allow_pickle=False) as data:
            state = json.loads(str(data["state"]))
            if state.get("version") != CACHE_VERSION:
                return RunCurves(), 0
            arrays = {key: data[f"s{i}"] for i, key in enumerate(state["series"])}
        return RunCurves.from_state(state, arrays), int(state["offset"])
    except (OSError, ValueError, KeyError, TypeError):
        return RunCurves(), 0


def load_curves(run_dir: str | os.PathLike, store_after: int | None = REWRITE_AFTER_BYTES) -> RunCurves:
    """The run's curves up to its last complete event: cache + the events appended since.

    The cache is stored again when more than ``store_after`` new bytes were read (None: never).

    Args:
        run_dir: the run folder; a missing, old or damaged curves.npz is rebuilt from events.jsonl.
        store_after: the number of new event bytes above which curves.npz is rewritten.

    Returns:
        The run's RunCurves.
    """
    path = Path(run_dir)
    curves, offset = _restore(path)
    start, lines = open_appended(path / EVENTS_FILE, offset)
    if start < offset:  # the log was replaced: rebuild
        curves = RunCurves()
    new_offset, events = start, []
    for line, new_offset in lines:
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict):
            events.append(event)
        if len(events) >= EVENTS_PER_BATCH:  # a long log is folded in as it is read
            curves.add(events)
            events = []
    curves.add(events)
    if store_after is not None and new_offset - start > store_after:
        try:
            save_curves(path, curves, new_offset)
        except OSError:
            pass  # read-only folder: the curves are still returned
    return curves
