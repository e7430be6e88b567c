"""Search spaces for sweeps, declared against the same setting specs as the editors.

A space is a JSON object: each key a training setting (``learning_rate``) or a layer parameter by
layer name (``dense_1.units``); each value either ``{"choices": [...]}`` or a range
``{"low": a, "high": b}`` with optional ``"log": true`` and ``"step"`` (int and float settings only)::

    {"learning_rate": {"low": 1e-4, "high": 1e-1, "log": true},
     "batch_size": {"choices": [16, 32, 64]}, "optimizer": {"choices": ["adam", "sgd"]},
     "dense_1.units": {"choices": [32, 64]}, "dropout.rate": {"low": 0.0, "high": 0.5}}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.graph.catalog import get_spec
from studio.core.params import ParamError, ParamSpec
from studio.core.training.config import TRAINING_FIELDS, TrainingConfig

MAX_DIMENSIONS = 32
MAX_CHOICES = 256
_NUMERIC = ("int", "float", "optional_int", "optional_float")


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

    def grid(self) -> list[Any]:
        """Every value a grid search visits."""
        if self.choices:
            return list(self.choices)
        if self.step is None:
            raise SpaceError(f"{self.name}: grid search needs choices or a step for a range")
        count = int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1
        values = [self.low + i * self.step for i in range(count)]
        return [int(round(v)) for v in values] if self.is_int else values


_TRAINING = {spec.name: spec for spec in TRAINING_FIELDS}


def _spec_for(name: str, project) -> tuple[ParamSpec, str | None]:
    if "." not in name:
        if name not in _TRAINING:
            raise SpaceError(f"unknown setting {name!r}: use a training setting "
                             f"({', '.join(sorted(_TRAINING))}) or LAYER.PARAM")
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


def _check_value(dim_name: str, spec: ParamSpec, layer: str | None, value: Any, project) -> None:
    if layer is not None:
        try:
            spec.check(value)
            problem = None
        except ParamError as exc:
            problem = str(exc)
    else:
        problems = TrainingConfig.from_dict({**project.training, spec.name: value}).validate()
        problem = next((p for p in problems if spec.name in p), None)
    if problem:
        raise SpaceError(f"{dim_name}: {problem}")


def _number(dim_name: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpaceError(f"{dim_name}: {key} must be a finite number, got {value!r}")
    return value


def parse_dimension(name: str, entry: Any, project) -> Dimension:
    spec, layer = _spec_for(name, project)
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
            _check_value(name, spec, layer, value, project)
        return Dimension(name, spec, layer, choices=tuple(dict.fromkeys(choices)))
    if "low" not in entry or "high" not in entry:
        raise SpaceError(f"{name}: a range needs both low and high (or give choices)")
    if spec.kind not in _NUMERIC:
        raise SpaceError(f"{name} is a {spec.kind} setting: give choices instead of a range")
    low, high = _number(name, "low", entry["low"]), _number(name, "high", entry["high"])
    log, step = bool(entry.get("log", False)), entry.get("step")
    if low >= high:
        raise SpaceError(f"{name}: empty range (low {low:g} must be below high {high:g})")
    if log and low <= 0:
        raise SpaceError(f"{name}: a log range must start above 0, got low {low:g}")
    if step is not None and (_number(name, "step", step) <= 0 or log):
        raise SpaceError(f"{name}: step must be above 0 and cannot be combined with log")
    if spec.kind in ("int", "optional_int") and not all(float(v).is_integer() for v in (low, high, step or 1)):
        raise SpaceError(f"{name} takes whole numbers: use whole low, high and step")
    for value in (low, high):
        _check_value(name, spec, layer, int(value) if spec.kind.endswith("int") else float(value), project)
    return Dimension(name, spec, layer, low=low, high=high, log=log, step=step)


def parse_space(data: Any, project) -> list[Dimension]:
    """Check a space (a dict, see the module doc) against ``project``; SpaceError if invalid."""
    if not isinstance(data, dict) or not data:
        raise SpaceError("the search space must be a non-empty JSON object of settings")
    if len(data) > MAX_DIMENSIONS:
        raise SpaceError(f"a search space holds at most {MAX_DIMENSIONS} settings")
    return [parse_dimension(str(name), entry, project) for name, entry in data.items()]


def load_space(path: str | Path, project) -> list[Dimension]:
    """``parse_space`` of a JSON file."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise SpaceError(f"cannot read the search space {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise SpaceError(f"{path} is not valid JSON: {exc}") from None
    return parse_space(data, project)


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
    """A copy of ``project`` with the searched settings set (``LAYER.PARAM`` or training key)."""
    copy = project.copy()
    training = dict(copy.training)
    for name, value in values.items():
        if "." in name:
            layer, param = name.split(".", 1)
            copy.graph.set_param(copy.graph.by_name(layer).id, param, value)
        else:
            training[name] = value
    copy.training = training
    return copy
