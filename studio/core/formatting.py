"""Short human-readable texts for numbers, sizes, durations, shapes and params (CLI and panels)."""

from __future__ import annotations

from typing import Any


def count(value: int | float) -> str:
    """``1234567`` -> ``1.23 M``; small numbers stay exact."""
    value = float(value)
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {suffix}"
    return f"{value:.0f}"


def plural(number: int, noun: str) -> str:
    """``1, "epoch"`` -> ``1 epoch``; ``8, "epoch"`` -> ``8 epochs`` (nouns that take an s)."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def size_bytes(value: int) -> str:
    value = float(value)
    for factor, suffix in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= factor:
            return f"{value / factor:.3g} {suffix}"
    return f"{value:.0f} B"


def shape(value: tuple | list | None) -> str:
    if value is None:
        return "?"
    return "(" + ", ".join("?" if d is None else str(d) for d in value) + ")"


def param_value(value: Any) -> str:
    """Compact form of a param for a one-line summary: [3, 3] -> 3×3."""
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, (list, tuple)) for v in value):
            return ",".join(param_value(v) for v in value)
        return "×".join(param_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return str(value.get("class_name", "…"))
    return str(value)


def key_params(keys: tuple[str, ...], params: dict) -> str:
    """The values of ``keys`` (a layer spec's most telling params), e.g. ``32 · 3×3 · 1×1`` for a Conv2D."""
    return " · ".join(param_value(params[k]) for k in keys if k in params and params[k] is not None)


def format_duration(seconds: float) -> str:
    """``3725`` -> ``1:02:05``; under an hour ``MM:SS``."""
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"
