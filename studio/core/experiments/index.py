"""The runs-folder index: one SQLite file per runs folder holding every run's table row.

A row is recomputed only when its folder changed since it was indexed (the stamp: run.json's
mtime, events.jsonl's size, labels.json's mtime), so listing 1,000 runs costs a few stats per
run. A missing, corrupt or unwritable index is rebuilt (or kept in memory) from the folders; so is
an index written with other row fields (``INDEX_VERSION``, kept in SQLite's ``user_version``).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable

from studio.core.experiments.labels import LABELS_FILE
from studio.core.experiments.summary import stored_row, with_live_status
from studio.core.training.runs import EVENTS_FILE, RUN_JSON

INDEX_FILE = ".runs-index.sqlite"
SCHEMA = "CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, stamp TEXT NOT NULL, row TEXT NOT NULL)"
INDEX_VERSION = 2  # 2: rows say what the run generates

Progress = Callable[[int, int], None]


def folder_stamp(path: str) -> str | None:
    """What changes whenever a run's row may change; None when ``path`` is not a run folder."""
    parts = []
    for name, field in ((RUN_JSON, "st_mtime_ns"), (EVENTS_FILE, "st_size"), (LABELS_FILE, "st_mtime_ns")):
        try:
            parts.append(str(getattr(os.stat(os.path.join(path, name)), field)))
        except OSError:
            parts.append("-")
    return None if parts[0] == parts[1] == "-" else ":".join(parts)


class RunIndex:
    """``RunIndex(root).rows()``: every run under ``root`` as a table row, newest first."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self.path = self.root / INDEX_FILE

    def _connect(self) -> sqlite3.Connection:
        try:
            return _opened(sqlite3.connect(self.path, timeout=10))
        except sqlite3.DatabaseError:
            try:
                self.path.unlink(missing_ok=True)  # corrupt: rebuilt from the folders
                return _opened(sqlite3.connect(self.path, timeout=10))
            except (OSError, sqlite3.Error):
                pass
        return _opened(sqlite3.connect(":memory:"))  # read-only runs folder: index for this call only

    def rows(self, progress: Progress | None = None) -> list[dict[str, Any]]:
        """All runs, refreshing the ones whose folders changed; ``progress(done, total)`` is
        called while stale runs are (re)summarised."""
        if not self.root.is_dir():
            return []
        stamps = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_dir():
                    stamp = folder_stamp(entry.path)
                    if stamp is not None:
                        stamps[entry.name] = stamp
        db = self._connect()
        try:
            known = {name: (stamp, row) for name, stamp, row in db.execute("SELECT name, stamp, row FROM runs")}
            stale = [name for name, stamp in stamps.items() if known.get(name, (None,))[0] != stamp]
            rows = {name: json.loads(known[name][1]) for name in stamps if name not in stale}
            for done, name in enumerate(stale, 1):
                row = rows[name] = stored_row(self.root / name)
                db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)",
                           (name, stamps[name], json.dumps(row)))
                if progress:
                    progress(done, len(stale))
            gone = [name for name in known if name not in stamps]
            db.executemany("DELETE FROM runs WHERE name = ?", [(name,) for name in gone])
            db.commit()
        except sqlite3.OperationalError:
            rows = {name: stored_row(self.root / name) for name in stamps}  # index locked: go without
        finally:
            db.close()
        return sorted((with_live_status(row) for row in rows.values()), key=_newest, reverse=True)


def _opened(db: sqlite3.Connection) -> sqlite3.Connection:
    """``db`` with the runs table, emptied once when its rows were written by another version."""
    db.execute(SCHEMA)
    if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
        db.execute("DELETE FROM runs")
        db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        db.commit()
    return db


def _newest(row: dict[str, Any]) -> float:
    return row.get("created") or 0.0
