"""``studio shortcut``: the freedesktop launcher validates, its Exec line starts the studio, and
``--remove`` takes every file away again (XDG_DATA_HOME in a temporary folder)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from studio import cli
from studio.core.integrations.shortcut import APP_ID, MIME_TYPE, exec_line

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop launcher is Linux's")


@pytest.fixture
def data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    return tmp_path / "share"


def entry_values(path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def test_the_launcher_validates_and_its_exec_line_starts_the_studio(data_home, capsys):
    assert cli.main(["shortcut"]) == 0
    desktop = data_home / "applications" / f"{APP_ID}.desktop"
    assert str(desktop.parent) in capsys.readouterr().out
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is missing (Debian: apt-get install desktop-file-utils)")
    checked = subprocess.run([validator, str(desktop)], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and not checked.stdout.strip(), checked.stdout
    values = entry_values(desktop)
    assert values["MimeType"] == f"{MIME_TYPE};" and values["Icon"] == APP_ID
    command = shlex.split(values["Exec"].replace("\\\\", "\\"))
    assert command == [sys.executable, "-m", "studio", "%f"]
    started = subprocess.run([*command[:-1], "--help"], capture_output=True, text=True, timeout=120,
                             env={"PYTHONPATH": str(cli.__file__).rsplit("/studio/", 1)[0], "PATH": "/usr/bin:/bin"})
    assert started.returncode == 0 and "DL Studio" in started.stdout


def test_the_icons_and_the_project_file_type_are_installed_and_removed(data_home, capsys):
    cli.main(["shortcut"])
    for size in (16, 32, 48, 64, 128, 256, 512):
        icon = data_home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert Image.open(icon).size == (size, size)
    mime = (data_home / "mime" / "packages" / f"{APP_ID}.xml").read_text(encoding="utf-8")
    assert f'type="{MIME_TYPE}"' in mime and 'pattern="*.dlstudio"' in mime
    capsys.readouterr()
    assert cli.main(["shortcut", "--remove"]) == 0
    assert "removed 11 launcher file(s)" in capsys.readouterr().out
    assert not [path for path in data_home.rglob("*") if path.is_file() and APP_ID in path.name]
    assert cli.main(["shortcut", "--remove"]) == 0 and "no launcher to remove" in capsys.readouterr().out


def test_exec_quoting_follows_the_desktop_entry_spec():
    assert exec_line(["/usr/bin/python3", "-m", "studio"]) == "/usr/bin/python3 -m studio"
    assert exec_line(["/opt/my env/python"]) == '"/opt/my env/python"'
    assert exec_line(['/a"b$c']) == '"/a\\\\"b\\\\$c"'  # \" and \$ in Exec, each backslash doubled in the file


def test_a_project_file_argument_opens_the_app_with_it(monkeypatch, tmp_path):
    import studio.qt.app
    import studio.qt.system_libs

    opened = []
    monkeypatch.setattr(studio.qt.system_libs, "platform_problem", lambda: None)
    monkeypatch.setattr(studio.qt.app, "run_app", lambda argv: opened.append(argv) or 0)
    project = str(tmp_path / "My Project.dlstudio")
    assert cli.main([project]) == 0
    assert opened == [[sys.argv[0], project]]
