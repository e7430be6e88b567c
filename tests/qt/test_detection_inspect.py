"""The Inspect area on a detection run: COCO scores per class, a class's worst images on a click, boxes in
Predict; the Data and Augment previews draw the boxes."""

import numpy as np
import pytest
from PySide6.QtCore import Qt

from run_helpers import completed_run
from studio.core.graph.templates import load_template
from studio.core.project import Project

pytest.importorskip("pycocotools")

WAIT_MS = 30_000
SCENES = {"source": "shape_scenes", "count": 24, "seed": 0}
GREEN = (40, 200, 40)


def _window(qtbot, tmp_path, augmentation=None):
    from studio.qt.main_window import MainWindow

    graph = load_template("detector_64").graph
    project = Project(name="det", dataset=SCENES, graph=graph, augmentation=augmentation or [])
    completed_run(tmp_path, "det", project)
    window = MainWindow(project, tmp_path / "det.dlstudio")
    qtbot.addWidget(window)
    window.show()
    return window


def _has_green(image, tolerant: bool = False) -> bool:
    """Whether ``image`` has a pixel of the true boxes' green (``tolerant``: greenish, as a shrunk line)."""
    step = 1 if tolerant else 2
    pixels = [image.pixelColor(x, y).getRgb()[:3] for x in range(0, image.width(), step)
              for y in range(0, image.height(), step)]
    if tolerant:
        return any(g - max(r, b) > 50 for r, g, b in pixels)
    return GREEN in pixels


def test_evaluation_lists_a_class_worst_images_on_a_click_and_predict_draws_boxes(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    thumbnail = panel.thumbnail.image  # the test sample beside the tabs has its true boxes drawn, as in Data
    assert thumbnail.width() == 128  # the 64-pixel scene drawn at twice its size
    pixels = [thumbnail.pixelColor(x, y) for x in range(0, 128, 2) for y in range(128)]
    assert any(c.red() != c.green() or c.green() != c.blue() for c in pixels)
    panel.tabs.setCurrentWidget(panel.evaluation)
    evaluation = panel.evaluation
    qtbot.waitUntil(lambda: evaluation.report is not None, timeout=WAIT_MS)
    table = evaluation.table
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == ["class", "AP@0.5", "AP@[.5:.95]"]
    assert [table.item(r, 0).text() for r in range(5)] == ["circle", "square", "triangle", "cross",
                                                           "all classes (mean)"]
    assert "mAP@0.5" in evaluation.message.text()

    row = int(np.argmax(evaluation.report.mistakes.sum(axis=1)))  # an untrained detector misses boxes
    cell = table.visualItemRect(table.item(row, 0)).center()
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    assert evaluation.gallery.count() > 0
    assert evaluation.gallery.indices() == evaluation.report.worst_images(row, 32)
    assert evaluation.report.class_names[row] in evaluation.gallery_title.text()
    assert not evaluation.mistakes.isVisible()  # no blank button: detection lists its samples per row
    icon = evaluation.gallery.item(0).icon().pixmap(evaluation.gallery.iconSize()).toImage()
    assert icon.width() == 128 and _has_green(icon, tolerant=True)  # the true boxes survive the shrinking

    predict = panel.prediction
    panel.tabs.setCurrentWidget(predict)
    qtbot.waitUntil(lambda: predict.result is not None, timeout=WAIT_MS)
    assert predict.overlay.image is not None and _has_green(predict.overlay.image)
    assert "true boxes in green" in predict.message.text() and len(predict.bars.bar_values) == 4


def test_the_augment_preview_draws_the_moved_boxes(qtbot, tmp_path):
    window = _window(qtbot, tmp_path, [{"type": "flip", "mode": "horizontal"}])
    window.show_area("Augment")
    panel = window.area_widget("Augment")
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=WAIT_MS)
    preview = panel.preview
    assert preview.original.dtype == np.uint8 and preview.original.shape[1:] == (128, 128, 3)
    assert "object" in preview.original_captions[0]
    assert not np.array_equal(preview.original, preview.augmented)
    boxed = (preview.augmented.max(axis=-1) != preview.augmented.min(axis=-1)).any(axis=(1, 2))
    assert boxed.all()  # every scene has a shape, and its box is drawn in colour on the grey image


def test_the_data_panel_draws_each_scene_with_its_boxes(qtbot, tmp_path):
    window = _window(qtbot, tmp_path)
    window.show_area("Data")
    panel = window.area_widget("Data")
    qtbot.waitUntil(lambda: panel.grid.count > 0, timeout=WAIT_MS)
    pixels = panel.grid.pixels
    assert pixels.shape[1:] == (128, 128, 3) and all("object" in caption for caption in panel.grid.captions)
    assert (pixels.max(axis=-1) != pixels.min(axis=-1)).any(axis=(1, 2)).all()  # coloured boxes on grey scenes
