"""Augment panel: steps editing with undo, live seeded preview, reshuffle."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtTest import QTest

from studio.core.project import Project

SHAPES = {"source": "shapes", "image_size": 16, "count": 12, "classes": ["circle", "square"], "seed": 0,
          "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
STEPS = [{"type": "brightness", "factor": 0.1}, {"type": "rotation", "factor": 0.05, "fill_mode": "constant"}]


@pytest.fixture
def panel(window, qtbot):
    window.document.set_project(Project(name="aug", dataset=dict(SHAPES), augmentation=[dict(s) for s in STEPS],
                                        training={"seed": 3, "batch_size": 8}))
    window.show_area("Augment")
    panel = window.area_widget("Augment")
    qtbot.waitUntil(lambda: panel.preview is not None, timeout=60_000)
    return panel


def next_preview(panel, qtbot, old):
    qtbot.waitUntil(lambda: panel.preview is not None and panel.preview is not old and not panel.worker.busy,
                    timeout=20_000)
    return panel.preview


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_value_change_updates_preview_and_same_seed_gives_same_images(panel, window, qtbot):
    doc = window.document
    first = panel.preview
    assert panel.seed_box.value() == 3 and first.augmented.shape == (16, 16, 16, 1)
    assert panel.augmented_grid.count == 16 and not np.array_equal(first.original, first.augmented)
    original_pixels = panel.original_grid.pixels.copy()
    augmented_pixels = panel.augmented_grid.pixels.copy()

    panel.steps_list.setCurrentRow(0)
    editor = panel.editors["factor"]
    editor.slider.setValue(editor.slider.maximum())  # brightness factor 1.0: much larger shifts
    assert doc.project.augmentation[0]["factor"] == 1.0
    changed = next_preview(panel, qtbot, first)
    assert np.array_equal(changed.original, first.original)  # same seed: same samples
    assert not np.array_equal(panel.augmented_grid.pixels, augmented_pixels)

    doc.undo_stack.undo()  # back to factor 0.1 with the same seed: exactly the first preview again
    assert doc.project.augmentation == STEPS and editor.current_value() == pytest.approx(0.1)
    next_preview(panel, qtbot, changed)
    assert np.array_equal(panel.augmented_grid.pixels, augmented_pixels)
    assert np.array_equal(panel.original_grid.pixels, original_pixels)

    before = panel.preview
    click(qtbot, panel.reshuffle_button)
    assert panel.seed_box.value() != 3
    next_preview(panel, qtbot, before)
    assert not np.array_equal(panel.original_grid.pixels, original_pixels)


def test_add_remove_reorder_steps_with_undo(panel, window, qtbot):
    doc = window.document
    panel.steps_list.setCurrentRow(1)
    panel.add_step("random_erasing")
    assert [s["type"] for s in doc.project.augmentation] == ["brightness", "rotation", "random_erasing"]
    assert panel.steps_list.currentRow() == 2 and set(panel.editors) == {"probability", "max_area"}
    assert "Blanks out" in panel.step_help.text() and panel.editors["probability"].toolTip()

    click(qtbot, panel.up_button)
    click(qtbot, panel.up_button)
    assert [s["type"] for s in doc.project.augmentation] == ["random_erasing", "brightness", "rotation"]
    assert panel.steps_list.currentRow() == 0 and panel.steps_list.item(0).text().startswith("1.  Random erasing")
    assert not panel.up_button.isEnabled()

    panel.steps_list.setCurrentRow(2)
    click(qtbot, panel.remove_button)
    assert [s["type"] for s in doc.project.augmentation] == ["random_erasing", "brightness"]
    for _ in range(4):
        doc.undo_stack.undo()
    assert doc.project.augmentation == STEPS
    assert [panel.steps_list.item(i).text()[:14] for i in range(2)] == ["1.  Brightness", "2.  Rotation ·"]
    doc.undo_stack.redo()
    assert panel.steps_list.count() == 3


def test_steps_on_a_table_explain_why_there_is_no_preview(panel, window, qtbot):
    window.document.set_project(Project(name="points", dataset={"source": "toy", "name": "xor", "samples": 40},
                                        augmentation=[{"type": "gaussian_noise"}]))
    qtbot.waitUntil(lambda: panel.status.isVisible(), timeout=20_000)
    assert "shape (2)" in panel.status.text() and panel.augmented_grid.count == 0
    assert panel.steps_list.count() == 1 and "Gaussian noise" in panel.steps_list.item(0).text()


def test_dragging_a_step_reorders_the_project_steps(panel, window, qtbot):
    from PySide6.QtCore import QModelIndex

    model = panel.steps_list.model()
    panel.steps_list.setCurrentRow(1)
    assert model.moveRow(QModelIndex(), 1, QModelIndex(), 0)  # what an internal drag-and-drop move does
    qtbot.waitUntil(lambda: window.document.project.augmentation[0]["type"] == "rotation", timeout=2_000)
    assert panel.steps_list.item(0).text().startswith("1.  Rotation")
    window.document.undo_stack.undo()
    assert window.document.project.augmentation == STEPS


def test_batch_size_typed_in_the_train_panel_refreshes_the_mixup_preview(panel, window, qtbot):
    """MixUp pairs samples within a batch, so its preview depends on the Train panel's batch size."""
    from studio.qt.augment.panel import compute_preview

    doc = window.document
    panel.add_step("mixup")
    before = next_preview(panel, qtbot, panel.preview)
    window.show_area("Train")
    box = window.area_widget("Train").form.editors["batch_size"].box
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(box, "4")
    assert doc.project.training["batch_size"] == 4

    after = next_preview(panel, qtbot, before)
    expected = compute_preview(doc.project.dataset, panel.steps(), panel.seed_box.value(), 0, 4)
    assert np.array_equal(after.augmented, expected.augmented)
    assert not np.array_equal(after.augmented, before.augmented)
    doc.undo_stack.undo()
    assert doc.project.training["batch_size"] == 8 and box.value() == 8
    next_preview(panel, qtbot, after)
    assert np.array_equal(panel.preview.augmented, before.augmented)


def test_undo_on_the_canvas_shows_the_augment_step_it_undoes(panel, window, qtbot):
    doc = window.document
    panel.steps_list.setCurrentRow(1)
    click(qtbot, panel.up_button)
    assert [s["type"] for s in doc.project.augmentation] == ["rotation", "brightness"]
    window.show_area("Model")
    window.activateWindow()
    window.model_area.view.setFocus()
    qtbot.keyClick(window.model_area.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [s["type"] for s in doc.project.augmentation] == ["brightness", "rotation"]
    assert window.current_area == "Augment" and "in the Augment area" in window.statusBar().currentMessage()
    QTest.keySequence(window, QKeySequence(QKeySequence.StandardKey.Redo))
    assert [s["type"] for s in doc.project.augmentation] == ["rotation", "brightness"]
    assert window.current_area == "Augment"


def test_without_steps_the_augmented_pane_says_its_images_are_the_same(panel, window, qtbot):
    assert panel.augmented_group.title() == "Augmented"
    for row in (1, 0):  # remove both steps, as a user would
        panel.steps_list.setCurrentRow(row)
        old = panel.preview
        click(qtbot, panel.remove_button)
        next_preview(panel, qtbot, old)
    assert window.document.project.augmentation == []
    assert "no step yet" in panel.augmented_group.title()
    assert np.array_equal(panel.preview.original, panel.preview.augmented)
    old = panel.preview
    window.document.undo_stack.undo()
    next_preview(panel, qtbot, old)
    assert panel.augmented_group.title() == "Augmented"
