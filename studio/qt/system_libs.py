"""Before Qt starts on Linux: name the system libraries its X11 plugin lacks, and the apt line.

Qt aborts the process when its platform plugin cannot load, with a hint that names one library
(often not the missing one). ``ldd`` on the plugin tells exactly which shared objects are absent.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from studio.core import processes

_NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.MULTILINE)


def debian_package(soname: str) -> str:
    """``libxcb-icccm.so.4`` -> ``libxcb-icccm4``; ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0``
    (Debian names a library package after its soname, with a hyphen when the name ends in a digit)."""
    name, _, version = soname.partition(".so.")
    name = name.lower()
    major = version.split(".")[0]
    return f"{name}-{major}" if name[-1:].isdigit() else f"{name}{major}"


def _xcb_binaries() -> list[Path]:
    import PySide6  # the package only: no Qt library is loaded by this import

    qt = Path(PySide6.__file__).parent / "Qt"
    return [p for p in (qt / "plugins" / "platforms" / "libqxcb.so", qt / "lib" / "libQt6XcbQpa.so.6")
            if p.exists()]


def missing_libraries(binaries: list[Path]) -> list[str]:
    """Sonames that ``ldd`` reports as not found for any of ``binaries`` (sorted, unique)."""
    ldd = shutil.which("ldd")
    if not ldd:
        return []
    missing: set[str] = set()
    for binary in binaries:
        try:
            out = processes.run(processes.program(ldd, binary), timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            continue
        missing.update(_NOT_FOUND.findall(out))
    return sorted(missing)


def platform_problem(environ: dict | None = None) -> str | None:
    """Why Qt's window system will not start here, as a message with the fix; None when it will
    (or when this is not Linux, or a non-X11 platform is chosen)."""
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux"):
        return None
    platform = env.get("QT_QPA_PLATFORM", "")
    if platform and not platform.startswith("xcb"):
        return None
    if not platform and env.get("WAYLAND_DISPLAY"):
        return None
    if not env.get("DISPLAY"):
        return ("no display found (DISPLAY is not set): run studio on a desktop session, or set "
                "QT_QPA_PLATFORM=offscreen to run without a screen")
    missing = missing_libraries(_xcb_binaries())
    if not missing:
        return None
    packages = " ".join(dict.fromkeys(debian_package(name) for name in missing))
    return (f"Qt cannot start its X11 platform plugin: missing system libraries {', '.join(missing)}. "
            f"On Debian/Ubuntu install them with: sudo apt-get install {packages}")
