"""Where the app keeps its preferences (QSettings), its crash-recovery file and its log."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths

ORGANIZATION = "DL Studio"
APPLICATION = "DL Studio"
MAX_RECENT = 8
THEMES = ("system", "light", "dark")  # View > Theme


def app_settings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def recovery_path() -> Path:
    """The autosave file offered back after a crash (in the per-user app data folder)."""
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "recovery.dlstudio"


def log_path() -> Path:
    """The app's rotating log file (Help > Show Log), in the per-user app data folder."""
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation))
    return folder / "logs" / "studio.log"


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
