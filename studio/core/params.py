"""The declarative description of one editable setting, shared by the layer catalog, the
augmentation catalog and the training config, so one family of editors serves them all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ParamSpec:
    """One editable setting. ``kind`` drives both validation and the generated editor
    (int, float, bool, choice, multichoice, str, ints, shape, ...)."""

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None  # for "ints": how many values (kernel_size in 2-D: 2)
