"""Search spaces for sweeps, declared against the same setting specs as the editors.

A space is a JSON object: each key a training setting (``learning_rate``), a setting of the whole
graph (``activation``, ``initializer``, ``batchnorm``, ``dropout``: see ``graph_settings``) or a layer
parameter by layer name (``dense_1.units``); each value either ``{"choices": [...]}`` or a range
``{"low": a, "high": b}`` with optional ``"log": true`` and ``"step"`` (int and float settings only)::

    {"learning_rate": {"low": 1e-4, "high": 1e-1, "log": true},
     "batch_size": {"choices": [16, 32, 64]}, "optimizer": {"choices": ["adam", "sgd"]},
     "dense_1.units": {"choices": [32, 64]}, "dropout.rate": {"low": 0.0, "high": 0.5}}

The same entries as short text (the Sweep panel's cells, ``studio variants --vary KEY=...``):
``entry_from_text`` reads a range ``1e-4 .. 1e-1 log`` or ``0 .. 0.5 step 0.1``, or choices ``16, 32, 64``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core import fileio
from studio.core.experiments.graph_settings import GRAPH_SETTINGS
from studio.core.graph.catalog import get_spec
from studio.core.params import ParamError, ParamSpec
from studio.core.training.config import TRAINING_FIELDS, TrainingConfig

MAX_DIMENSIONS = 32
MAX_CHOICES = 256
MAX_GRID = 10_000  # grid points of one sweep (each a training run); larger grids are refused, never built
MAX_SPACE_BYTES = 2**20  # a space file is a few hundred bytes
_NUMERIC = ("int", "float", "optional_int", "optional_float")
SEARCHABLE = ("int", "float", "choice", "bool", "optional_int", "optional_float")
_RANGE = re.compile(r"^\s*(\S+)\s*\.\.\s*(\S+)((?:\s+(?:log|step\s+\S+))*)\s*$", re.IGNORECASE)
_TRUE, _FALSE = ("true", "on", "with", "yes", "1"), ("false", "off", "without", "no", "0")


class SpaceError(ValueError):
    """An invalid search space, with the one line to show."""


@dataclass(frozen=True)
class Dimension:
    """One searched setting: ``layer`` None for a training setting."""

    name: str
    spec: ParamSpec
    layer: str | None = None
    choices: tuple = ()
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None

    @property
    def is_int(self) -> bool:
        return self.spec.kind in ("int", "optional_int")

    def grid_count(self) -> int:
        """How many values a grid search visits, computed without listing them."""
        if self.choices:
            return len(self.choices)
        if self.step is None:
            raise SpaceError(f"{self.name}: grid search needs choices or a step for a range")
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def grid(self) -> list[Any]:
        """Every value a grid search visits; SpaceError (naming the count) beyond ``MAX_GRID``."""
        count = self.grid_count()
        if count > MAX_GRID:
            raise SpaceError(f"{self.name}: a grid of {count:,} values; at most {MAX_GRID:,} (use a larger step)")
        if self.choices:
            return list(self.choices)
        values = [self.low + i * self.step for i in range(count)]
        return [int(round(v)) for v in values] if self.is_int else values


def grid_size(dims: list[Dimension]) -> int:
    """The number of points of the grid over ``dims``, computed arithmetically.

    Args:
        dims: the searched dimensions (``parse_space``).

    Returns:
        The product of their value counts; SpaceError naming the size when it is above ``MAX_GRID``
        (or a range has no step).
    """
    size = math.prod(dim.grid_count() for dim in dims)
    if size > MAX_GRID:
        raise SpaceError(f"the grid holds {size:,} points; at most {MAX_GRID:,} "
                         "(use fewer values or larger steps, or the tpe or random sampler)")
    return size


_TRAINING = {spec.name: spec for spec in TRAINING_FIELDS}


def setting_spec(name: str, project) -> tuple[ParamSpec, str | None]:
    """The spec of a space key and its layer name (None for a training or whole-graph setting).

    Args:
        name: ``learning_rate``, ``activation`` or ``LAYER.PARAM``.
        project: the project whose graph holds the layers.

    Returns:
        ``(spec, layer)``; ``SpaceError`` naming the choices when the key is unknown.
    """
    if "." not in name:
        if name in GRAPH_SETTINGS:
            return GRAPH_SETTINGS[name].spec, None
        if name not in _TRAINING:
            raise SpaceError(f"unknown setting {name!r}: use a training setting "
                             f"({', '.join(sorted(_TRAINING))}), one of the whole graph "
                             f"({', '.join(GRAPH_SETTINGS)}) or LAYER.PARAM")
        return _TRAINING[name], None
    layer, param = name.split(".", 1)
    names = [node.name for node in project.graph.nodes.values()]
    if layer not in names:
        raise SpaceError(f"unknown setting {name!r}: the model has no layer {layer!r} "
                         f"(layers: {', '.join(names)})")
    spec = {p.name: p for p in get_spec(project.graph.by_name(layer).type).params}.get(param)
    if spec is None:
        raise SpaceError(f"unknown setting {name!r}: {layer} has no parameter {param!r}")
    return spec, layer


def searchable_settings(project) -> dict[str, tuple[ParamSpec, Any]]:
    """Every setting of ``project`` a space can vary, with its current value: training settings,
    whole-graph settings, then each layer's parameters (``LAYER.PARAM``)."""
    found = {spec.name: (spec, project.training.get(spec.name, spec.default))
             for spec in TRAINING_FIELDS if spec.kind in SEARCHABLE}
    found.update({name: (setting.spec, setting.spec.default) for name, setting in GRAPH_SETTINGS.items()
                  if setting.applies(project.graph)})
    for node in project.graph.nodes.values():
        if node.type == "Input":
            continue
        for spec in get_spec(node.type).params:
            if spec.kind in SEARCHABLE:
                found[f"{node.name}.{spec.name}"] = (spec, node.params.get(spec.name, spec.default))
    return found


def _check_value(dim_name: str, spec: ParamSpec, value: Any, project) -> None:
    if dim_name in _TRAINING:
        problems = TrainingConfig.from_dict({**project.training, spec.name: value}).validate()
        problem = next((p for p in problems if spec.name in p), None)
    else:
        try:
            spec.check(value)
            problem = None
        except ParamError as exc:
            problem = str(exc)
    if problem:
        raise SpaceError(f"{dim_name}: {problem}")


def _number(dim_name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpaceError(f"{dim_name}: {key} must be a finite number, got {value!r}")
    return value


def parse_dimension(name: str, entry: Any, project) -> Dimension:
    """One checked ``Dimension`` from a space entry (see the module doc); SpaceError if invalid."""
    spec, layer = setting_spec(name, project)
    if name in GRAPH_SETTINGS and not GRAPH_SETTINGS[name].applies(project.graph):
        raise SpaceError(f"{name}: {project.name} has no layer where it applies")
    if not isinstance(entry, dict):
        raise SpaceError(f"{name}: write {{\"choices\": [...]}} or {{\"low\": a, \"high\": b}}")
    unknown = set(entry) - {"choices", "low", "high", "log", "step"}
    if unknown:
        raise SpaceError(f"{name}: unknown key(s) {', '.join(sorted(unknown))} (use choices, low, high, log, step)")
    if "choices" in entry:
        choices = entry["choices"]
        if not isinstance(choices, list) or not choices:
            raise SpaceError(f"{name}: choices must be a non-empty list")
        if len(choices) > MAX_CHOICES:
            raise SpaceError(f"{name}: at most {MAX_CHOICES} choices")
        for value in choices:
            _check_value(name, spec, value, project)
        return Dimension(name, spec, layer, choices=tuple(dict.fromkeys(choices)))
    if "low" not in entry or "high" not in entry:
        raise SpaceError(f"{name}: a range needs both low and high (or give choices)")
    if spec.kind not in _NUMERIC:
        raise SpaceError(f"{name} is a {spec.kind} setting: give choices instead of a range")
    low, high = _number(name, "low", entry["low"]), _number(name, "high", entry["high"])
    log, step = entry.get("log", False), entry.get("step")
    if not isinstance(log, bool):
        raise SpaceError(f"{name}: log must be true or false, got {log!r}")
    if low >= high:
        raise SpaceError(f"{name}: empty range (low {low:g} must be below high {high:g})")
    if log and low <= 0:
        raise SpaceError(f"{name}: a log range must start above 0, got low {low:g}")
    if step is not None and (_number(name, "step", step) <= 0 or log):
        raise SpaceError(f"{name}: step must be above 0 and cannot be combined with log")
    if spec.kind in ("int", "optional_int") and not all(float(v).is_integer() for v in (low, high, step or 1)):
        raise SpaceError(f"{name} takes whole numbers: use whole low, high and step")
    for value in (low, high):
        _check_value(name, spec, int(value) if spec.kind.endswith("int") else float(value), project)
    return Dimension(name, spec, layer, low=low, high=high, log=log, step=step)


def parse_space(data: Any, project) -> list[Dimension]:
    """Check a space (a dict, see the module doc) against ``project``; SpaceError if invalid.

    Args:
        data: ``{setting: {"choices": [...]} or {"low", "high", "log", "step"}}``; a setting is a
            training key, a whole-graph setting or ``LAYER.PARAM``.
        project: the project whose settings and layers the names refer to.

    Returns:
        One Dimension per setting, in the dict's order.

    Raises:
        SpaceError: empty, too many settings, or an entry that ``parse_dimension`` refuses.
    """
    if not isinstance(data, dict) or not data:
        raise SpaceError("the search space must be a non-empty JSON object of settings")
    if len(data) > MAX_DIMENSIONS:
        raise SpaceError(f"a search space holds at most {MAX_DIMENSIONS} settings")
    return [parse_dimension(str(name), entry, project) for name, entry in data.items()]


def load_space(path: str | Path, project) -> list[Dimension]:
    """``parse_space`` of a JSON file (read up to ``MAX_SPACE_BYTES``).

    Raises:
        SpaceError: the file cannot be read, is too large or not JSON, or the space is invalid.
    """
    try:
        if not Path(path).is_file():
            raise SpaceError(f"cannot read the search space {path}: not a regular file")
        data = fileio.loads_json_bounded(fileio.read_bytes_capped(path, MAX_SPACE_BYTES))
    except OSError as exc:
        raise SpaceError(f"cannot read the search space {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SpaceError(f"search space {path}: {exc}") from None
    return parse_space(data, project)


def entry_from_text(name: str, text: str, spec: ParamSpec | None = None) -> dict[str, Any]:
    """A space entry from its short text, read for ``spec`` when given (a bool takes on/off too).

    Args:
        name: the setting, named in errors.
        text: ``1e-4 .. 1e-1 log``, ``0 .. 0.5 step 0.1`` or ``16, 32, 64``.
        spec: the setting's spec: choices are read as its kind (text stays text for a choice or str).

    Returns:
        ``{"low": 1e-4, "high": 0.1, "log": True}`` or ``{"choices": [16, 32, 64]}``; SpaceError when
        the text is neither.
    """
    match = _RANGE.match(text)
    if match:
        try:
            entry: dict[str, Any] = {"low": _text_number(match.group(1)), "high": _text_number(match.group(2))}
            if re.search(r"\blog\b", match.group(3), re.IGNORECASE):
                entry["log"] = True
            step = re.search(r"step\s+(\S+)", match.group(3), re.IGNORECASE)
            if step:
                entry["step"] = _text_number(step.group(1))
        except ValueError:
            raise SpaceError(f"{name}: write a range as LOW .. HIGH [log] [step S] with numbers") from None
        return entry
    choices = [_text_choice(part.strip(), spec) for part in text.split(",") if part.strip()]
    if not choices:
        raise SpaceError(f"{name}: give values: a range LOW .. HIGH [log] [step S] or choices A, B, C")
    return {"choices": choices}


def _text_number(text: str) -> float | int:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _text_choice(text: str, spec: ParamSpec | None) -> Any:
    lowered = text.lower()
    kind = spec.kind if spec else None
    if kind in ("choice", "str", "optional_str", "folder", "file"):
        return next((choice for choice in spec.choices if str(choice) == text), text)
    if kind == "bool" and lowered in _TRUE + _FALSE:
        return lowered in _TRUE
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return float(text) if kind in ("float", "optional_float") else _text_number(text)
    except ValueError:
        return text


def suggest(trial, dims: list[Dimension]) -> dict[str, Any]:
    """One value per dimension from an Optuna trial."""
    values = {}
    for dim in dims:
        if dim.choices:
            values[dim.name] = trial.suggest_categorical(dim.name, list(dim.choices))
        elif dim.is_int:
            values[dim.name] = trial.suggest_int(dim.name, int(dim.low), int(dim.high),
                                                 step=int(dim.step or 1), log=dim.log)
        else:
            values[dim.name] = trial.suggest_float(dim.name, dim.low, dim.high, step=dim.step, log=dim.log)
    return values


def apply_params(project, values: dict[str, Any]):
    """A copy of ``project`` with the searched settings set (``LAYER.PARAM``, whole-graph or training key).

    Args:
        project: the project (left unchanged).
        values: setting name -> value, e.g. a trial's ``params`` or one grid point.

    Returns:
        The modified copy.
    """
    copy = project.copy()
    training = dict(copy.training)
    for name, value in values.items():
        if "." in name:
            layer, param = name.split(".", 1)
            copy.graph.set_param(copy.graph.by_name(layer).id, param, value)
        elif name in GRAPH_SETTINGS:
            GRAPH_SETTINGS[name].apply(copy.graph, value)
        else:
            training[name] = value
    copy.training = training
    return copy
