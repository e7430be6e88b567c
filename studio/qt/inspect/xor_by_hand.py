"""The XOR lab's "build it by hand" mode: the nine weights of a 2-2-1 network on sliders, its decision
boundary redrawn on every move (numpy, studio.core.inspect.by_hand: no Keras on the GUI thread).

A preset starts from the classic answer (NAND and OR into AND); "Show" draws either the classes or
one hidden unit, so the learner sees the two lines the output combines. Training the one-hidden-
layer MLP afterwards (Decision boundary tab) shows the weights a run finds on its own.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QVBoxLayout

from studio.core.inspect.boundary import boundary_image
from studio.core.inspect.by_hand import CORNERS, PRESETS, WEIGHTS, XOR, hand_boundary, xor_outputs
from studio.qt.inspect.pictures import PictureView
from studio.qt.widgets.param_editors import make_editor

CLASSES = "Classes"
UNDECIDED = 0.005  # an output this close to 0.5 is written 0.50: on the boundary, neither class
_UNITS = {"h1": "Hidden unit h1", "h2": "Hidden unit h2"}
_GROUPS = (("Hidden unit h1", ("w11", "w12", "b1")), ("Hidden unit h2", ("w21", "w22", "b2")),
           ("Output", ("v1", "v2", "c")))


def judged(outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per XOR corner: whether the output puts it on its class's side, and whether it is on a side at all."""
    decided = np.abs(outputs - 0.5) >= UNDECIDED
    return decided & ((outputs > 0.5) == XOR), decided


class XorByHand(QDialog):
    """See the module docstring. ``weights`` are the values shown; ``boundary`` the one drawn."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("XOR by hand")
        self.weights = dict(PRESETS["All zero"])
        self.boundary = None
        self.preset = QComboBox()
        self.preset.addItems(["Choose a preset…", *PRESETS])
        self.preset.activated.connect(self._on_preset)
        self.showing = QComboBox()
        self.showing.addItems([CLASSES, *_UNITS.values()])
        self.showing.currentTextChanged.connect(lambda _text: self._draw())
        self.editors = {spec.name: make_editor(spec, self.weights[spec.name], slider=True) for spec in WEIGHTS}
        for name, editor in self.editors.items():
            editor.edited.connect(lambda value, name=name: self.set_weight(name, value))
        self.picture = PictureView()
        self.picture.setMinimumSize(260, 260)
        self.answers = QLabel(wordWrap=True)

        controls = QVBoxLayout()
        intro = QLabel("Each hidden unit draws one straight line; the output combines them. Set the weights "
                       "so each corner lands in the region of its own colour, then train the one-hidden-layer "
                       "MLP and compare the boundary training finds (Decision boundary tab).", wordWrap=True)
        controls.addWidget(intro)
        top = QHBoxLayout()
        top.addWidget(self.preset, 1)
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.showing, 1)
        controls.addLayout(top)
        for title, names in _GROUPS:
            group = QGroupBox(title)
            form = QFormLayout(group)
            for name in names:
                form.addRow(self.editors[name].spec.title, self.editors[name])
            controls.addWidget(group)
        controls.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.picture, 1)
        right.addWidget(self.answers)
        layout = QHBoxLayout(self)
        layout.addLayout(controls, 3)
        layout.addLayout(right, 2)
        self.resize(880, 520)
        self._update()

    def set_weights(self, weights: dict[str, float]) -> None:
        """Show and use ``weights`` (a value for every weight name)."""
        self.weights = {spec.name: float(weights[spec.name]) for spec in WEIGHTS}
        for name, editor in self.editors.items():
            editor.set_value(self.weights[name])
        self._update()

    def set_weight(self, name: str, value: float) -> None:
        self.weights[name] = float(value)
        self._update()

    def correct(self) -> int:
        """How many of the four XOR corners the network puts on the right side (one on the line is on neither)."""
        return int(judged(xor_outputs(self.weights))[0].sum())

    def _on_preset(self, index: int) -> None:
        name = self.preset.itemText(index)
        if name in PRESETS:
            self.set_weights(PRESETS[name])

    def _update(self) -> None:
        self.boundary = hand_boundary(self.weights)
        outputs = xor_outputs(self.weights)
        right, decided = judged(outputs)
        marks = [f"({int(a)}, {int(b)}) → {out:.2f} {'✓' if ok else '✗' if sure else '?'}"
                 for (a, b), out, ok, sure in zip(CORNERS, outputs, right, decided)]
        undecided = "" if decided.all() else " (? = 0.50, on the boundary: neither colour)"
        self.answers.setText(" · ".join(marks) + f"<br><b>{int(right.sum())} of 4 XOR points right</b>{undecided}")
        self._draw()

    def _draw(self) -> None:
        shown = self.showing.currentText()
        unit = next((i for i, title in enumerate(_UNITS.values()) if title == shown), None)
        self.picture.set_picture(boundary_image(self.boundary, CORNERS, XOR, unit, scale=5))
