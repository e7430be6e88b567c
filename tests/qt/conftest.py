"""GUI test set-up: offscreen Qt, isolated settings, data folder and recovery file, no blocking message boxes."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QPointF, QSettings  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from studio.core.graph.model import Graph  # noqa: E402
from studio.core.project import Project  # noqa: E402
from studio.qt import settings  # noqa: E402


class Dialogs:
    """Records message boxes instead of showing them; ``answer`` is what question() returns."""

    def __init__(self):
        self.warnings: list[str] = []
        self.questions: list[str] = []
        self.answer = QMessageBox.StandardButton.Discard

    def warning(self, parent, title, text, *args, **kwargs):
        self.warnings.append(text)
        return QMessageBox.StandardButton.Ok

    def question(self, parent, title, text, *args, **kwargs):
        self.questions.append(text)
        return self.answer


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, qapp):
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "settings"))
    monkeypatch.setattr(settings, "recovery_path", lambda: tmp_path / "recovery.dlstudio")
    monkeypatch.setattr(settings, "data_folder", lambda: tmp_path / "data")  # unsaved projects' runs, logs
    dialogs = Dialogs()
    monkeypatch.setattr(QMessageBox, "warning", dialogs.warning)
    monkeypatch.setattr(QMessageBox, "question", dialogs.question)
    return dialogs


@pytest.fixture
def dialogs(isolated):
    return isolated


@pytest.fixture
def window(qtbot):
    from studio.qt.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    return win


def chain_project(*types: str, name: str = "test") -> Project:
    """A project whose graph is ``Input -> types...`` (a 28x28x1 image input)."""
    graph = Graph()
    previous = graph.add_node("Input", {"shape": [28, 28, 1]}, name="input")
    for layer_type in types:
        node = graph.add_node(layer_type)
        graph.connect(previous.id, node.id)
        previous = node
    return Project(name=name, graph=graph)


def view_point(view, scene_point) -> QPoint:
    """Viewport coordinates of a scene point (where a real mouse would be)."""
    return view.mapFromScene(QPointF(scene_point))
