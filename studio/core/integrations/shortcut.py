"""The desktop launcher: DL Studio in the desktop's app menu, with its icon, opening ``.dlstudio`` files.

Linux: a freedesktop entry in ``$XDG_DATA_HOME/applications`` (``Exec=python -m studio %f``,
``MimeType=application/x-dlstudio``), the icon set in the hicolor theme and a shared-mime-info
package declaring ``*.dlstudio``, so double-clicking a project opens it. Windows and macOS: the
Start-menu / Desktop entry made by pyshortcuts (the ``shortcut`` extra). ``remove_shortcut`` takes
away everything ``create_shortcut`` wrote.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from studio.core.integrations.errors import IntegrationError

logger = logging.getLogger(__name__)

APP_ID = "dl-studio"
APP_NAME = "DL Studio"
MIME_TYPE = "application/x-dlstudio"
COMMENT = "Build, train, inspect and export Keras models visually"
MISSING = 'the launcher on this system needs pyshortcuts: pip install "dl-studio[shortcut]"'
_EXEC_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")
MIME_XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<mime-info xmlns="http://www.freedesktop.org/standards/shared-mime-info">
  <mime-type type="{MIME_TYPE}">
    <comment>DL Studio project</comment>
    <glob pattern="*.dlstudio"/>
    <sub-class-of type="application/json"/>
    <icon name="{APP_ID}"/>
  </mime-type>
</mime-info>
"""


def data_home() -> Path:
    """``$XDG_DATA_HOME``, else ``~/.local/share`` (the freedesktop default)."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if os.path.isabs(value) else Path.home() / ".local" / "share"


def exec_line(command: list[str]) -> str:
    """A desktop entry's ``Exec`` value: arguments quoted as the freedesktop spec asks, then the
    string value's own backslash escaping."""
    def quoted(arg: str) -> str:
        if arg and not _EXEC_RESERVED & set(arg):
            return arg
        return '"' + "".join("\\" + c if c in '"`$\\' else c for c in arg) + '"'

    return " ".join(quoted(arg) for arg in command).replace("\\", "\\\\")


def desktop_entry(python: str) -> str:
    """The text of the Linux launcher for ``python -m studio``."""
    return ("[Desktop Entry]\nType=Application\n"
            f"Name={APP_NAME}\nGenericName=Deep-learning studio\nComment={COMMENT}\n"
            f"Exec={exec_line([python, '-m', 'studio'])} %f\nTryExec={python}\nIcon={APP_ID}\nTerminal=false\n"
            f"Categories=Science;ArtificialIntelligence;\nMimeType={MIME_TYPE};\n"
            "Keywords=deep learning;neural network;Keras;machine learning;\nStartupNotify=true\n")


def _linux_files(root: Path) -> dict[Path, Path | str]:
    """Every file of the Linux launcher: target -> icon file to copy or text to write."""
    from studio.resources import assets_dir

    icons = assets_dir() / "icons"
    files: dict[Path, Path | str] = {root / "applications" / f"{APP_ID}.desktop": desktop_entry(sys.executable),
                                     root / "mime" / "packages" / f"{APP_ID}.xml": MIME_XML,
                                     root / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": icons / "studio.svg"}
    for png in sorted(icons.glob("studio-*.png")):
        size = png.stem.split("-")[1]
        files[root / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"] = png
    return files


def create_shortcut() -> list[Path]:
    """Add the launcher for this Python's studio (again: replaced).

    Returns:
        The files written (Linux) or the shortcuts made (Windows, macOS).
    """
    from studio.core.fileio import atomic_copy, atomic_write_text

    if not sys.platform.startswith("linux"):
        return _pyshortcuts_create()
    root = data_home()
    written = []
    try:
        for target, source in _linux_files(root).items():
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(source, Path):
                atomic_copy(source, target)
            else:
                atomic_write_text(target, source)
            written.append(target)
    except OSError as exc:
        raise IntegrationError(f"cannot write the launcher under {root}: {exc.strerror or exc}") from None
    _refresh_databases(root)
    return written


def remove_shortcut() -> list[Path]:
    """Take the launcher away again.

    Returns:
        The files removed (none when there was no launcher).
    """
    if not sys.platform.startswith("linux"):
        return _pyshortcuts_remove()
    root = data_home()
    removed = []
    for target in _linux_files(root):
        if target.is_file():
            target.unlink()
            removed.append(target)
    if removed:
        _refresh_databases(root)
    return removed


def _refresh_databases(root: Path) -> None:
    """Let the desktop read the new MIME type and launcher now (best effort: the tools are optional)."""
    import subprocess

    from studio.core import processes

    for tool, folder in (("update-mime-database", root / "mime"), ("update-desktop-database", root / "applications")):
        if shutil.which(tool) and folder.is_dir():
            try:
                processes.run(processes.program(tool, folder), timeout=60)
            except (OSError, subprocess.TimeoutExpired) as exc:
                logger.warning("%s failed: %s", tool, exc)


def _pyshortcuts_paths() -> list[Path]:
    try:
        from pyshortcuts import get_folders
        from pyshortcuts.shortcut import shortcut
    except ImportError:
        raise IntegrationError(MISSING) from None
    made = shortcut("_ -m studio", get_folders(), name=APP_NAME, description=COMMENT)
    return [Path(made.desktop_dir) / made.target, Path(made.startmenu_dir) / made.target]


def _pyshortcuts_create() -> list[Path]:
    from studio.resources import assets_dir

    try:
        from pyshortcuts import make_shortcut
    except ImportError:
        raise IntegrationError(MISSING) from None
    icon = assets_dir() / "icons" / ("studio.ico" if sys.platform == "win32" else "studio.icns")
    make_shortcut("_ -m studio", name=APP_NAME, description=COMMENT, icon=str(icon), terminal=False)
    return [path for path in _pyshortcuts_paths() if path.exists()]


def _pyshortcuts_remove() -> list[Path]:
    removed = []
    for path in _pyshortcuts_paths():
        if path.is_dir():
            shutil.rmtree(path)
            removed.append(path)
        elif path.exists():
            path.unlink()
            removed.append(path)
    return removed
