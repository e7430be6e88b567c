"""What a path (or a name) given for a dataset stands for: one set of rules for the CLI and the GUI.

``spec_for_path`` is used by ``studio train --data``, ``studio data info|preview`` and by drops on
the window. It accepts:

- a folder: images in one sub-folder per class (``{"source": "folder", "path": ...}``); an image
  file inside such a class folder stands for the whole folder;
- a table: ``.csv``, ``.tsv`` or ``.txt`` (``source: csv``); a CSV whose header has ``path`` and
  ``label`` columns lists images instead (``source: image_list``);
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
MAX_SPEC_BYTES = 1 << 20  # a dataset spec is a few lines; refuse to read anything huge as one
ACCEPTED = ("a folder with one sub-folder per class, a .csv/.tsv/.txt table (or a CSV of path,label), "
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
        if suffix == ".csv" and _lists_images(target):
            return DataSource({"source": "image_list", "path": text})
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


def _lists_images(path: Path) -> bool:
    """True for a CSV whose header has ``path`` and ``label`` columns (a list of images)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            header = [name.strip() for name in next(csv.reader([handle.readline(4096)]), [])]
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return "path" in header and "label" in header


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
