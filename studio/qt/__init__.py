"""The desktop app: draws the core's models and forwards the user's edits to them (PySide6)."""

from __future__ import annotations

import ctypes
import sys


def _protect_singletons_from_pyside_refcount_bug() -> None:
    """Keep Python alive under PySide6 builds that drop references to None/True/False.

    PySide6 6.12.0 on Python < 3.12 (where these singletons are not immortal yet) releases one
    reference to None on each call of a C++ method returning void, and to True/False on each signal
    emit; after a few thousand calls Python aborts with "deallocating None". When a probe shows the
    leak, give the three singletons a huge reference count, which is what Python 3.12 does anyway.
    """
    if sys.version_info >= (3, 12):
        return
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(16):
        probe.setObjectName("probe")
    if sys.getrefcount(None) >= before - 8:
        return
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40


_protect_singletons_from_pyside_refcount_bug()
