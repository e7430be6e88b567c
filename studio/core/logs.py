"""Where the studio's log goes: configured once by each entry point (app, CLI, training process).

Every module logs through ``logging.getLogger(__name__)``, below the ``studio`` logger set up here.
An unexpected exception is logged with its traceback; our own error classes (bad input whose
message says what to do) are never logged as crashes (``is_expected``).
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

ROOT = "studio"
FILE_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"
STREAM_FORMAT = "%(levelname)s %(name)s: %(message)s"
MAX_BYTES = 1_000_000
BACKUPS = 3


def log_to_file(path: str | Path) -> Path:
    """Send the studio's records (INFO and up) to a rotating file, replacing earlier set-ups.

    Args:
        path: the log file; its folder is created, and it rotates to ``path.1`` .. ``path.3``
            past 1 MB.

    Returns:
        The log file's path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter(FILE_FORMAT))
    _use(handler, logging.INFO)
    return path


def log_to_stderr(verbose: bool = False) -> None:
    """Send the studio's warnings and errors (with ``verbose`` also INFO) to standard error,
    replacing earlier set-ups."""
    handler = _Stderr()
    handler.setFormatter(logging.Formatter(STREAM_FORMAT))
    _use(handler, logging.INFO if verbose else logging.WARNING)


class _Stderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (tests and the training process swap it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def _use(handler: logging.Handler, level: int) -> None:
    logger = logging.getLogger(ROOT)
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(level)


def log_file() -> Path | None:
    """The file the studio's log goes to, or None where it goes elsewhere (or nowhere yet)."""
    for handler in logging.getLogger(ROOT).handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def is_expected(exc: BaseException) -> bool:
    """Whether ``exc`` is one of our own error classes: bad input its message explains, not a crash."""
    return type(exc).__module__.split(".")[0] == ROOT
