"""A minimal synchronous signal: models emit, views subscribe (the napari pattern, without Qt)."""

from __future__ import annotations

from typing import Any, Callable


class Signal:
    """Calls every connected callback with the emitted event, in connection order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Any], None]] = []
        self._blocked = 0

    def connect(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[Any], None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, event: Any) -> None:
        if self._blocked:
            return
        for callback in list(self._callbacks):
            callback(event)
