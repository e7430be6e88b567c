"""One shared helper object per Keras model, created on first use and dropped with the model."""

from __future__ import annotations

import threading
import weakref
from typing import Callable, Generic, TypeVar

T = TypeVar("T")


class PerModel(Generic[T]):
    """``cache(model)`` returns the model's ``factory(model)``, built once; thread-safe."""

    def __init__(self, factory: Callable[[object], T]) -> None:
        self._factory = factory
        self._items: weakref.WeakKeyDictionary[object, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, model) -> T:
        with self._lock:
            item = self._items.get(model)
            if item is None:
                item = self._items[model] = self._factory(model)
            return item
