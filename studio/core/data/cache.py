"""Datasets loaded in this process, shared by every user of the same spec and kept for the newest specs.

Loading a folder or CIFAR takes seconds, so one load serves the Data and Augment panels, a
training start (its planner) and the Inspect area; undo/redo and switching areas are instant.
Two specs name the same dataset when they are equal as JSON (``spec_key``). Thread-safe: loads
run on worker threads. Example::

    dataset = load_cached(project.dataset)   # loads once; DataError when the spec cannot load
    cached_dataset(project.dataset)          # the same object now, without loading
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from studio.core.data import Dataset, load_dataset

MAX_BYTES = 1 << 30  # older datasets are dropped beyond this; the newest is always kept

_cache: OrderedDict[str, Dataset] = OrderedDict()
_lock = threading.Lock()


def spec_key(spec: dict[str, Any]) -> str:
    """The text two specs share exactly when they name the same dataset (key order does not matter)."""
    return json.dumps(spec, sort_keys=True)


def cached_dataset(spec: dict[str, Any]) -> Dataset | None:
    """The dataset already loaded for ``spec``, or None; never loads."""
    with _lock:
        key = spec_key(spec)
        if key in _cache:
            _cache.move_to_end(key)
        return _cache.get(key)


def load_cached(spec: dict[str, Any], progress=None, cancel=None) -> Dataset:
    """``load_dataset(spec, progress, cancel)``, reusing a recent load of the same spec. Raises
    ``DataError``.

    The dataset's fingerprint is computed here too (it hashes every array), so callers on the GUI
    thread never pay for it. Callers share the returned object: treat its arrays as read-only.
    """
    dataset = cached_dataset(spec)
    if dataset is not None:
        return dataset
    dataset = load_dataset(spec, progress, cancel)
    dataset.fingerprint()
    with _lock:
        _cache[spec_key(spec)] = dataset
        while len(_cache) > 1 and sum(_nbytes(d) for d in _cache.values()) > MAX_BYTES:
            _cache.popitem(last=False)
    return dataset


def clear() -> None:
    """Forget every loaded dataset (their memory is freed once no caller holds them)."""
    with _lock:
        _cache.clear()


def _nbytes(dataset: Dataset) -> int:
    return sum(array.nbytes for name in ("train", "val", "test") for array in dataset.split(name))
