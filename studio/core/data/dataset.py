"""The loaded dataset: numpy splits plus what the graph and the training engine need to know."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core.tasks import get_task

SPLITS = ("train", "val", "test")


class DataError(ValueError):
    """Bad dataset input; the message names the file/column/class and says what to do."""


@dataclass
class Dataset:
    """Numpy splits, ready for training.

    Images are float32 NHWC, already normalized; tables are float32 (N, features). Labels are
    int32 class indices for ``classification``/``binary`` tasks and float32 for ``regression``.
    ``num_classes`` is 0 for regression. ``value_range`` is the (low, high) range of the
    normalized input values (augmentation uses it for fills and brightness); ``normalization``
    records how inputs were scaled, so exports can reproduce it.
    """

    spec: dict[str, Any]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str
    class_names: list[str]
    value_range: tuple[float, float]
    normalization: dict[str, Any]
    report: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    _fingerprint: str | None = field(default=None, repr=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def is_image(self) -> bool:
        return len(self.input_shape) == 3

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(x, y)`` of ``name`` in train, val, test.

        Raises:
            DataError: ``name`` is not a split.
        """
        if name not in SPLITS:
            raise DataError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
        return getattr(self, f"x_{name}"), getattr(self, f"y_{name}")

    def class_counts(self, split: str = "train") -> dict[str, int]:
        """What the task counts (samples, steps, boxes, pixels) per class name in ``split`` (empty for numbers)."""
        classes = get_task(self.task).target_classes(self.split(split)[1])
        if classes is None:
            return {}
        counts = np.bincount(classes, minlength=self.num_classes)[:self.num_classes]
        return {name: int(count) for name, count in zip(self.class_names, counts)}

    def fingerprint(self) -> str:
        """A stable hash of the spec and every array: same spec + same data = same fingerprint."""
        if self._fingerprint is None:
            digest = hashlib.sha256(json.dumps(self.spec, sort_keys=True).encode())
            for name in SPLITS:
                for array in self.split(name):
                    digest.update(str((array.dtype.str, array.shape)).encode())
                    streamed = getattr(array, "fingerprint_bytes", None)  # store.ImageStore
                    digest.update(streamed() if streamed else np.ascontiguousarray(array).tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def summary(self) -> list[str]:
        """Human-readable lines: task, shapes, split sizes, class counts and where the inputs are held."""
        lines = [
            f"source: {self.spec.get('source')}",
            f"task: {self.task}",
            f"input shape: {self.input_shape}",
            f"normalization: {self.normalization['mode']} (value range {self.value_range[0]:.3g} .. "
            f"{self.value_range[1]:.3g})",
        ]
        if self.feature_names:
            shown = ", ".join(self.feature_names[:12]) + (", ..." if len(self.feature_names) > 12 else "")
            lines.append(f"features ({len(self.feature_names)}): {shown}")
        if not get_task(self.task).has_classes:
            lines.append(f"target: numeric ({self.task})")
        else:
            names = self.class_names if self.num_classes <= 20 else [*self.class_names[:20], "..."]
            lines.append(f"classes ({self.num_classes}): {', '.join(map(repr, names) if self.y_train.ndim > 1 else names)}")
        for name in SPLITS:
            x, _ = self.split(name)
            line = f"{name}: {len(x)} samples"
            if get_task(self.task).class_labels and len(x) and self.num_classes <= 20:
                counts = self.class_counts(name)
                line += " (" + ", ".join(f"{k} {v}" for k, v in counts.items()) + ")"
            lines.append(line)
        lines.append(self._storage())
        lines.append(f"fingerprint: {self.fingerprint()}")
        return lines

    def _storage(self) -> str:
        """Where the inputs are held: in memory (with their size) or streamed from disk."""
        inputs = [self.split(name)[0] for name in SPLITS]
        if all(isinstance(x, np.ndarray) for x in inputs):
            return f"storage: in memory ({sum(x.nbytes for x in inputs) >> 20} MiB)"
        return "storage: streamed from disk"
