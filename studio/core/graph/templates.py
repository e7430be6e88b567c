"""Model templates: graph JSON files in ``models/`` with their documented metadata."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.fileio import loads_json_bounded, read_bytes_capped
from studio.core.graph.model import Graph, GraphError
from studio.resources import models_dir


class TemplateError(ValueError):
    pass


@dataclass
class Template:
    name: str
    title: str
    description: str
    reference: str
    task: str
    input_shape: list
    num_classes: int | None
    expected_params: int
    graph: Graph
    generative: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


MAX_TEMPLATE_BYTES = 32 * 2**20  # a template's graph JSON, like a .keras file's config.json
_META_KEYS = ("name", "title", "description", "reference", "task", "input_shape", "num_classes",
              "expected_params", "generative")


def list_templates() -> list[dict[str, Any]]:
    """Metadata (everything but the graph) of every template, sorted by name."""
    result = []
    for path in sorted(models_dir().glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        result.append({k: data.get(k) for k in _META_KEYS})
    return result


def template_names() -> list[str]:
    return [path.stem for path in sorted(models_dir().glob("*.json"))]


def load_template(name: str) -> Template:
    """Load template ``name`` (file stem in ``models/``) with a fresh copy of its graph.

    Args:
        name: a template name, e.g. ``"small_cnn_28"``; ``template_names()`` lists them.

    Returns:
        The Template: its metadata, graph and any other keys of its file in ``extra``.

    Raises:
        TemplateError: no such template, or its file cannot be read or holds a damaged graph.
    """
    path = models_dir() / f"{name}.json"
    if not path.exists():
        raise TemplateError(f"No template named {name!r}; available: {', '.join(template_names())}")
    return load_template_file(path)


def is_template_file(path: Path) -> bool:
    """True for a template JSON file (a ``graph`` and no project ``schema_version``), e.g. a copy
    of ``models/vgg16.json``."""
    if path.suffix != ".json" or not path.is_file():
        return False
    try:
        data = _read_json(path)
    except (OSError, ValueError):  # not a template: the project loader tried next names what is wrong
        return False
    return isinstance(data, dict) and "graph" in data and "schema_version" not in data


def _read_json(path: Path) -> Any:
    """A JSON file read with a size cap and bounded nesting; ValueError or OSError otherwise."""
    return loads_json_bounded(read_bytes_capped(path, MAX_TEMPLATE_BYTES))


def load_template_file(path: Path) -> Template:
    """The template stored in the JSON file ``path``.

    Args:
        path: a template JSON file (size-capped); its stem is the name when it names none.

    Returns:
        The Template.

    Raises:
        TemplateError: the file cannot be read, is not JSON, or holds no valid ``graph``.
    """
    name = path.stem
    try:
        data = _read_json(path)
    except (OSError, ValueError) as exc:
        raise TemplateError(f"Template {name!r} cannot be read: {exc}") from None
    try:
        graph = Graph.from_dict(data["graph"])
    except (KeyError, TypeError, GraphError) as exc:
        raise TemplateError(f"Template {name!r} is damaged: {exc}") from None
    data.setdefault("name", name)
    meta = {k: data.get(k) for k in _META_KEYS}
    extra = {k: v for k, v in data.items() if k not in _META_KEYS and k != "graph"}
    return Template(graph=graph, extra=extra, **meta)
