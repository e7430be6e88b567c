"""Versioned project file (``.dlstudio``, JSON): load with migration, refuse newer or malformed files.

Format history:
- 1: node positions were stored inside each node (``node["pos"]``).
- 2: positions moved to ``view["positions"]`` so layout never touches the model; ``generative``
  section added.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.core.fileio import atomic_write_json
from studio.core.graph.model import Graph, GraphError

SCHEMA_VERSION = 2
FILE_SUFFIX = ".dlstudio"


class ProjectError(ValueError):
    """A project file that cannot be opened; the message is one line naming the problem."""


@dataclass
class Project:
    name: str = "Untitled"
    dataset: dict[str, Any] = field(default_factory=dict)
    augmentation: list[dict[str, Any]] = field(default_factory=list)
    graph: Graph = field(default_factory=Graph)
    training: dict[str, Any] = field(default_factory=dict)
    view: dict[str, Any] = field(default_factory=dict)
    generative: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "dataset": copy.deepcopy(self.dataset),
            "augmentation": copy.deepcopy(self.augmentation),
            "graph": self.graph.to_dict(),
            "training": copy.deepcopy(self.training),
            "generative": copy.deepcopy(self.generative),
            "view": copy.deepcopy(self.view),
        }

    def copy(self) -> Project:
        return project_from_dict(self.to_dict())


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    positions = {}
    for node in data.get("graph", {}).get("nodes", []):
        if "pos" in node:
            positions[node["id"]] = node.pop("pos")
    data.setdefault("view", {}).setdefault("positions", {}).update(positions)
    data.setdefault("generative", None)
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


def project_from_dict(data: Any, where: str = "project") -> Project:
    """Validate, migrate and build a Project; raises ProjectError naming the bad field."""
    if not isinstance(data, dict):
        raise ProjectError(f"{where}: expected a JSON object at the top level")
    version = data.get("schema_version")
    if not isinstance(version, int) or version < 1:
        raise ProjectError(f"{where}: missing or invalid schema_version")
    if version > SCHEMA_VERSION:
        raise ProjectError(f"{where}: made by a newer DL Studio (format {version}, this version reads up "
                           f"to {SCHEMA_VERSION}); update DL Studio to open it")
    data = copy.deepcopy(data)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    expected = {"name": str, "dataset": dict, "augmentation": list, "graph": dict, "training": dict, "view": dict}
    for key, kind in expected.items():
        if key in data and not isinstance(data[key], kind):
            raise ProjectError(f"{where}: field {key!r} should be a {kind.__name__}")
    if "graph" not in data:
        raise ProjectError(f"{where}: no 'graph' section")
    try:
        graph = Graph.from_dict(data["graph"])
    except GraphError as exc:
        raise ProjectError(f"{where}: {exc}") from None
    generative = data.get("generative")
    if generative is not None and not isinstance(generative, dict):
        raise ProjectError(f"{where}: field 'generative' should be an object")
    return Project(
        name=data.get("name", "Untitled"), dataset=data.get("dataset", {}),
        augmentation=data.get("augmentation", []), graph=graph, training=data.get("training", {}),
        view=data.get("view", {}), generative=generative,
    )


def load_project(path: str | Path) -> Project:
    """Read a project file; nothing is returned half-loaded."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProjectError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ProjectError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                           "the file may be truncated") from None
    return project_from_dict(data, where=str(path))


def save_project(project: Project, path: str | Path) -> None:
    """Write the project atomically (temp file + replace)."""
    atomic_write_json(path, project.to_dict())


def default_project() -> Project:
    """Built-in digits (28x28) and the small-CNN template: trainable offline at once."""
    from studio.core.graph.templates import load_template
    from studio.core.training.config import TrainingConfig

    template = load_template("small_cnn_28")
    return Project(
        name="Digits with a small CNN",
        dataset={"source": "digits", "image_size": 28, "split": {"train": 0.7, "val": 0.15, "test": 0.15},
                 "seed": 0, "normalize": "scale"},
        graph=template.graph,
        # Digits make ~40 steps an epoch: gradient norms every 10 steps give the plot a few points each.
        training={"optimizer": "adam", "learning_rate": 0.001, "batch_size": TrainingConfig.batch_size,
                  "epochs": 5, "seed": 0, "grad_norm_every": 10},
        view={"template": template.name},
    )
