"""Datasets loaded for the panels, shared between them and kept for the most recent specs.

Loading a folder or CIFAR takes seconds; keeping the last few loaded datasets makes undo/redo and
switching between the Data and Augment panels instant. Thread-safe: loads run on worker threads.
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
    return json.dumps(spec, sort_keys=True)


def cached_dataset(spec: dict[str, Any]) -> Dataset | None:
    """The dataset already loaded for ``spec``, or None."""
    with _lock:
        key = spec_key(spec)
        if key in _cache:
            _cache.move_to_end(key)
        return _cache.get(key)


def load_cached(spec: dict[str, Any], progress=None, cancel=None) -> Dataset:
    """``load_dataset(spec, progress, cancel)``, reusing a recent load of the same spec. Raises
    ``DataError``."""
    dataset = cached_dataset(spec)
    if dataset is not None:
        return dataset
    dataset = load_dataset(spec, progress, cancel)
    dataset.fingerprint()  # hashes every array (slow for big sets): done here, off the GUI thread
    with _lock:
        _cache[spec_key(spec)] = dataset
        while len(_cache) > 1 and sum(_nbytes(d) for d in _cache.values()) > MAX_BYTES:
            _cache.popitem(last=False)
    return dataset


def _nbytes(dataset: Dataset) -> int:
    return sum(array.nbytes for name in ("train", "val", "test") for array in dataset.split(name))
