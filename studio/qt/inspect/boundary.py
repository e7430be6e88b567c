"""The decision-boundary tab: class regions of a 2-D-input model over its training points.

While a run trains, the engine writes a boundary after every epoch (``boundary`` events); the tab
follows the newest one, or any earlier epoch on the slider. Without such files (current weights, an
older run) the worker computes the boundary of the loaded model. "Show" switches between the
classes and each hidden unit's activation, so a learner sees the lines a hidden layer combines.
"Build XOR by Hand…" opens the lab's by-hand mode (xor_by_hand.py): weights set on sliders.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from studio.core.inspect import InspectError
from studio.core.inspect.boundary import Boundary, boundary_image, decision_boundary, load_boundary
from studio.qt.inspect.pictures import PictureView
from studio.qt.inspect.progress import epoch_slider
from studio.qt.inspect.views import InspectTab, set_items

CLASSES = "Classes"
NOT_PLANAR = ("Decision boundaries need a model with 2 inputs (a 2-D toy dataset: Data > 2-D points). "
              "Build XOR by Hand… needs no model.")


class BoundaryTab(InspectTab):
    """See the module docstring. ``boundary`` is the one on screen (None before the first)."""

    title = "Decision boundary"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.boundary: Boundary | None = None
        self.snapshots: list[dict] = []  # the followed run's boundary events with a path
        self.run_dir: Path | None = None
        self.showing = QComboBox()
        self.showing.addItem(CLASSES)
        self.showing.currentTextChanged.connect(lambda _text: self._draw())
        self.epoch = epoch_slider()
        self.epoch.valueChanged.connect(lambda _value: self._load_epoch())
        self.epoch_label = QLabel()
        self.picture = PictureView(NOT_PLANAR)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        top.addWidget(self.showing, 1)
        top.addWidget(QLabel("Epoch:"))
        top.addWidget(self.epoch, 2)
        top.addWidget(self.epoch_label)
        self.by_hand_button = QPushButton("Build XOR by Hand…")
        self.by_hand_button.setToolTip("Set the weights of a 2-2-1 network yourself and watch its boundary move, "
                                       "before training finds its own.")
        self.by_hand_button.clicked.connect(self.open_by_hand)
        self.by_hand = None
        top.addWidget(self.by_hand_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.picture, 1)
        self._enable()

    def _enable(self) -> None:
        """Show and Epoch only mean something for a model with 2 inputs; XOR by hand needs no model."""
        for control in (self.showing, self.epoch):
            control.setEnabled(self.planar)

    def open_by_hand(self):
        """The XOR-by-hand window (one, raised again when already open)."""
        from studio.qt.inspect.xor_by_hand import XorByHand

        if self.by_hand is None:
            self.by_hand = XorByHand(self)
        self.by_hand.show()
        self.by_hand.raise_()
        return self.by_hand

    @property
    def planar(self) -> bool:
        source = self.host.source
        return source is not None and tuple(source.input_shape) == (2,)

    def source_changed(self) -> None:
        self.boundary = None
        self._enable()
        if not self.planar:
            self.picture.show_message(NOT_PLANAR)

    def set_events(self, run_dir: Path | None, events: list[dict]) -> None:
        """The followed run's events so far; shows the newest boundary unless the user looks back."""
        self.run_dir = run_dir
        found = [event for event in events if event.get("type") == "boundary"]
        at_end = self.epoch.value() == self.epoch.maximum()
        count = len(self.snapshots)
        self.snapshots = [event for event in found if "path" in event]
        self.epoch.blockSignals(True)
        self.epoch.setRange(0, max(len(self.snapshots) - 1, 0))
        if at_end:
            self.epoch.setValue(self.epoch.maximum())
        self.epoch.blockSignals(False)
        if found and "error" in found[-1]:
            self.say(f"The run could not save its boundary at epoch {found[-1]['epoch']}: {found[-1]['error']}")
        if len(self.snapshots) != count and self.planar:
            self._load_epoch()

    def refresh(self) -> None:
        if not self.planar:
            return
        if self.snapshots and self.run_dir is not None:
            self._load_epoch()
            return
        source = self.host.source
        model, x, task = source.model, source.dataset.x_train, source.dataset.task
        self.say("Computing the decision boundary…")
        self.host.worker.submit("boundary", lambda: decision_boundary(model, x, task=task),
                                lambda boundary: self._adopt(boundary, "of the loaded model"), self.say)

    def _load_epoch(self) -> None:
        if not self.snapshots or self.run_dir is None:
            return
        event = self.snapshots[self.epoch.value()]
        try:
            boundary = load_boundary(self.run_dir / event["path"])
        except InspectError as exc:
            self.say(str(exc))
            return
        self.epoch_label.setText(str(event["epoch"]))
        self._adopt(boundary, f"after epoch {event['epoch']}")

    def _adopt(self, boundary: Boundary, when: str) -> None:
        self.boundary = boundary
        set_items(self.showing, [CLASSES, *boundary.unit_names])
        self.say(f"Decision boundary {when}: regions are the predicted class (pale where unsure), dots the "
                 f"training points. {len(boundary.unit_names)} hidden units can be shown one by one.")
        self._draw()

    def _draw(self) -> None:
        source = self.host.source
        if self.boundary is None or source is None or not self.planar:
            return
        name = self.showing.currentText()
        unit = self.boundary.unit_names.index(name) if name in self.boundary.unit_names else None
        self.picture.set_picture(boundary_image(self.boundary, source.dataset.x_train, source.dataset.y_train, unit))
