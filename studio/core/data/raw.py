"""What every source returns before splitting, plus checked readers for spec options."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from studio.core.data.dataset import DataError
from studio.core.fileio import special_kind

MISSING = {"", "na", "n/a", "nan", "null", "none", "?", "-"}  # table cells read as missing values


@dataclass
class RawData:
    """Unsplit samples from one source.

    ``x`` holds images as float32 NHWC in 0..255, or a float32 table. ``test`` is an official test
    split when the source has one (keras.datasets). ``encode``, when set, turns the raw ``x`` of
    each split into features itself, fitted on the training split (CSV one-hot + scaling):
    ``encode(parts, normalize_mode) -> (parts, normalization, value_range, report_lines,
    feature_names)``.
    """

    x: np.ndarray
    y: np.ndarray
    task: str
    class_names: list[str]
    report: list[str] = field(default_factory=list)
    test: tuple[np.ndarray, np.ndarray] | None = None
    feature_names: list[str] = field(default_factory=list)
    encode: Callable | None = None

    @property
    def is_image(self) -> bool:
        return self.x.ndim == 4


def task_for_classes(class_names: list[str]) -> str:
    """``binary`` for two classes, else ``classification``; fewer than two is an error."""
    if len(class_names) < 2:
        found = f" (only {class_names[0]!r})" if class_names else ""
        raise DataError(f"classification needs at least two classes, found {len(class_names)}{found}")
    return "binary" if len(class_names) == 2 else "classification"


def encode_labels(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Map arbitrary label values to indices 0..K-1 (sorted) and their names."""
    uniques, indices = np.unique(values, return_inverse=True)
    names = [str(v.item() if hasattr(v, "item") else v) for v in uniques]
    return indices.astype(np.int32), names


def option(spec: dict, key: str, default: Any, kind: type, low=None, high=None) -> Any:
    """Read ``spec[key]`` (or ``default``), checking its type (int, float, str, bool, list) and
    optional numeric range."""
    value = spec.get(key, default)
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise DataError(f"dataset option {key!r} must be {kind.__name__}, got {value!r}")
    if low is not None and value < low or high is not None and value > high:
        raise DataError(f"dataset option {key!r} must be between {low} and {high}, got {value!r}")
    return value


def existing_path(spec: dict, key: str = "path", folder: bool = False) -> Path:
    """The path in ``spec[key]``, which must exist (as a folder when ``folder``), and be a regular
    file or a folder (never a device or a FIFO)."""
    raw = spec.get(key)
    if not isinstance(raw, str) or not raw:
        raise DataError(f"dataset source {spec.get('source')!r} needs a {key!r} option")
    path = Path(raw).expanduser()
    kind = special_kind(path)
    if kind:
        raise DataError(f"{path} is {kind}, not a data file or folder; check the {key!r} option")
    if not path.exists():
        raise DataError(f"{path} does not exist; check the {key!r} option")
    if folder and not path.is_dir():
        raise DataError(f"{path} is not a folder; point {key!r} at a folder with one sub-folder per class")
    if not folder and path.is_dir():
        raise DataError(f"{path} is a folder; {key!r} must name a file")
    return path
