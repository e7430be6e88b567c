"""The Augment area: the project's augmentation steps, their settings, and a live seeded preview.

Every edit replaces ``project.augmentation`` through one undoable ``SetSection`` (a slider drag
merges into one step). The preview shows the first training images exactly as training receives
them for the chosen seed and epoch; it is computed on a worker thread, newest request wins.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu,
                               QProgressBar, QPushButton, QSpinBox, QSplitter, QToolButton, QVBoxLayout, QWidget)

from studio.core.augment import AUGMENTATIONS, AugmentationError, validate_steps
from studio.core.data import DataError, default_dataset_spec, first_training_samples
from studio.core.tasks import get_task
from studio.core import formatting
from studio.core.training.config import TrainingConfig
from studio.qt.commands import SetSection
from studio.core.data.cache import load_cached
from studio.qt.widgets.image_grid import ImageGrid
from studio.qt.widgets.param_editors import ParamEditor, make_editor
from studio.qt.widgets.worker import TaskRunner

PREVIEW_COUNT = 16
PREVIEW_DELAY_MS = 120  # lets a slider move a little before the next preview is asked for
ERROR_STYLE = "background: rgba(217, 48, 37, 40); border: 1px solid #d93025; border-radius: 4px; padding: 6px;"


def create_panel(window) -> QWidget:
    return AugmentPanel(window)


@dataclass
class Preview:
    """Original and augmented first training images of one (seed, epoch), with their captions."""

    original: np.ndarray
    augmented: np.ndarray
    original_captions: list[str]
    augmented_captions: list[str]
    value_range: tuple[float, float]


def caption(label: np.ndarray, class_names: list[str]) -> str:
    """A class name; for blended (MixUp/CutMix) labels the strongest class and its share."""
    label = np.asarray(label)
    if not class_names:
        return f"{float(label.reshape(-1)[0]):.3g}"
    if label.ndim == 0:
        return class_names[int(label)]
    if label.shape[-1] == 1:  # binary soft label: probability of class 1
        share = float(label[0])
        return f"{class_names[int(share >= 0.5)]} {max(share, 1 - share):.0%}"
    top = int(label.argmax())
    share = float(label[top])
    return class_names[top] if share > 0.99 else f"{class_names[top]} {share:.0%}"


def compute_preview(spec: dict, steps: list[dict], seed: int, epoch: int, batch_size: int) -> Preview:
    """Load (or reuse) the dataset and augment its first training images (runs on the worker)."""
    dataset = load_cached(spec)
    if not dataset.is_image:
        raise DataError(f"the preview shows images, and this dataset's inputs have shape "
                        f"{formatting.shape(dataset.input_shape)}; noise and MixUp still work on such data")
    x0, y0 = first_training_samples(dataset, [], seed, epoch, PREVIEW_COUNT, batch_size)
    x1, y1 = first_training_samples(dataset, steps, seed, epoch, PREVIEW_COUNT, batch_size)
    names, task = dataset.class_names, get_task(dataset.task)
    if task.box_targets:  # the boxes are drawn, moved as the pixels moved
        pictures = [np.stack([task.target_picture(x, y, names) for x, y in zip(xs, ys)]) for xs, ys in
                    ((x0, y0), (x1, y1))]
        return Preview(*pictures, [task.label_text(y, names) for y in y0], [task.label_text(y, names) for y in y1],
                       (0.0, 255.0))
    return Preview(x0, x1, [caption(y, names) for y in y0], [caption(y, names) for y in y1], dataset.value_range)


def step_summary(step: dict) -> str:
    """``Rotation · factor 0.05 · fill reflect`` for the steps list."""
    spec = AUGMENTATIONS.get(step.get("type"))
    if spec is None:
        return str(step.get("type"))
    values = [f"{p.name.replace('_', ' ')} {formatting.param_value(step[p.name])}" for p in spec.params if p.name in step]
    return " · ".join([spec.title, *values])


class AugmentPanel(QWidget):
    """Steps and their settings (left) | original and augmented preview (right)."""

    def __init__(self, window) -> None:
        super().__init__()
        self.doc = window.document
        self.editors: dict[str, ParamEditor] = {}
        self._editor_row: int | None = None
        self._editor_type: str | None = None
        self.preview: Preview | None = None
        self.worker = TaskRunner(self)
        self._preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.update_preview)

        self.steps_list = QListWidget()
        self.steps_list.setDragDropMode(QListWidget.DragDropMode.InternalMove)
        self.steps_list.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.steps_list.setToolTip("Steps run from top to bottom; drag a step to move it.")
        self.steps_list.currentRowChanged.connect(lambda _row: self._show_editor())
        self.steps_list.model().rowsMoved.connect(lambda *_args: QTimer.singleShot(0, self._on_dragged))
        self.add_button = QToolButton(text="Add step", popupMode=QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add_menu = QMenu(self.add_button)
        self.add_menu.setToolTipsVisible(True)
        for spec in AUGMENTATIONS.values():
            action = self.add_menu.addAction(spec.title)
            action.setToolTip(spec.help)
            action.triggered.connect(lambda _checked=False, kind=spec.type: self.add_step(kind))
        self.add_button.setMenu(self.add_menu)
        self.remove_button = QPushButton("Remove")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        self.remove_button.clicked.connect(self.remove_step)
        self.up_button.clicked.connect(lambda: self.move_step(-1))
        self.down_button.clicked.connect(lambda: self.move_step(1))
        buttons = QHBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        steps_group = QGroupBox("Steps (training split only)")
        steps_layout = QVBoxLayout(steps_group)
        steps_layout.addLayout(buttons)
        steps_layout.addWidget(self.steps_list, 1)

        self.editor_group = QGroupBox("Step settings")
        self.step_help = QLabel(wordWrap=True)
        self.editor_form = QFormLayout()
        editor_layout = QVBoxLayout(self.editor_group)
        editor_layout.addWidget(self.step_help)
        editor_layout.addLayout(self.editor_form)
        editor_layout.addStretch(1)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(steps_group)
        left.addWidget(self.editor_group)
        left.setSizes([420, 300])

        self.seed_box = QSpinBox(minimum=0, maximum=2**31 - 1)
        self.seed_box.setToolTip("Same seed and epoch: the same images, exactly as training will get them.")
        self.reshuffle_button = QPushButton("Reshuffle")
        self.reshuffle_button.setToolTip("Pick a new random seed: other images, other random draws.")
        self.epoch_box = QSpinBox(minimum=0, maximum=9999)
        self.epoch_box.setToolTip("Each epoch shuffles and augments differently.")
        self.busy = QProgressBar(minimum=0, maximum=0, textVisible=False, maximumWidth=120, maximumHeight=8)
        self.seed_box.valueChanged.connect(self.schedule_preview)
        self.epoch_box.valueChanged.connect(self.schedule_preview)
        self.reshuffle_button.clicked.connect(self.reshuffle)
        self.worker.busy_changed.connect(self.busy.setVisible)
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Seed"))
        controls.addWidget(self.seed_box)
        controls.addWidget(self.reshuffle_button)
        controls.addSpacing(16)
        controls.addWidget(QLabel("Epoch"))
        controls.addWidget(self.epoch_box)
        controls.addSpacing(16)
        controls.addWidget(self.busy)
        controls.addStretch(1)
        self.status = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setStyleSheet(ERROR_STYLE)
        self.original_grid = ImageGrid()
        self.augmented_grid = ImageGrid()
        grids = QHBoxLayout()
        for title, grid in (("Original", self.original_grid), ("Augmented", self.augmented_grid)):
            group = self.augmented_group = QGroupBox(title)  # the last one: its title says when no step is set
            QVBoxLayout(group).addWidget(grid)
            grids.addWidget(group, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addLayout(controls)
        right_layout.addWidget(self.status)
        right_layout.addLayout(grids, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 980])
        QVBoxLayout(self).addWidget(splitter)

        self.doc.project_replaced.connect(self.reset)
        self.doc.section_changed.connect(self._on_section)
        self.busy.hide()
        self.status.hide()
        self.reset()

    # -- the steps -----------------------------------------------------------------------
    def steps(self) -> list[dict]:
        """The project's steps with defaults filled in (as stored when they cannot be checked)."""
        try:
            return validate_steps(self.doc.project.augmentation)
        except AugmentationError:
            return [dict(step) for step in self.doc.project.augmentation or []]

    def set_steps(self, steps: list[dict], text: str, merge_key: str = "") -> None:
        self.doc.push(SetSection(self.doc, "augmentation", steps, text, merge_key))

    def add_step(self, kind: str) -> None:
        steps = self.steps()
        row = self.steps_list.currentRow()
        at = row + 1 if row >= 0 else len(steps)
        steps.insert(at, validate_steps([{"type": kind}])[0])
        self.set_steps(steps, f"Add {AUGMENTATIONS[kind].title} step")
        self.steps_list.setCurrentRow(at)

    def remove_step(self) -> None:
        row = self.steps_list.currentRow()
        steps = self.steps()
        if 0 <= row < len(steps):
            removed = steps.pop(row)
            self.set_steps(steps, f"Remove {step_summary(removed).split(' · ')[0]} step")
            self.steps_list.setCurrentRow(min(row, len(steps) - 1))

    def move_step(self, offset: int) -> None:
        row = self.steps_list.currentRow()
        steps = self.steps()
        target = row + offset
        if 0 <= row < len(steps) and 0 <= target < len(steps):
            steps.insert(target, steps.pop(row))
            self.set_steps(steps, "Reorder augmentation steps")
            self.steps_list.setCurrentRow(target)

    def set_param(self, row: int, name: str, value: Any) -> None:
        steps = self.steps()
        if steps[row].get(name) == value:
            return
        steps[row][name] = value
        title = AUGMENTATIONS[steps[row]["type"]].title
        self.set_steps(steps, f"Set {title} {name.replace('_', ' ')}", merge_key=f"{row}.{name}")

    def _on_dragged(self) -> None:
        """The list was reordered by drag and drop: store the new order as one undoable edit."""
        order = [self.steps_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.steps_list.count())]
        if order != sorted(order):
            steps = self.steps()
            moved_to = self.steps_list.currentRow()
            self.set_steps([steps[i] for i in order], "Reorder augmentation steps")
            self.steps_list.setCurrentRow(moved_to)

    # -- refresh -------------------------------------------------------------------------
    def reset(self) -> None:
        """A project was opened: show its steps; the preview seed starts at the training seed."""
        self.seed_box.blockSignals(True)
        seed = TrainingConfig.from_dict(self.doc.project.training).seed
        self.seed_box.setValue(seed if isinstance(seed, int) and not isinstance(seed, bool) else 0)
        self.seed_box.blockSignals(False)
        self.refresh_steps()
        self.schedule_preview()

    def _on_section(self, name: str) -> None:
        if name == "augmentation":
            self.refresh_steps()
        if name in ("augmentation", "dataset", "training"):  # training: batch size shapes MixUp/CutMix pairs
            self.schedule_preview()

    def refresh_steps(self) -> None:
        steps = self.steps()
        row = self.steps_list.currentRow()
        self.steps_list.blockSignals(True)
        self.steps_list.clear()
        for index, step in enumerate(steps):
            item = QListWidgetItem(f"{index + 1}.  {step_summary(step)}")
            item.setData(Qt.ItemDataRole.UserRole, index)
            spec = AUGMENTATIONS.get(step.get("type"))
            item.setToolTip(spec.help if spec else "")
            self.steps_list.addItem(item)
        if steps:
            self.steps_list.setCurrentRow(min(max(row, 0), len(steps) - 1))
        self.steps_list.blockSignals(False)
        self._show_editor()

    def _show_editor(self) -> None:
        """Editors for the selected step; kept (values updated) while the same step stays selected."""
        steps = self.steps()
        row = self.steps_list.currentRow()
        for button in (self.remove_button, self.up_button, self.down_button):
            button.setEnabled(0 <= row < len(steps))
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < len(steps) - 1)
        step = steps[row] if 0 <= row < len(steps) else None
        spec = AUGMENTATIONS.get(step["type"]) if step else None
        if spec is not None and (row, spec.type) == (self._editor_row, self._editor_type):
            for name, editor in self.editors.items():
                editor.set_value(step[name])
            return
        while self.editor_form.rowCount():
            self.editor_form.removeRow(0)
        self.editors = {}
        self._editor_row, self._editor_type = (row, spec.type) if spec else (None, None)
        if spec is None:
            self.editor_group.setTitle("Step settings")
            self.step_help.setText("Add a step with “Add step”, or select one to change its settings."
                                   if not steps else "Select a step to change its settings.")
            return
        self.editor_group.setTitle(f"{spec.title} settings")
        self.step_help.setText(spec.help)
        for param in spec.params:
            editor = make_editor(param, step[param.name], slider=True)
            editor.edited.connect(lambda value, row=row, name=param.name: self.set_param(row, name, value))
            label = QLabel(param.title)
            label.setToolTip(param.help)
            self.editor_form.addRow(label, editor)
            self.editors[param.name] = editor

    # -- preview -------------------------------------------------------------------------
    def schedule_preview(self) -> None:
        self._preview_timer.start()

    def reshuffle(self) -> None:
        """A new random seed: other images and other random draws."""
        self.seed_box.setValue(random.randrange(1, 2**31 - 1))

    def update_preview(self) -> None:
        self._preview_timer.stop()
        spec = dict(self.doc.project.dataset or default_dataset_spec())
        steps = self.steps()
        seed, epoch = self.seed_box.value(), self.epoch_box.value()
        batch_size = TrainingConfig.from_dict(self.doc.project.training).batch_size
        if self.preview is None:
            for grid in (self.original_grid, self.augmented_grid):
                grid.show_message("Preparing the preview (TensorFlow loads the first time)…")
        self.worker.submit("preview", lambda: compute_preview(spec, steps, seed, epoch, batch_size),
                           self._show_preview, self._show_problem)

    def _show_preview(self, preview: Preview) -> None:
        self.preview = preview
        self.status.hide()
        self.augmented_group.setTitle("Augmented" if self.steps() else
                                      "Augmented (no step yet: the same images; add one on the left)")
        self.original_grid.set_images(preview.original, preview.original_captions, preview.value_range)
        self.augmented_grid.set_images(preview.augmented, preview.augmented_captions, preview.value_range)

    def _show_problem(self, message: str) -> None:
        self.preview = None
        self.status.setText(f"No preview: {message}.")
        self.status.show()
        for grid in (self.original_grid, self.augmented_grid):
            grid.show_message("")
