"""Help > Lessons > "Detection, the R-CNN way…": the lesson's function runs in a child and its rows fill
the table with mAP and milliseconds per image."""

import dataclasses
import os
import textwrap

from PySide6.QtCore import Qt

from studio.qt.experiments import lesson_dialog
from studio.qt.experiments.lesson_dialog import LessonDialog

FAKE_LESSON = textwrap.dedent("""
    def run_lesson(runs_root, **options):
        print("options:", *(f"{name}={value}" for name, value in sorted(options.items())), flush=True)
        return [{"name": "two-stage (R-CNN idea)", "map50": 0.61, "map": 0.25, "ms_per_image": 512.25,
                 "run_dir": runs_root + "/lesson-rcnn-classifier"},
                {"name": "one-stage (detector_64)", "map50": 0.947, "map": 0.7355, "ms_per_image": 21.5,
                 "run_dir": runs_root + "/lesson-one-stage"}]
""")


def test_the_rcnn_lesson_shows_both_detectors_scores(window, qtbot, tmp_path, monkeypatch):
    (tmp_path / "fake_rcnn.py").write_text(FAKE_LESSON)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])))
    monkeypatch.setitem(lesson_dialog.LESSONS, "rcnn",
                        dataclasses.replace(lesson_dialog.LESSONS["rcnn"], function="fake_rcnn:run_lesson"))
    monkeypatch.setattr(window, "runs_root", lambda: tmp_path / "runs")
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    lessons = next(a.menu() for a in help_menu.actions() if a.text() == "&Lessons")
    next(a for a in lessons.actions() if a.text() == "Detection, the &R-CNN Way…").trigger()
    dialog = window.findChild(LessonDialog)
    assert dialog.windowTitle() == "Detection, the R-CNN way" and dialog.options()["stride"] == 4
    qtbot.mouseClick(dialog.quick_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.table.isVisible(), timeout=10000)
    assert dialog.log.toPlainText().splitlines()[0] == "options: classifier_epochs=3 count=300 epochs=6 stride=6"
    headers = [dialog.table.horizontalHeaderItem(c).text() for c in range(dialog.table.columnCount())]
    assert headers == ["Run", "mAP@0.5", "mAP@[.5:.95]", "ms/image"]
    cells = [[dialog.table.item(row, c).text() for c in range(4)] for row in range(2)]
    assert cells == [["two-stage (R-CNN idea)", "0.610", "0.250", "512.2"],
                     ["one-stage (detector_64)", "0.947", "0.736", "21.5"]]
    assert "rcnn_lesson.png" in dialog.status.text()
    table = dialog.table  # each run's name is read whole, not cut to "one-stage ..."
    assert table.columnWidth(0) >= table.sizeHintForColumn(0) > table.fontMetrics().horizontalAdvance(cells[1][0])
    dialog.close()
