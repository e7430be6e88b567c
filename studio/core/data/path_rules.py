"""Spec forms for the streamed sources, for the one path -> spec rule (``paths.spec_for_path``).

Kept apart so the rule's owner can merge it: ``streamed_spec_for_path(path)`` returns the spec
for a ``.npy`` file or a CSV listing images (a ``path`` and a ``label`` column), else None.
"""

from __future__ import annotations

import csv
from pathlib import Path


def streamed_spec_for_path(path: str | Path) -> dict | None:
    """``{"source": "npy", ...}`` for ``x.npy`` (labels: ``y.npy`` beside it), ``{"source":
    "image_list", ...}`` for a CSV whose header has ``path`` and ``label`` columns; else None."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        return {"source": "npy", "path": str(path)}
    if path.suffix.lower() == ".csv":
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                header = [name.strip() for name in next(csv.reader([handle.readline(4096)]), [])]
        except (OSError, UnicodeDecodeError, csv.Error):
            return None
        if "path" in header and "label" in header:
            return {"source": "image_list", "path": str(path)}
    return None
