"""Text forms of param values for the line-edit editors: format for display, parse what was typed."""

from __future__ import annotations

import json
import re
from typing import Any

from studio.core.params import ParamError, ParamSpec

_SEPARATORS = re.compile(r"[,\s×]+")


class ParamTextError(ValueError):
    """What was typed is not a valid value; the message says what to type instead."""


def format_value(spec: ParamSpec, value: Any) -> str:
    if value is None:
        return ""
    if spec.kind == "pad2d" and isinstance(value, list) and any(isinstance(v, list) for v in value):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return ", ".join("None" if v is None else str(v) for v in value)
    if isinstance(value, (dict, str)) and spec.kind not in ("initializer", "choice", "str", "optional_str"):
        return json.dumps(value)
    return str(value)


def parse_value(spec: ParamSpec, text: str) -> Any:
    """The value ``text`` stands for, checked by ``spec.check``; raises ParamTextError."""
    text = text.strip()
    kind = spec.kind
    if not text:
        if kind.startswith("optional"):
            return None
        raise ParamTextError(f"{spec.name} needs a value")
    try:
        if kind in ("ints", "optional_ints", "shape", "axis"):
            value = _numbers(text)
            if kind == "ints" and spec.length and len(value) == 1:
                value = value * spec.length  # Keras wants one entry per dimension
            if kind == "axis" and len(value) == 1:
                value = value[0]
        elif kind == "pad2d":
            value = json.loads(text.replace("(", "[").replace(")", "]")) if "[" in text or "(" in text else _numbers(text)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
        elif kind in ("int", "optional_int"):
            value = int(text)
        elif kind in ("float", "optional_float"):
            value = float(text)
        elif kind in ("str", "optional_str", "initializer", "choice"):
            value = text
        else:
            value = json.loads(text)
    except (ValueError, json.JSONDecodeError):
        raise ParamTextError(f"{spec.name}: cannot read {text!r}; {_hint(spec)}") from None
    try:
        return spec.check(value)
    except ParamError as exc:
        raise ParamTextError(str(exc)) from None


def _numbers(text: str) -> list:
    tokens = [t for t in _SEPARATORS.split(text.strip("()[] ")) if t]
    return [None if t.lower() == "none" else int(t) for t in tokens]


def _hint(spec: ParamSpec) -> str:
    return {
        "ints": "type whole numbers separated by commas, e.g. 3, 3",
        "optional_ints": "type whole numbers separated by commas, or leave empty",
        "shape": "type sizes separated by commas, e.g. 28, 28, 1",
        "axis": "type an axis number such as -1",
        "pad2d": "type n, or rows, cols, or [[top, bottom], [left, right]]",
        "int": "type a whole number", "optional_int": "type a whole number or leave empty",
        "float": "type a number such as 0.5", "optional_float": "type a number or leave empty",
    }.get(spec.kind, "type a JSON value")
