"""Slow work (TensorFlow, file loading, run folders, exports) off the GUI thread: the one mechanism.

``TaskRunner`` runs submitted callables on its own worker thread; for each key only the newest
request counts (previews, feature maps, listings: the GUI never shows a stale answer). A request can
report progress; results, progress and errors reach the GUI thread through Qt's queued signals.
An unexpected error is logged with its traceback; the one-line message then says where the log is.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal

from studio.core.logs import is_expected, log_file

logger = logging.getLogger(__name__)


def describe_error(exc: BaseException) -> str:
    """A one-line message for the user: our own errors (and bad values, OS errors) as they are,
    others with their type."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    ours = type(exc).__module__.startswith("studio.") or isinstance(exc, (ValueError, OSError))
    if ours and text:
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def failure_message(key: str, exc: Exception) -> str:
    """The line shown for task ``key`` failing with ``exc``. Unexpected errors (not our own error
    classes) are first logged with their traceback, and the line names the log file."""
    message = describe_error(exc)
    if is_expected(exc):
        return message
    logger.error("task %r failed", key, exc_info=exc)
    where = log_file()
    return f"{message} (details in {where})" if where else message


class TaskRunner(QObject):
    """One worker thread running submitted callables in order of submission, newest per key.

    ``submit(key, function, on_done, on_error, on_progress)`` calls ``function()`` on the worker
    (``function(progress)`` when ``on_progress`` is given: each ``progress(value)`` reaches
    ``on_progress(value)`` on the GUI thread); ``on_done(result)`` or ``on_error(message)`` then runs
    on the GUI thread, unless a newer request of the same key was submitted meanwhile.

    Signals:
        busy_changed(bool): the worker started or finished a batch of work.
    """

    busy_changed = Signal(bool)
    _reported = Signal(str, int, bool, object)  # key, sequence, succeeded, result or message
    _progressed = Signal(str, int, object)  # key, sequence, progress value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._condition = threading.Condition()
        self._pending: dict[str, tuple[int, Callable[[], Any]]] = {}
        self._latest: dict[str, int] = {}
        self._handlers: dict[str, tuple[Callable, Callable | None, Callable | None]] = {}
        self._thread: threading.Thread | None = None
        self._running = 0
        self._reported.connect(self._deliver)
        self._progressed.connect(self._deliver_progress)

    @property
    def busy(self) -> bool:
        """True while requests are queued or running."""
        return bool(self._running or self._pending)

    def submit(self, key: str, function: Callable[..., Any], on_done: Callable[[Any], None],
               on_error: Callable[[str], None] | None = None,
               on_progress: Callable[[Any], None] | None = None) -> None:
        sequence = self._latest.get(key, 0) + 1
        self._latest[key] = sequence
        self._handlers[key] = (on_done, on_error, on_progress)
        if on_progress is not None:
            function = self._with_progress(function, key, sequence)
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
                result, succeeded = failure_message(key, exc), False
            try:  # still "busy" until the answer is delivered on the GUI thread
                self._reported.emit(key, sequence, succeeded, result)
            except RuntimeError:  # the panel (and this object) were deleted meanwhile
                return

    def _with_progress(self, work: Callable[[Callable[[Any], None]], Any], key: str, sequence: int):
        def call():
            return work(lambda value: self._report_progress(key, sequence, value))
        return call

    def _report_progress(self, key: str, sequence: int, value: Any) -> None:
        try:
            self._progressed.emit(key, sequence, value)
        except RuntimeError:
            pass  # the panel (and this object) were deleted meanwhile

    def _deliver_progress(self, key: str, sequence: int, value: Any) -> None:
        if sequence == self._latest.get(key):
            self._handlers[key][2](value)

    def _deliver(self, key: str, sequence: int, succeeded: bool, result: Any) -> None:
        with self._condition:
            self._running -= 1
        if not self.busy:
            self.busy_changed.emit(False)
        if sequence != self._latest.get(key):
            return
        on_done, on_error, _ = self._handlers[key]
        if succeeded:
            on_done(result)
        elif on_error is not None:
            on_error(result)
