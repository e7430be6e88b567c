"""The declarative description of one editable setting.

Layer params (graph/catalog.py), augmentation steps (augment/catalog.py), training fields
(training/config.py) and dataset-source options (data/source_options.py) are all lists of
``ParamSpec``: defaults, validation (``check``), CLI help and the GUI editor derive from them.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable


class ParamError(ValueError):
    """A value that does not fit its ``ParamSpec``; the message names the setting and what to do."""


@dataclass(frozen=True)
class ParamSpec:
    """One editable setting. ``kind`` drives both ``check`` and the generated editor:

    int, float, bool, choice, multichoice (a list of choices), str (``choices`` are suggestions),
    folder / file (a path; a file's ``choices`` are the suffixes offered), ints / optional_ints
    (one value per dimension, ``length`` of them), shape, axis, pad2d, initializer, regularizer,
    layer (Bidirectional's inner RNN), optional_int, optional_float.
    """

    name: str
    kind: str
    default: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    length: int | None = None  # for "ints": how many values (kernel_size in 2-D: 2)
    exclusive_minimum: bool = False  # the minimum itself is refused ("must be above 0")
    label: str = ""  # form label; default: the name in words
    step: float | None = None  # spin-box step, where the default one is too fine

    @property
    def title(self) -> str:
        return self.label or self.name.replace("_", " ").capitalize()

    def default_value(self) -> Any:
        """A fresh copy of the default (lists are never shared between owners)."""
        return copy.deepcopy(self.default)

    def check(self, value: Any) -> Any:
        """The value, cleaned (an int given for a float becomes a float, a tuple a list), or
        ``ParamError`` with one sentence naming the setting.

        Args:
            value: the value to check; None is accepted only by the optional kinds and regularizer.

        Returns:
            The cleaned value (None for an accepted None).

        Raises:
            ParamError: the value is missing, of the wrong type, out of range or not a choice.
        """
        if value is None:
            if self.kind.startswith("optional") or self.kind == "regularizer":
                return None
            raise ParamError(f"{self.name} needs a value")
        return _CHECKS[self.kind](self, value)

    def describe(self) -> str:
        """``help (default 32, 1..65536)`` for command-line help."""
        facts = [f"default {_show(self.default)}"] if self.default not in (None, "", [], ()) else []
        if self.minimum is not None or self.maximum is not None:
            low = "" if self.minimum is None else _show(self.minimum)
            high = "" if self.maximum is None else _show(self.maximum)
            facts.append(f"{'>' if self.exclusive_minimum else ''}{low}..{high}")
        if self.choices and self.kind in ("choice", "multichoice"):
            facts.append("one of " + ", ".join(map(str, self.choices)))
        text = self.help.rstrip(".")
        return f"{text} ({'; '.join(facts)})" if facts else text


def _show(value: Any) -> str:
    """A value as typed on a command line: 100000, 0.05, true, circle,square."""
    if isinstance(value, (list, tuple)):
        return ",".join(map(_show, value))
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"
    return str(value)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _in_range(spec: ParamSpec, value: Any) -> Any:
    name, low, high = spec.name, spec.minimum, spec.maximum
    if low is not None and spec.exclusive_minimum and value <= low:
        raise ParamError(f"{name} must be above {low:g}, got {value!r}")
    if low is not None and value < low:
        raise ParamError(f"{name} must be at least {low:g}, got {value!r}")
    if high is not None and value > high:
        raise ParamError(f"{name} must be at most {high:g}, got {value!r}")
    return value


def _int(spec: ParamSpec, value: Any) -> int:
    if not _is_int(value):
        raise ParamError(f"{spec.name} must be a whole number, got {value!r}")
    return _in_range(spec, value)


def _float(spec: ParamSpec, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParamError(f"{spec.name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ParamError(f"{spec.name} must be a finite number, got {value!r}")
    return _in_range(spec, float(value))


def _bool(spec: ParamSpec, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ParamError(f"{spec.name} must be true or false, got {value!r}")
    return value


def _choice(spec: ParamSpec, value: Any) -> Any:
    if isinstance(value, (dict, list)) or value not in spec.choices:
        raise ParamError(f"unknown {spec.name} {value!r}: choose one of {', '.join(map(str, spec.choices))}")
    return value


def _multichoice(spec: ParamSpec, value: Any) -> list:
    if not isinstance(value, (list, tuple)):
        raise ParamError(f"{spec.name} must be a list, got {value!r}")
    bad = [item for item in value if isinstance(item, (dict, list)) or item not in spec.choices]
    if bad:
        raise ParamError(f"unknown {spec.name} {', '.join(map(repr, bad))}: choose from "
                         f"{', '.join(map(str, spec.choices))}")
    if len(set(value)) != len(value):
        raise ParamError(f"{spec.name} lists an entry twice: {list(value)}")
    return list(value)


def _text(spec: ParamSpec, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ParamError(f"{spec.name} must be a non-empty text, got {value!r}")
    return value


def _ints(spec: ParamSpec, value: Any) -> Any:
    values = [value] if _is_int(value) else value
    if not isinstance(values, (list, tuple)) or not all(_is_int(v) for v in values):
        raise ParamError(f"{spec.name} must be whole numbers, got {value!r}")
    if spec.length and len(values) not in (1, spec.length):
        raise ParamError(f"{spec.name} needs {spec.length} values, got {len(values)}")
    if spec.minimum is not None and any(v < spec.minimum for v in values):
        raise ParamError(f"{spec.name} values must be at least {spec.minimum:g}, got {value!r}")
    return value


def _shape(spec: ParamSpec, value: Any) -> Any:
    if not isinstance(value, (list, tuple)) or not value or not all(
            v is None or (_is_int(v) and (v > 0 or v == -1)) for v in value):
        raise ParamError(f"{spec.name} must be a list of positive sizes, got {value!r}")
    return value


def _pad2d(spec: ParamSpec, value: Any) -> Any:
    if pad_pairs(value) is None:
        raise ParamError(f"{spec.name} must be n, [rows, cols] or [[top, bottom], [left, right]]; got {value!r}")
    return value


def _axis(spec: ParamSpec, value: Any) -> Any:
    values = value if isinstance(value, (list, tuple)) else [value]
    if not all(_is_int(v) for v in values):
        raise ParamError(f"{spec.name} must be an axis number, got {value!r}")
    return value


def _initializer(spec: ParamSpec, value: Any) -> Any:
    if not isinstance(value, (str, dict)):
        raise ParamError(f"{spec.name} must be an initializer name, got {value!r}")
    return value


def _config(spec: ParamSpec, value: Any) -> Any:
    if not isinstance(value, (str, dict)):
        raise ParamError(f"{spec.name} has an unexpected value {value!r}")
    return value


def pad_pairs(value: Any) -> list[list[int]] | None:
    """A 2-D padding/cropping value as [[top, bottom], [left, right]], or None if malformed."""
    def is_size(v):
        return _is_int(v) and v >= 0

    if is_size(value):
        return [[value, value], [value, value]]
    if isinstance(value, (list, tuple)) and len(value) == 2:
        if all(is_size(v) for v in value):
            return [[value[0], value[0]], [value[1], value[1]]]
        if all(isinstance(v, (list, tuple)) and len(v) == 2 and all(is_size(x) for x in v) for v in value):
            return [list(v) for v in value]
    return None


_CHECKS: dict[str, Callable[[ParamSpec, Any], Any]] = {
    "int": _int, "optional_int": _int, "float": _float, "optional_float": _float, "bool": _bool,
    "choice": _choice, "multichoice": _multichoice, "str": _text, "optional_str": _text, "folder": _text, "file": _text,
    "ints": _ints, "optional_ints": _ints, "shape": _shape, "pad2d": _pad2d, "axis": _axis,
    "initializer": _initializer, "regularizer": _config, "layer": _config,
}
