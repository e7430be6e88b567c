"""What a path (or a name) given for a dataset stands for: one set of rules for the CLI and the GUI.

``spec_for_path`` is used by ``studio train --data``, ``studio data info|preview`` and by drops on
the window. It accepts:

- a folder: images in one sub-folder per class (``{"source": "folder", "path": ...}``); an image
  file inside such a class folder stands for the whole folder;
- a table: ``.csv``, ``.tsv`` or ``.txt`` (``source: csv``); a CSV whose header has ``path`` and
  ``label`` columns lists images instead (``source: image_list``); a CSV with a column of free text
  (named ``text``, or whose first rows hold several words per cell) holds texts to classify
  (``source: text_csv``, that column as ``text``);
- a ``.npz`` file of arrays (``source: npz``) or a ``.npy`` array (``source: npy``, memory-mapped;
  labels from ``y.npy`` beside an ``x.npy``);
- a ``.json`` dataset spec file, or inline JSON (``{"source": "digits", ...}``); a JSON object with
  a ``"dataset"`` key (and optional ``"augmentation"``, ``"training"``) also works;
- a ``.dlstudio`` project: its dataset (and its augmentation and training settings);
- a built-in source name (``digits``, ``shapes``, ``toy``, ...).

Anything else raises ``DataError`` with one line saying what is accepted.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.data.dataset import DataError
from studio.core.data.scan import IMAGE_SUFFIXES
from studio.core.data.source_options import DATA_SOURCES
from studio.core.fileio import read_bytes_capped, special_kind

TABLE_SUFFIXES = (".csv", ".tsv", ".txt")
HEAD_BYTES = 1 << 16  # the part of a CSV read to tell images, texts and tables apart
TEXT_WORDS = 4  # cells averaging this many words are text, not a category
MAX_SPEC_BYTES = 1 << 20  # a dataset spec is a few lines; refuse to read anything huge as one
ACCEPTED = ("a folder with one sub-folder per class, a .csv/.tsv/.txt table (or a CSV of path,label or of "
            "text,label), "
            "a .npz or .npy file, a .json dataset spec, a .dlstudio project or a built-in dataset name")


@dataclass
class DataSource:
    """A dataset spec plus the settings that came with it (from a project or a spec file)."""

    spec: dict[str, Any]
    augmentation: list | None = None  # None: the source carries no augmentation steps
    training: dict[str, Any] = field(default_factory=dict)


def spec_for_path(path: str | os.PathLike) -> dict[str, Any]:
    """The dataset spec a path or name stands for (see the module docstring); raises DataError."""
    return read_source(path).spec


def read_source(path: str | os.PathLike) -> DataSource:
    """Like ``spec_for_path``, also returning a project's or spec file's augmentation and training."""
    text = str(path)
    if text.lstrip().startswith("{"):
        return _from_json(text, "the inline dataset spec")
    target = Path(text)
    if target.is_dir():
        return DataSource({"source": "folder", "path": text})
    if target.is_file():
        suffix = target.suffix.lower()
        header, rows = _csv_head(target) if suffix == ".csv" else ([], [])
        if "path" in header and "label" in header:
            return DataSource({"source": "image_list", "path": text})
        text_column = _text_column(header, rows)
        if text_column is not None:
            return DataSource({"source": "text_csv", "path": text, "text": text_column})
        if suffix in TABLE_SUFFIXES:
            return DataSource({"source": "csv", "path": text})
        if suffix in (".npz", ".npy"):
            return DataSource({"source": suffix[1:], "path": text})
        if suffix == ".json":
            return _from_json(_read_text(target), target.name)
        if suffix == ".dlstudio":
            return _from_project(target)
        if suffix in IMAGE_SUFFIXES and target.parent.parent != target.parent:
            return DataSource({"source": "folder", "path": str(target.parent.parent)})
        raise DataError(f"{target.name} is not a dataset: give {ACCEPTED}")
    if text in DATA_SOURCES:
        return DataSource({"source": text})
    kind = special_kind(target)
    if kind:
        raise DataError(f"{text} is {kind}, not a data file or folder: give {ACCEPTED}")
    raise DataError(f"{text}: no such file or folder, and not a built-in dataset ({', '.join(DATA_SOURCES)})")


def _csv_head(path: Path) -> tuple[list[str], list[list[str]]]:
    """The header and the first complete rows of a CSV (at most HEAD_BYTES read); empty if unreadable."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            head = handle.read(HEAD_BYTES)
        lines = head.splitlines()[:-1] if len(head) == HEAD_BYTES else head.splitlines()
        rows = list(csv.reader(lines))
    except (OSError, UnicodeDecodeError, csv.Error):
        return [], []
    if not rows:
        return [], []
    return [name.strip() for name in rows[0]], rows[1:]


def _text_column(header: list[str], rows: list[list[str]]) -> str | None:
    """The column of free text in a CSV: one named ``text``, else the first whose cells average at
    least TEXT_WORDS words; None for an ordinary table."""
    if "text" in (name.lower() for name in header):
        return next(name for name in header if name.lower() == "text")
    for index, name in enumerate(header):
        cells = [row[index] for row in rows if len(row) > index and row[index].strip()]
        if cells and sum(len(cell.split()) for cell in cells) / len(cells) >= TEXT_WORDS:
            return name
    return None


def _read_text(path: Path) -> str:
    try:
        return read_bytes_capped(path, MAX_SPEC_BYTES).decode("utf-8")
    except ValueError as exc:  # too large, not UTF-8, or not a regular file
        raise DataError(f"{path.name} cannot be a dataset spec: {exc}") from None
    except OSError as exc:
        raise DataError(f"{path.name} cannot be read ({exc.strerror or exc})") from None


def _from_json(text: str, where: str) -> DataSource:
    try:
        spec = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None
    dataset = spec.get("dataset", spec) if isinstance(spec, dict) else None
    if not isinstance(dataset, dict) or not isinstance(dataset.get("source"), str):
        raise DataError(f'{where}: a dataset spec is a JSON object like {{"source": "digits"}}')
    training = spec.get("training")
    return DataSource(dataset, spec.get("augmentation"), training if isinstance(training, dict) else {})


def _from_project(path: Path) -> DataSource:
    from studio.core.project import ProjectError, load_project

    try:
        project = load_project(path)
    except ProjectError as exc:
        raise DataError(str(exc)) from None
    return DataSource(project.dataset, project.augmentation, project.training)
