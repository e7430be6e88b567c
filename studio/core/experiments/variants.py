"""Variants of a project to train side by side ("compare variants"): the grid over a search space.

``make_variants(project, {"activation": {"choices": ["relu", "tanh"]}})`` -> ``[(label, project), ...]``:
one copy per point of the grid, any setting a sweep can search (``space``); ``parse_vary`` reads the
command line's ``KEY=V1,V2`` into such a space.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from studio.core.experiments.space import SpaceError, apply_params, entry_from_text, parse_space, setting_spec

MAX_VARIANTS = 32


class VariantError(ValueError):
    """A setting or value that cannot make a variant, with the one line to show."""


def parse_vary(text: str, project) -> dict[str, Any]:
    """A one-setting space from ``KEY=V1,V2`` (values as in the Sweep panel: ``0.1, 0.01`` or ``1 .. 4 step 1``).

    Args:
        text: the setting and its values, e.g. ``activation=relu,tanh`` or ``dense_1.units=8,16``.
        project: the project whose settings and layers the key names.

    Returns:
        ``{KEY: entry}`` for ``make_variants``; ``VariantError`` when the text cannot be read.
    """
    key, _, values = text.partition("=")
    key = key.strip()
    if not key or not values.strip():
        raise VariantError("write KEY=V1,V2 (e.g. activation=relu,sigmoid or learning_rate=0.1,0.01)")
    try:
        spec, _layer = setting_spec(key, project)
        return {key: entry_from_text(key, values, spec)}
    except SpaceError as exc:
        raise VariantError(str(exc)) from None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def make_variants(project, space: dict[str, Any]) -> list[tuple[str, Any]]:
    """One ``(label, project copy)`` per point of the grid over ``space``.

    Args:
        project: the project to vary (left unchanged).
        space: a search space (``space.parse_space``'s form); ranges need a step.

    Returns:
        ``[("activation=relu", copy), ...]`` in grid order, each copy named after its values;
        ``VariantError`` for an invalid space or more than ``MAX_VARIANTS`` points.
    """
    try:
        dims = parse_space(space, project)
        size = math.prod(dim.grid_count() for dim in dims)
    except SpaceError as exc:
        raise VariantError(str(exc)) from None
    if size > MAX_VARIANTS:
        raise VariantError(f"{size:,} variants: give at most {MAX_VARIANTS} in all")
    grids = [dim.grid() for dim in dims]
    variants = []
    for point in itertools.product(*grids):
        values = {dim.name: value for dim, value in zip(dims, point)}
        copy = apply_params(project, values)
        copy.name = "-".join([project.name, *(f"{name}-{_shown(value)}" for name, value in values.items())])
        variants.append((", ".join(f"{name}={_shown(value)}" for name, value in values.items()), copy))
    return variants
