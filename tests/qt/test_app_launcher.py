"""The app's icon set and its one-time offer of the desktop launcher (`studio shortcut`)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QMessageBox


def test_the_app_icon_has_every_size():
    from studio.qt.app import app_icon

    sizes = app_icon().availableSizes()
    assert {QSize(n, n) for n in (16, 24, 32, 48, 64, 128, 256, 512)} <= set(sizes)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the freedesktop launcher is Linux's")
def test_the_launcher_is_offered_once_and_made_when_accepted(window, dialogs, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert window.offer_shortcut()
    assert (tmp_path / "share" / "applications" / "dl-studio.desktop").is_file()
    assert len(dialogs.questions) == 1 and "app menu" in dialogs.questions[0]
    assert not window.offer_shortcut() and len(dialogs.questions) == 1  # never asked again
    assert "now in the app menu" in window.statusBar().currentMessage()


def test_a_declined_offer_writes_nothing(window, dialogs, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    dialogs.answer = QMessageBox.StandardButton.No
    assert not window.offer_shortcut() and not (tmp_path / "share").exists()
    assert not window.offer_shortcut() and len(dialogs.questions) == 1
