"""`studio` names the exact system libraries Qt's X11 plugin lacks, with the apt line to fix it."""

import os
import subprocess
import sys

from studio.qt.system_libs import debian_package, missing_libraries, platform_problem


def fake_ldd(folder, missing):
    script = folder / "ldd"
    lines = "".join(f'echo "\t{name} => not found"\n' for name in missing)
    script.write_text("#!/bin/sh\necho \"\tlibc.so.6 => /lib/libc.so.6 (0x0)\"\n" + lines)
    script.chmod(0o755)
    return folder


def test_debian_package_names_follow_the_soname():
    assert debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert debian_package("libxcb-keysyms.so.1") == "libxcb-keysyms1"
    assert debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert debian_package("libEGL.so.1") == "libegl1"
    assert debian_package("libdbus-1.so.3") == "libdbus-1-3"


def test_missing_libraries_reads_ldd(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", f"{fake_ldd(tmp_path, ['libxcb-keysyms.so.1', 'libxcb-icccm.so.4'])}")
    assert missing_libraries([tmp_path / "plugin.so"]) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_no_problem_offscreen_or_wayland():
    assert platform_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert platform_problem({"WAYLAND_DISPLAY": "wayland-0"}) is None
    assert "DISPLAY is not set" in platform_problem({})


def test_studio_prints_the_exact_apt_line_instead_of_aborting(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=":97", PATH=f"{fake_ldd(tmp_path, ['libxcb-icccm.so.4', 'libxcb-keysyms.so.1'])}")
    result = subprocess.run([sys.executable, "-c", "import sys, studio.cli; sys.exit(studio.cli.main([]))"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in result.stderr
    assert "Traceback" not in result.stderr
