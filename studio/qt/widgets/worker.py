"""Slow work (TensorFlow, file loading, run folders) off the GUI thread.

Two shapes of it: ``TaskRunner`` for requests that supersede each other (previews, feature maps:
the newest request of a key wins, so the GUI never shows a stale answer), and
``run_in_background`` for a one-off call whose exception the caller wants to inspect.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal, Slot

from studio.core.data import DataError
from studio.core.inspect import InspectError
from studio.core.training import TrainingError

EXPECTED_ERRORS = (InspectError, DataError, TrainingError, ValueError, OSError)


def describe_error(exc: BaseException) -> str:
    """A one-line message for the user: our own errors as they are, others with their type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, EXPECTED_ERRORS) and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class TaskRunner(QObject):
    """One worker thread running submitted callables in order of submission, newest per key.

    ``submit(key, function, on_done, on_error)`` calls ``function()`` on the worker; ``on_done(result)``
    or ``on_error(message)`` then runs on the GUI thread, unless a newer request of the same key
    was submitted meanwhile.

    Signals:
        busy_changed(bool): the worker started or finished a batch of work.
    """

    busy_changed = Signal(bool)
    _reported = Signal(str, int, bool, object)  # key, sequence, succeeded, result or message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._condition = threading.Condition()
        self._pending: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._latest: dict[str, int] = {}
        self._handlers: dict[str, tuple[Callable, Callable | None]] = {}
        self._thread: threading.Thread | None = None
        self._running = 0
        self._reported.connect(self._deliver)

    @property
    def busy(self) -> bool:
        """True while requests are queued or running."""
        return bool(self._running or self._pending)

    def submit(self, key: str, function: Callable[[], Any], on_done: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None) -> None:
        sequence = self._latest.get(key, 0) + 1
        self._latest[key] = sequence
        self._handlers[key] = (on_done, on_error)
        with self._condition:
            self._pending.pop(key, None)  # re-inserted last: keys run in order of their newest request
            self._pending[key] = (sequence, function)
            self._condition.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="studio-task-runner", daemon=True)
            self._thread.start()
        self.busy_changed.emit(True)

    def cancel(self, key: str) -> None:
        """Forget ``key``'s queued request and ignore the answer of one already running."""
        self._latest[key] = self._latest.get(key, 0) + 1
        with self._condition:
            self._pending.pop(key, None)

    def _work(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
                key = next(iter(self._pending))
                sequence, function = self._pending.pop(key)
                self._running += 1
            try:
                result, succeeded = function(), True
            except Exception as exc:  # every failure becomes a message in the panel, never a crash
                result, succeeded = describe_error(exc), False
            with self._condition:
                self._running -= 1
            try:
                self._reported.emit(key, sequence, succeeded, result)
            except RuntimeError:  # the panel (and this object) were deleted meanwhile
                return

    def _deliver(self, key: str, sequence: int, succeeded: bool, result: Any) -> None:
        if not self.busy:
            self.busy_changed.emit(False)
        if sequence != self._latest.get(key):
            return
        on_done, on_error = self._handlers[key]
        if succeeded:
            on_done(result)
        elif on_error is not None:
            on_error(result)


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
