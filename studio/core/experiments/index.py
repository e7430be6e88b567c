"""The runs-folder index: one SQLite file per runs folder holding every run's table row.

A row is recomputed only when its folder changed since it was indexed (the stamp: run.json's
mtime, events.jsonl's size, labels.json's mtime), so listing 1,000 runs costs a few stats per
run. The index is a cache: a damaged one (corrupt pages, not a database, a table or view of another
shape) is deleted and rebuilt from the folders, once; rows written with other row fields
(``INDEX_VERSION``, kept in SQLite's ``user_version``) or malformed are recomputed. An index that
another process holds locked, or that cannot be written, is never deleted: after ``LOCK_WAIT_S``
the runs are read without it.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any, Callable

from studio.core.experiments.labels import LABELS_FILE
from studio.core.experiments.summary import row_problem, stored_row, with_live_status
from studio.core.training.runs import EVENTS_FILE, RUN_JSON

logger = logging.getLogger(__name__)

INDEX_FILE = ".runs-index.sqlite"
COLUMNS = ("name", "stamp", "row")
SCHEMA = "CREATE TABLE IF NOT EXISTS runs (name TEXT PRIMARY KEY, stamp TEXT NOT NULL, row TEXT NOT NULL)"
INDEX_VERSION = 2  # 2: rows say what the run generates
LOCK_WAIT_S = 2.0  # how long a listing waits for another process's lock before going without the index

Progress = Callable[[int, int], None]


class DamagedIndex(sqlite3.DatabaseError):
    """The index file holds something other than our runs table."""


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

    def rows(self, progress: Progress | None = None) -> list[dict[str, Any]]:
        """All runs, refreshing the ones whose folders changed; ``progress(done, total)`` is
        called while stale runs are (re)summarised. A run that cannot be read is one row with
        status ``damaged`` (``summary.damaged_row``).

        Args:
            progress: called as ``progress(done, total)`` while stale runs are summarised, or None.

        Returns:
            One row per run folder (run.json + summary + labels, see ``summary.run_row``), newest
            first; empty when ``root`` is not a folder.
        """
        if not self.root.is_dir():
            return []
        stamps = {}
        with os.scandir(self.root) as entries:
            for entry in entries:
                if entry.is_dir():
                    stamp = folder_stamp(entry.path)
                    if stamp is not None:
                        stamps[entry.name] = stamp
        rows = None
        for attempt in (1, 2):
            try:
                rows = self._indexed_rows(stamps, progress)
                break
            except (sqlite3.Error, UnicodeDecodeError) as exc:  # a damaged schema's message may not decode
                if not _damaged(exc) or attempt == 2:
                    logger.info("listing %s without its index: %s", self.root, exc)
                    break
                logger.warning("the run index %s is damaged (%s): rebuilding it", self.path, exc)
                try:
                    self.path.unlink(missing_ok=True)
                except OSError:
                    break
        if rows is None:  # locked by another process, unwritable or beyond repair: go without
            rows = {name: stored_row(self.root / name) for name in stamps}
        return sorted((with_live_status(row) for row in rows.values()), key=_newest, reverse=True)

    def _indexed_rows(self, stamps: dict[str, str], progress: Progress | None) -> dict[str, dict[str, Any]]:
        db = sqlite3.connect(self.path, timeout=LOCK_WAIT_S)
        try:
            db.text_factory = lambda data: data.decode("utf-8", "replace")
            _prepare(db)
            known = {name: (stamp, text) for name, stamp, text in db.execute("SELECT name, stamp, row FROM runs")}
            rows = {name: _cached_row(known[name][1]) for name, stamp in stamps.items()
                    if name in known and known[name][0] == stamp}
            stale = [name for name in stamps if rows.get(name) is None]
            for done, name in enumerate(stale, 1):
                row = rows[name] = stored_row(self.root / name)
                db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?)", (name, stamps[name], json.dumps(row)))
                if progress:
                    progress(done, len(stale))
            gone = [name for name in known if name not in stamps]
            db.executemany("DELETE FROM runs WHERE name = ?", [(name,) for name in gone])
            db.commit()
            return rows
        finally:
            db.close()


def _prepare(db: sqlite3.Connection) -> None:
    """Check (or create) the runs table; empty it once when its rows were written by another version.
    DamagedIndex when the file holds another table or a view named runs."""
    found = db.execute("SELECT type FROM sqlite_master WHERE name = 'runs'").fetchall()
    if found and (found != [("table",)] or tuple(c[1] for c in db.execute("PRAGMA table_info(runs)")) != COLUMNS):
        raise DamagedIndex("the index holds another 'runs' table or view")
    db.execute(SCHEMA)
    if db.execute("PRAGMA user_version").fetchone()[0] != INDEX_VERSION:
        db.execute("DELETE FROM runs")
        db.execute(f"PRAGMA user_version = {INDEX_VERSION}")
        db.commit()


def _damaged(exc: Exception) -> bool:
    """Whether ``exc`` says the index file is damaged (corrupt, not a database, foreign schema),
    as opposed to locked, read-only or on a full disk (then the file is left alone)."""
    return type(exc) in (sqlite3.DatabaseError, DamagedIndex, UnicodeDecodeError)


def _cached_row(text: Any) -> dict[str, Any] | None:
    """A row stored in the index, or None when it is malformed (the run is then read again)."""
    try:
        row = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        return None
    return None if row_problem(row) else row


def _newest(row: dict[str, Any]) -> float:
    return row.get("created") or 0.0
