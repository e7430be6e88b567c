"""User labels of a run: tags and a free-text note, in RUN/labels.json.

Kept apart from run.json, which the training process rewrites while it runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from studio.core import fileio

LABELS_FILE = "labels.json"
MAX_TAG_LENGTH = 64
MAX_NOTE_LENGTH = 10_000
MAX_LABELS_BYTES = 1 << 20  # a note of MAX_NOTE_LENGTH characters and the tags fit with room to spare


def read_labels(run_dir: str | os.PathLike) -> dict[str, Any]:
    """``{"tags": [...], "note": str}`` (empty when the run has none)."""
    path = Path(run_dir) / LABELS_FILE
    try:
        data = fileio.loads_json_bounded(fileio.read_bytes_capped(path, MAX_LABELS_BYTES)) if path.is_file() else {}
    except (OSError, ValueError):
        data = {}
    tags = data.get("tags") if isinstance(data, dict) else None
    note = data.get("note") if isinstance(data, dict) else None
    return {"tags": [str(tag) for tag in tags] if isinstance(tags, list) else [],
            "note": note if isinstance(note, str) else ""}


def _check_run(run_dir: str | os.PathLike) -> Path:
    path = Path(run_dir)
    if not (path / "run.json").exists() and not (path / "events.jsonl").exists():
        raise ValueError(f"{path} is not a run folder (no run.json, no events.jsonl)")
    return path


def add_tag(run_dir: str | os.PathLike, tag: str, remove: bool = False) -> list[str]:
    """Add (or remove) one tag; return the run's tags.

    Args:
        run_dir: the run folder; labels.json is rewritten atomically.
        tag: the tag, surrounding spaces stripped; adding moves it to the end of the list.
        remove: remove the tag instead of adding it.

    Returns:
        The run's tags after the change.

    Raises:
        ValueError: the tag is empty, too long or holds a comma or line break, or the folder is not
            a run.
    """
    tag = tag.strip()
    if not tag or len(tag) > MAX_TAG_LENGTH or any(ch in tag for ch in ",\n"):
        raise ValueError(f"a tag is 1 to {MAX_TAG_LENGTH} characters without commas or line breaks")
    path = _check_run(run_dir)
    labels = read_labels(path)
    tags = [t for t in labels["tags"] if t != tag] + ([] if remove else [tag])
    fileio.atomic_write_json(path / LABELS_FILE, {**labels, "tags": tags})
    return tags


def set_note(run_dir: str | os.PathLike, note: str) -> None:
    """Replace the run's note (empty text clears it).

    Args:
        run_dir: the run folder; labels.json is rewritten atomically, keeping the tags.
        note: the new note.

    Raises:
        ValueError: the note is longer than ``MAX_NOTE_LENGTH``, or the folder is not a run.
    """
    if len(note) > MAX_NOTE_LENGTH:
        raise ValueError(f"a note holds at most {MAX_NOTE_LENGTH} characters")
    path = _check_run(run_dir)
    fileio.atomic_write_json(path / LABELS_FILE, {**read_labels(path), "note": note})
