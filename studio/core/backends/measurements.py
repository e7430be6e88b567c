"""The store of measured backend speeds on this machine, per model signature.

``studio doctor --bench`` (``measure.bench``) records results here; ``auto`` reads ``fastest``
and the engine ``best_compile``. Kept free of backend imports so anything may read it.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

from studio.core import fileio


def cache_file() -> Path:
    """Where measurements live (``STUDIO_CACHE_DIR`` or the user's cache folder)."""
    root = os.environ.get("STUDIO_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") \
        or os.path.join(os.path.expanduser("~"), ".cache")
    sub = "" if os.environ.get("STUDIO_CACHE_DIR") else "dl-studio"
    return Path(root) / sub / "backend_bench.json"


def machine() -> str:
    return f"{socket.gethostname()}/{platform.system()}/{platform.machine()}"


def model_signature(graph_dict: dict, batch_size: int | None, mixed_precision: bool = False) -> str:
    """A short hash of what decides speed: the graph, the batch size and the precision."""
    text = json.dumps({"graph": graph_dict, "batch": batch_size, "mixed": mixed_precision}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def project_signature(project) -> str:
    """The signature of a project's model as it would train (settings it leaves out count as such)."""
    training = project.training or {}
    return model_signature(project.graph.to_dict(), training.get("batch_size"),
                           bool(training.get("mixed_precision", False)))


def _read() -> dict[str, Any]:
    try:
        return json.loads(cache_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def measured(signature: str | None) -> list[dict[str, Any]]:
    """The stored measurements of ``signature`` on this machine ([] when none)."""
    if signature is None:
        return []
    return _read().get(machine(), {}).get(signature, {}).get("results", [])


def record(signature: str, results: list[dict[str, Any]]) -> None:
    data = _read()
    data.setdefault(machine(), {})[signature] = {"time": time.time(), "results": results}
    path = cache_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fileio.atomic_write_json(path, data)


def fastest(signature: str | None) -> dict[str, Any] | None:
    """The fastest successful measurement of ``signature`` (None when there is none)."""
    good = [r for r in measured(signature) if r.get("samples_per_s")]
    return max(good, key=lambda r: r["samples_per_s"]) if good else None


def best_compile(signature: str | None, backend: str) -> bool | None:
    """Whether compiling (XLA / torch.compile) was faster for ``backend`` (None: not measured)."""
    for result in measured(signature):
        if result.get("backend") == backend and result.get("samples_per_s"):
            return bool(result.get("jit_compile"))
    return None
