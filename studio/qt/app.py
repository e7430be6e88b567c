"""Start the desktop app: the window shows at once; Keras and its backend load behind it."""

from __future__ import annotations

import logging
import os
import sys

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from studio.core.features import load_features
from studio.core.logs import log_to_file
from studio.qt import settings
from studio.qt.main_window import MainWindow

logger = logging.getLogger(__name__)


def create_app(argv: list[str] | None = None) -> tuple[QApplication, MainWindow]:
    """The QApplication and a shown MainWindow (a project path in ``argv[1]`` is opened)."""
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    load_features()  # what features add to runs, objective checks included
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName(settings.ORGANIZATION)
    app.setApplicationName(settings.APPLICATION)
    app.setStyle("Fusion")
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("dl-studio")  # the launcher `studio shortcut` installs: taskbars group by it
    settings.move_doubled_data_folder()  # the data folder depends on the names set above
    log_to_file(settings.log_path())
    previous_hook = sys.excepthook

    def log_uncaught(kind, exc, trace):  # an error escaping a slot: logged, then printed as before
        logger.critical("uncaught error", exc_info=(kind, exc, trace))
        previous_hook(kind, exc, trace)

    sys.excepthook = log_uncaught
    window = MainWindow()
    window.show()
    if len(argv) > 1:
        window.open_project(argv[1])
    return app, window


def app_icon() -> QIcon:
    """The studio's icon in every size of assets/icons (window, taskbar, dock)."""
    from studio.resources import assets_dir

    icon = QIcon()
    for png in sorted((assets_dir() / "icons").glob("studio-*.png")):
        icon.addFile(str(png))
    return icon


def run_app(argv: list[str] | None = None) -> int:
    """Run the app until its window closes; returns the exit code."""
    app, window = create_app(argv)
    window.start_backend_loading()
    QTimer.singleShot(0, lambda: window.offer_recovery() or window.offer_last_project() or window.offer_shortcut())
    return app.exec()
