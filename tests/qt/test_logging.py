"""The app's log: a task failing unexpectedly leaves its traceback in the log file and the shown line
names that file; our own errors are not logged as crashes; Help > Show Log opens the file."""

import logging

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMenu

from studio.core.graph.model import GraphError
from studio.core.logs import log_to_file
from studio.qt import settings
from studio.qt.widgets.worker import TaskRunner


@pytest.fixture
def log(tmp_path, monkeypatch):
    path = log_to_file(tmp_path / "logs" / "studio.log")
    monkeypatch.setattr(settings, "log_path", lambda: path)
    yield path
    logger = logging.getLogger("studio")
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)


def broken_loader():
    return {}["weights"]


def run_failing(qtbot, function) -> str:
    runner = TaskRunner()
    messages = []
    runner.submit("load", function, lambda _result: None, messages.append)
    qtbot.waitUntil(lambda: bool(messages), timeout=5000)
    return messages[0]


def test_an_unexpected_task_failure_is_logged_with_its_traceback_and_the_line_names_the_log(qtbot, log):
    message = run_failing(qtbot, broken_loader)
    assert message == f"KeyError: 'weights' (details in {log})"
    text = log.read_text()
    assert "ERROR studio.qt.widgets.worker" in text and "task 'load' failed" in text
    assert "Traceback (most recent call last)" in text and "in broken_loader" in text


def test_our_own_errors_are_shown_as_they_are_and_not_logged(qtbot, log):
    def refuse():
        raise GraphError("the graph has no Input")

    assert run_failing(qtbot, refuse) == "the graph has no Input"
    assert "Traceback" not in log.read_text()


def test_help_show_log_opens_the_log_file(window, qtbot, log, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    bar = window.menuBar()
    help_action = next(action for action in bar.actions() if action.text() == "&Help")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.actionGeometry(help_action).center())
    menu = help_action.menu()
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    show_log = next(action for action in menu.actions() if action.text() == "Show &Log")
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(show_log).center())
    qtbot.waitUntil(lambda: bool(opened), timeout=5000)
    assert opened[0].toLocalFile() == str(log)
    assert not any(m.isVisible() for m in window.findChildren(QMenu))


def test_a_panel_that_fails_to_load_is_logged_and_its_placeholder_names_the_log(window, log, tmp_path, monkeypatch):
    from studio.qt import panels

    (tmp_path / "broken_area_panel.py").write_text("raise RuntimeError('half-installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(panels, "module_name", lambda area: "broken_area_panel")
    label = panels.create_panel("Export", window)
    assert "RuntimeError: half-installed" in label.text() and f"Details: {log}" in label.text()
    assert "the Export panel could not be loaded" in log.read_text() and "Traceback" in log.read_text()
