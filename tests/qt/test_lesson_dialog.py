"""Help > Lessons > "Learning with less data…": the lesson runs in a child process whose output the
dialog follows live; its figures are the rows the lesson function returns; Cancel ends the child."""

import dataclasses
import json
import os
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.core.training.runs import pid_alive
from studio.qt.experiments import lesson_dialog
from studio.qt.experiments.lesson_dialog import LessonDialog

FAKE_LESSON = textwrap.dedent("""
    import sys
    import time
    from pathlib import Path

    def run_lesson(runs_root, **options):
        mode = Path(__file__).with_suffix(".mode").read_text()
        print("options:", *(f"{name}={value}" for name, value in options.items()), "runs_root=" + runs_root, flush=True)
        for noise in ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
                      "I0000 00:00:1796601525.408192   17388 port.cc:153] oneDNN custom operations are on.",
                      "E0000 00:00:1796601531.448877   17388 cuda_platform.cc:52] failed call to cuInit: INTERNAL"):
            print(noise, file=sys.stderr, flush=True)  # what TensorFlow's native code logs on a CPU machine
        print("training transferred ...", flush=True)
        if mode == "hang":
            time.sleep(120)
        if mode == "fail":
            raise ValueError("backbone builtin:digits_cnn_28 is missing; reinstall dl-studio")
        print("from_scratch: test accuracy 25.0%", flush=True)
        return [{"name": "transferred", "accuracy": 0.8125, "run_dir": runs_root + "/lesson-transferred"},
                {"name": "from_scratch", "accuracy": 0.25, "run_dir": runs_root + "/lesson-from_scratch"}]
""")


@pytest.fixture(autouse=True)
def runs_root(window, tmp_path, monkeypatch):
    """The window's runs folder in the test's folder (not the app data folder)."""
    monkeypatch.setattr(window, "runs_root", lambda: tmp_path / "runs")
    return tmp_path / "runs"


@pytest.fixture
def fake_lesson(tmp_path, monkeypatch):
    """The lesson function replaced by a tiny one; write its mode (ok, hang, fail) to ``.mode``."""
    (tmp_path / "fake_lesson.py").write_text(FAKE_LESSON)
    mode = tmp_path / "fake_lesson.mode"
    mode.write_text("ok")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.setitem(lesson_dialog.LESSONS, "transfer",
                        dataclasses.replace(lesson_dialog.LESSONS["transfer"], function="fake_lesson:run_lesson"))
    return mode


def open_from_menu(window) -> LessonDialog:
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    lessons = next(a.menu() for a in help_menu.actions() if a.text() == "&Lessons")
    next(a for a in lessons.actions() if a.text() == "Learning with Less &Data…").trigger()
    dialog = window.findChild(LessonDialog)
    assert dialog.isVisible() and not dialog.isModal()
    return dialog


def type_into(qtbot, editor, text: str) -> None:
    field = editor.input
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def set_smallest(qtbot, dialog) -> None:
    type_into(qtbot, dialog.editors["fraction"], "0.05")
    type_into(qtbot, dialog.editors["epochs"], "2")
    type_into(qtbot, dialog.editors["fine_tune_epochs"], "1")
    type_into(qtbot, dialog.editors["contrastive_epochs"], "1")


def test_the_lesson_runs_in_a_child_shows_its_progress_and_figures_and_overlays_its_runs(window, qtbot, fake_lesson):
    dialog = open_from_menu(window)
    assert dialog.runs_root == window.runs_root() and dialog.options()["epochs"] == 40  # the CLI's defaults
    assert "progress shows here" in dialog.log.placeholderText()  # the empty pane says what it is for
    type_into(qtbot, dialog.editors["fraction"], "0.9")
    assert not dialog.start_button.isEnabled() and "fraction must be at most 0.5" in dialog.status.text()
    set_smallest(qtbot, dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert not dialog.start_button.isEnabled() and dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.table.isVisible(), timeout=10000)
    lines = dialog.log.toPlainText().splitlines()
    assert lines[0] == ("options: fraction=0.05 epochs=2 fine_tune_epochs=1 contrastive_epochs=1 "
                        f"runs_root={window.runs_root()}")  # the core function, called with the options
    assert lines[1:] == ["training transferred ...", "from_scratch: test accuracy 25.0%"]  # no native log noise
    cells = [[dialog.table.item(row, column).text() for column in range(2)] for row in range(dialog.table.rowCount())]
    assert cells == [["transferred", "81.2%"], ["from_scratch", "25.0%"]]
    table = dialog.table  # as tall as its rows, no empty pane under them
    assert table.viewport().height() == sum(table.rowHeight(row) for row in range(2))
    assert dialog.log.height() > table.height()
    assert dialog.start_button.isEnabled() and not dialog.cancel_button.isEnabled()

    qtbot.mouseClick(dialog.overlay_button, Qt.MouseButton.LeftButton)
    panel = window.area_widget("Train")
    assert window.current_area == "Train" and panel.tabs.currentWidget() is panel.runs_view
    assert panel.runs_view._keep_selected == [str(window.runs_root() / "lesson-transferred"),
                                              str(window.runs_root() / "lesson-from_scratch")]
    dialog.close()


def test_cancel_ends_the_child_and_start_runs_again(window, qtbot, fake_lesson):
    fake_lesson.write_text("hang")
    dialog = open_from_menu(window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "training transferred ..." in dialog.log.toPlainText(), timeout=10000)
    pid = dialog.process.pid
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert not pid_alive(pid)
    assert dialog.status.text().startswith("Cancelled") and dialog.start_button.isEnabled()
    assert not dialog.table.isVisible() and not dialog.overlay_button.isEnabled()

    fake_lesson.write_text("ok")
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.isVisible(), timeout=10000)
    assert dialog.log.toPlainText().count("training transferred") == 1  # the new run's output only
    dialog.close()


def test_a_failing_lesson_shows_its_error_line_and_what_to_do(window, qtbot, fake_lesson):
    fake_lesson.write_text("fail")
    dialog = open_from_menu(window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=10000)
    assert dialog.status.text().startswith(
        "The lesson failed: backbone builtin:digits_cnn_28 is missing; reinstall dl-studio\n")
    assert "press Start again" in dialog.status.text() and not dialog.table.isVisible()
    dialog.close()


def test_closing_the_dialog_ends_a_running_lesson(window, qtbot, fake_lesson):
    fake_lesson.write_text("hang")
    dialog = open_from_menu(window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    process = dialog.process
    dialog.close()
    assert process.poll() is not None


@pytest.mark.slow
def test_the_real_lesson_end_to_end_with_tiny_settings(window, qtbot):
    dialog = open_from_menu(window)
    set_smallest(qtbot, dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.start_button.isEnabled(), timeout=600_000)  # its end shown
    assert dialog.table.isVisible(), dialog.status.text()
    names = [dialog.table.item(row, 0).text() for row in range(dialog.table.rowCount())]
    assert names == ["transferred", "self_supervised", "from_scratch"]
    for row in range(3):
        assert 0.0 <= float(dialog.table.item(row, 1).text().rstrip("%")) <= 100.0
    assert all(Path(run_dir).parent == window.runs_root() and Path(run_dir).is_dir() for run_dir in dialog.run_dirs)
    assert "training from_scratch" in dialog.log.toPlainText()
    assert [row["name"] for row in json.loads((dialog.folder / lesson_dialog.RESULT_FILE).read_text())] == names
    dialog.close()
