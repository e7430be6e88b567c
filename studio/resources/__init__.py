"""Locate the bundled ``models/`` templates and ``assets/`` both in a checkout and when installed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[2]


def _folder(name: str) -> Path:
    local = _CHECKOUT / name
    if (local / "__init__.py").exists():
        return local
    return Path(str(resources.files(f"studio.resources.{name}")))


def models_dir() -> Path:
    """Folder holding the template graph JSON files."""
    return _folder("models")


def assets_dir() -> Path:
    """Folder holding icons and images."""
    return _folder("assets")
