"""Versioned project file (``.dlstudio``, JSON): load with migration, refuse newer or malformed files.

Format history:
- 1: node positions were stored inside each node (``node["pos"]``).
- 2: positions moved to ``view["positions"]`` so layout never touches the model; ``generative``
  section added. Later, without a new version (older readers ignore it): the ``rl`` section.

A section a feature owns (``FEATURE_SECTIONS``) is checked at load by that feature, through the
``project_section_problem`` hook (``studio.core.hooks``): this module imports no feature.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.core import hooks
from studio.core.fileio import (atomic_write_json, json_value_problem, loads_json_bounded, read_bytes_capped,
                                remove_stale_temps)
from studio.core.graph.model import Graph, GraphError

SCHEMA_VERSION = 2
FILE_SUFFIX = ".dlstudio"
MAX_FILE_BYTES = 64 * 2**20  # a 10,000-layer project is about 10 MiB
# Section -> type; checked before migrating, so a migration only ever sees well-formed sections.
SECTIONS: dict[str, type] = {"name": str, "dataset": dict, "augmentation": list, "graph": dict,
                             "training": dict, "view": dict, "rl": dict}
FEATURE_SECTIONS = ("rl",)  # checked by the feature that owns each (hook ``project_section_problem``)


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
    rl: dict[str, Any] = field(default_factory=dict)  # the DQN settings that differ from their defaults

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "dataset": copy.deepcopy(self.dataset),
            "augmentation": copy.deepcopy(self.augmentation),
            "graph": self.graph.to_dict(),
            "training": copy.deepcopy(self.training),
            "generative": copy.deepcopy(self.generative),
            "rl": copy.deepcopy(self.rl),
            "view": copy.deepcopy(self.view),
        }

    def copy(self) -> Project:
        return project_from_dict(self.to_dict())


def _migrate_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    positions = {}
    nodes = data.get("graph", {}).get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and "pos" in node:
            positions[str(node.get("id"))] = node.pop("pos")
    view = data.setdefault("view", {})
    if not isinstance(view.get("positions"), dict):
        view["positions"] = {}
    view["positions"].update(positions)
    data.setdefault("generative", None)
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _migrate_1_to_2}


def project_from_dict(data: Any, where: str = "project") -> Project:
    """Validate, migrate and build a Project; raises ProjectError naming the bad field.

    Args:
        data: the decoded JSON of a project file, any schema version from 1 up to ``SCHEMA_VERSION``.
            It is not modified (migrations work on a deep copy).
        where: what to name in error messages, usually the file's path.

    Returns:
        A Project in the current format; canvas positions that are unusable are dropped.

    Raises:
        ProjectError: not a JSON object, too deep or non-finite values, a missing or newer schema
            version, a section of the wrong type, no ``graph`` section, a graph that does not load, or
            a feature's section (``rl``) with a value the feature refuses.
    """
    if not isinstance(data, dict):
        raise ProjectError(f"{where}: expected a JSON object at the top level")
    problem = json_value_problem(data)  # before deepcopy, which recursion would crash
    if problem:
        raise ProjectError(f"{where}: {problem}")
    version = data.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ProjectError(f"{where}: missing or invalid schema_version (a whole number from 1)")
    if version > SCHEMA_VERSION:
        raise ProjectError(f"{where}: made by a newer DL Studio (format {version}, this version reads up "
                           f"to {SCHEMA_VERSION}); update DL Studio to open it")
    for key, kind in SECTIONS.items():
        if key in data and not isinstance(data[key], kind):
            raise ProjectError(f"{where}: field {key!r} should be a {kind.__name__}")
    if "graph" not in data:
        raise ProjectError(f"{where}: no 'graph' section")
    generative = data.get("generative")
    if generative is not None and not isinstance(generative, dict):
        raise ProjectError(f"{where}: field 'generative' should be an object")
    for section in FEATURE_SECTIONS:
        problem = data.get(section) and hooks.first("project_section_problem", section, data[section])
        if problem:
            raise ProjectError(f"{where}: field {section!r}: {problem}")
    for index, step in enumerate(data.get("augmentation", [])):
        if not isinstance(step, dict):
            raise ProjectError(f"{where}: augmentation[{index}] should be an object")
    data = copy.deepcopy(data)
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    try:
        graph = Graph.from_dict(data["graph"])
    except GraphError as exc:
        raise ProjectError(f"{where}: {exc}") from None
    view = data.get("view", {})
    view["positions"] = _valid_positions(view.get("positions"))
    return Project(
        name=data.get("name", "Untitled"), dataset=data.get("dataset", {}),
        augmentation=data.get("augmentation", []), graph=graph, training=data.get("training", {}),
        view=view, generative=data.get("generative"), rl=data.get("rl", {}),
    )


def _valid_positions(positions: Any) -> dict[str, list[float]]:
    """Canvas positions with unusable entries dropped (the canvas places those nodes again)."""
    if not isinstance(positions, dict):
        return {}
    return {node_id: [float(p[0]), float(p[1])] for node_id, p in positions.items()
            if isinstance(p, list) and len(p) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e9
                for v in p)}


def load_project(path: str | Path) -> Project:
    """Read a project file; nothing is returned half-loaded.

    Args:
        path: the ``.dlstudio`` file; files over ``MAX_FILE_BYTES`` are refused.

    Returns:
        The Project, migrated to the current format.

    Raises:
        ProjectError: the file is missing, unreadable, too big, not valid JSON, or not a valid project.
    """
    path = Path(path)
    try:
        raw = read_bytes_capped(path, MAX_FILE_BYTES)
    except FileNotFoundError:
        raise ProjectError(f"{path}: file not found") from None
    except OSError as exc:
        raise ProjectError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise ProjectError(f"{path}: {exc}") from None
    try:
        data = loads_json_bounded(raw)
    except ValueError as exc:
        hint = "; the file may be truncated" if str(exc).startswith("not valid JSON") else ""
        raise ProjectError(f"{path}: {exc}{hint}") from None
    return project_from_dict(data, where=str(path))


def save_project(project: Project, path: str | Path) -> None:
    """Write the project atomically (temp file + replace), first removing temp files that killed
    saves left beside it.

    Args:
        project: the project to write, in the current format (``Project.to_dict``).
        path: the file to write or replace.
    """
    remove_stale_temps(path)
    atomic_write_json(path, project.to_dict())


# The default project trains briefly, and digits make ~40 steps an epoch: gradient norms every 10 steps
# give the plot a few points each. Every other training setting is its spec's default.
DEFAULT_PROJECT_TRAINING = {"epochs": 5, "grad_norm_every": 10}


def default_project() -> Project:
    """Built-in digits (28x28) and the small-CNN template: trainable offline at once.

    Returns:
        A new project whose dataset options and training settings are their specs' defaults, except
        the image size the template reads and ``DEFAULT_PROJECT_TRAINING``.
    """
    from studio.core.graph.templates import load_template

    template = load_template("small_cnn_28")
    return Project(
        name="Digits with a small CNN",
        dataset={"source": "digits", "image_size": 28},  # small_cnn_28 reads 28x28 images
        graph=template.graph,
        training=dict(DEFAULT_PROJECT_TRAINING),  # the rest: the training specs' defaults, read at load
        view={"template": template.name},
    )
