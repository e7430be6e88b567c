"""Where the app keeps its preferences (QSettings), its crash-recovery file, its log and the runs
of projects never saved (the per-user data folder, ``data_folder``)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORGANIZATION = "DL Studio"
APPLICATION = "DL Studio"
MAX_RECENT = 8
THEMES = ("system", "light", "dark")  # View > Theme

logger = logging.getLogger(__name__)


def app_settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def data_folder() -> Path:
    """The per-user data folder, e.g. ``~/.local/share/DL Studio`` (Qt's AppDataLocation names the
    organization and the application, both "DL Studio": the doubled last part is dropped)."""
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    return folder.parent if (folder.parent.name, folder.name) == (ORGANIZATION, APPLICATION) else folder


def move_doubled_data_folder() -> None:
    """Move what older versions kept in ``<data folder>/DL Studio`` (runs, recovery file, log) up into
    the data folder; an entry already there is kept and the old one left in place (and logged)."""
    folder = data_folder()
    old = folder / APPLICATION
    if not old.is_dir():
        return
    for entry in sorted(old.iterdir()):
        target = folder / entry.name
        if entry.is_dir() and target.is_dir():  # e.g. runs/: move the folders it holds one by one
            for child in sorted(entry.iterdir()):
                _move(child, target / child.name)
        else:
            _move(entry, target)
        if entry.is_dir() and not any(entry.iterdir()):
            entry.rmdir()
    if not any(old.iterdir()):
        old.rmdir()


def _move(source: Path, target: Path) -> None:
    if target.exists():
        logger.warning("kept %s: %s already exists", source, target)
        return
    try:
        shutil.move(source, target)
    except OSError as exc:
        logger.warning("cannot move %s to %s: %s", source, target, exc)


def recovery_path() -> Path:
    """The autosave file offered back after a crash (in the per-user data folder)."""
    folder = data_folder()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "recovery.dlstudio"


def log_path() -> Path:
    """The app's rotating log file (Help > Show Log), in the per-user data folder."""
    return data_folder() / "logs" / "studio.log"


def recent_projects() -> list[str]:
    value = app_settings().value("recent_projects", [])
    return [str(v) for v in (value if isinstance(value, list) else [value] if value else [])]


def remember_project(path: str) -> None:
    recent = [path] + [p for p in recent_projects() if p != path]
    app_settings().setValue("recent_projects", recent[:MAX_RECENT])


def theme_choice() -> str:
    """The View > Theme choice: "system" (follow the platform), "light" or "dark"."""
    value = str(app_settings().value("view/theme", "system"))
    return value if value in THEMES else "system"


def set_theme_choice(choice: str) -> None:
    app_settings().setValue("view/theme", choice if choice in THEMES else "system")


def take_shortcut_offer() -> bool:
    """True the first time only: the app offers the desktop launcher once per user."""
    store = app_settings()
    if store.value("shortcut_offered", False, type=bool):
        return False
    store.setValue("shortcut_offered", True)
    return True
