"""Run one slow call (reading run folders, preparing a run) off the GUI thread."""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot


class _Call(QObject):
    """Lives on the GUI thread; the worker's signals reach its slots there (queued by Qt)."""

    done = Signal(object)
    failed = Signal(object)

    def __init__(self, on_done: Callable[[Any], None], on_failed: Callable[[Exception], None],
                 parent: QObject) -> None:
        super().__init__(parent)
        self.on_done, self.on_failed = on_done, on_failed
        self.done.connect(self._deliver_done)
        self.failed.connect(self._deliver_failure)

    @Slot(object)
    def _deliver_done(self, result: Any) -> None:
        self.deleteLater()
        self.on_done(result)

    @Slot(object)
    def _deliver_failure(self, exc: Exception) -> None:
        self.deleteLater()
        self.on_failed(exc)


def run_in_background(work: Callable[[], Any], on_done: Callable[[Any], None],
                      on_failed: Callable[[Exception], None], parent: QObject) -> None:
    """Call ``work()`` on a daemon thread; its result or exception reaches ``on_done``/``on_failed``
    on the GUI thread (``parent``, a GUI object, owns the call until it reports)."""
    call = _Call(on_done, on_failed, parent)

    def run() -> None:
        try:
            result = work()
        except Exception as exc:  # handed to the GUI, which shows it; never lost on the thread
            report, value = call.failed, exc
        else:
            report, value = call.done, result
        try:
            report.emit(value)
        except RuntimeError:
            pass  # the window closed meanwhile: nobody is left to tell

    threading.Thread(target=run, name="studio-worker", daemon=True).start()
