"""The XOR lab's by-hand mode: the preset solves XOR, and moving one weight moves the boundary."""

import numpy as np
from PySide6.QtCore import Qt

from studio.core.inspect.by_hand import CORNERS, EXTENT, XOR


def corner_classes(boundary) -> list[int]:
    """The predicted class on the grid cells at the four corners of the truth table."""
    size = boundary.classes.shape[0]
    cell = lambda value, low, high: round((value - low) / (high - low) * (size - 1))  # noqa: E731
    return [int(boundary.classes[cell(y, *EXTENT[2:]), cell(x, *EXTENT[:2])]) for x, y in CORNERS]


def test_the_preset_solves_xor_and_a_moved_weight_breaks_it(window, qtbot):
    window.show_area("Inspect")
    tab = window.area_widget("Inspect").boundary
    window.area_widget("Inspect").tabs.setCurrentWidget(tab)
    assert not tab.showing.isEnabled() and not tab.epoch.isEnabled()  # no 2-input model: nothing to pick
    assert "Build XOR by Hand… needs no model" in tab.picture.message and tab.by_hand_button.isEnabled()
    qtbot.mouseClick(tab.by_hand_button, Qt.MouseButton.LeftButton)
    dialog = tab.by_hand
    qtbot.waitExposed(dialog)
    text = dialog.answers.text()  # all weights zero: 0.5 everywhere, no corner on either side yet
    assert dialog.correct() == 0 and "0 of 4" in text and text.count("0.50 ?") == 4 and "on the boundary" in text

    dialog.preset.setFocus()
    qtbot.keyClick(dialog.preset, Qt.Key.Key_Down)  # the first preset: NAND and OR into AND
    assert dialog.preset.currentText() == "NAND and OR into AND"
    assert dialog.editors["w11"].current_value() == -10.0 and dialog.editors["c"].box.value() == -15.0
    assert corner_classes(dialog.boundary) == list(XOR) and dialog.correct() == 4
    assert "4 of 4 XOR points right" in dialog.answers.text() and "on the boundary" not in dialog.answers.text()
    solved = dialog.picture.image.copy()

    box = dialog.editors["c"].box  # the output's bias: -15 needs both hidden units on, +5 needs none
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, "5")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert dialog.weights["c"] == 5.0 and dialog.editors["c"].slider.value() > dialog.editors["c"].slider.maximum() // 2
    assert corner_classes(dialog.boundary) == [1, 1, 1, 1] and dialog.correct() == 2
    assert dialog.picture.image != solved

    dialog.showing.setCurrentText("Hidden unit h1")  # NAND: on everywhere but near (1, 1)
    hidden = dialog.boundary.units[0]
    assert hidden[0, 0] > 0.99 and hidden[-1, -1] < 0.01 and dialog.picture.image != solved
    np.testing.assert_allclose(dialog.boundary.probabilities.sum(axis=-1), 1.0, atol=1e-6)
