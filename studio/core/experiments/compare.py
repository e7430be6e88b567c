"""The differences between two runs (or project files): settings, graph and data spec."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_MISSING = "(absent)"


@dataclass
class Comparison:
    """``settings``/``data``: ``(key, a, b)``; ``graph``: layers added in b, removed from a, and
    ``(layer, param, a, b)`` for each changed parameter (matched by layer name)."""

    settings: list[tuple[str, Any, Any]] = field(default_factory=list)
    data: list[tuple[str, Any, Any]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.settings or self.data or self.added or self.removed or self.changed)


def _load(source: str | os.PathLike):
    """``(project, training config)`` of a run folder (its snapshot and run.json) or a project file."""
    from studio.core.project import load_project

    path = Path(source)
    if path.is_dir():
        snapshot = path / "project.dlstudio"
        if not snapshot.exists():
            raise ValueError(f"{path} has no project.dlstudio: not a run folder")
        project = load_project(snapshot)
        try:
            config = json.loads((path / "run.json").read_text(encoding="utf-8")).get("config")
        except (OSError, ValueError):
            config = None
        return project, config or project.training
    if path.is_file():
        project = load_project(path)
        return project, project.training
    raise ValueError(f"{path}: no such run folder or project file")


def diff_dicts(a: dict[str, Any], b: dict[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted key, a value, b value)`` for every differing leaf."""
    found = []
    for key in sorted(set(a) | set(b), key=str):
        left, right = a.get(key, _MISSING), b.get(key, _MISSING)
        if isinstance(left, dict) and isinstance(right, dict):
            found += diff_dicts(left, right, f"{prefix}{key}.")
        elif left != right:
            found.append((f"{prefix}{key}", left, right))
    return found


def compare_runs(a: str | os.PathLike, b: str | os.PathLike) -> Comparison:
    """Compare two run folders or project files.

    Args:
        a: a run folder (its project snapshot and run.json's config) or a project file.
        b: the same for the other side.

    Returns:
        A Comparison: changed settings, data and augmentation, and the layers (matched by name)
        removed, added or changed from ``a`` to ``b``.

    Raises:
        ValueError: a path is neither a run folder with a snapshot nor a file.
        ProjectError: a project file or snapshot cannot be loaded.
    """
    project_a, config_a = _load(a)
    project_b, config_b = _load(b)
    result = Comparison(settings=diff_dicts(config_a, config_b),
                        data=diff_dicts(project_a.dataset, project_b.dataset))
    result.data += diff_dicts({"augmentation": project_a.augmentation},
                              {"augmentation": project_b.augmentation})
    nodes_a = {node.name: node for node in project_a.graph.nodes.values()}
    nodes_b = {node.name: node for node in project_b.graph.nodes.values()}
    result.removed = [name for name in nodes_a if name not in nodes_b]
    result.added = [name for name in nodes_b if name not in nodes_a]
    for name in (name for name in nodes_a if name in nodes_b):
        left, right = nodes_a[name], nodes_b[name]
        if left.type != right.type:
            result.changed.append((name, "type", left.type, right.type))
        for key, value_a, value_b in diff_dicts(left.params, right.params):
            result.changed.append((name, key, value_a, value_b))
        inputs_a = [project_a.graph.node(i).name for i in project_a.graph.inputs(left.id)]
        inputs_b = [project_b.graph.node(i).name for i in project_b.graph.inputs(right.id)]
        if inputs_a != inputs_b:
            result.changed.append((name, "inputs", inputs_a, inputs_b))
    return result
