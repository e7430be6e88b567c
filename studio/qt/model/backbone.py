"""Model > Use Pretrained Backbone… and Model > Train Backbone From Selected Layer.

The first replaces the model with a backbone (the studio's own, a keras.applications model whose
weights are cached, a run or a .keras file) plus a new head for the project's dataset, and sets
``training.backbone``: one undo step. The backbone's Keras work runs on a worker thread. The second
freezes the backbone layers before the selected one and unfreezes the rest (``trainable`` params).
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QPushButton, QWidget)

from studio.core.transfer.attach import backbone_layers
from studio.core.transfer.backbones import KERAS_APPLICATIONS, builtin_backbones
from studio.qt.commands import ReplaceGraph, SetParam, SetSection
from studio.qt.widgets.worker import TaskRunner

FREEZE_CHOICES = {"all": "Freeze the backbone (train the new head only)", "none": "Train everything"}


class BackboneDialog(QDialog):
    """Choose where the backbone comes from and whether it starts frozen."""

    def __init__(self, parent, runs_root) -> None:
        super().__init__(parent)
        self.setWindowTitle("Use a pretrained backbone")
        self.runs_root = runs_root
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems([f"builtin:{name}" for name in builtin_backbones()])
        self.source.addItems([f"keras:{name}" for name in KERAS_APPLICATIONS])
        self.source.setToolTip("builtin:NAME (pretrained by the studio), keras:NAME (ImageNet weights from "
                               "Keras's cache), a run folder or a .keras file")
        browse_file = QPushButton("File…")
        browse_file.clicked.connect(lambda: self._browse(folder=False))
        browse_run = QPushButton("Run…")
        browse_run.clicked.connect(lambda: self._browse(folder=True))
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(browse_file)
        row.addWidget(browse_run)
        holder = QWidget()
        holder.setLayout(row)
        self.freeze = QComboBox()
        for key, text in FREEZE_CHOICES.items():
            self.freeze.addItem(text, key)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Backbone:", holder)
        form.addRow("Start:", self.freeze)
        form.addRow(buttons)

    def _browse(self, folder: bool) -> None:
        start = str(self.runs_root)
        path = (QFileDialog.getExistingDirectory(self, "Run folder", start) if folder
                else QFileDialog.getOpenFileName(self, "Keras model", start, "Keras models (*.keras)")[0])
        if path:
            self.source.setCurrentText(path)


class BackboneActions(QObject):
    """The two Model-menu actions for one main window."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.worker = TaskRunner(self)

    def choose(self) -> None:
        dialog = BackboneDialog(self.window, self.window.runs_root())
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.source.currentText().strip():
            self.attach(dialog.source.currentText().strip(), dialog.freeze.currentData())

    def attach(self, source: str, freeze: str = "all") -> None:
        """Build backbone + head for the project's dataset off the GUI thread, then apply it."""
        from studio.core.data.cache import load_cached
        from studio.core.transfer.project import attach_backbone

        project = self.window.document.project.copy()
        self.window.statusBar().showMessage(f"Loading backbone {source}…")
        self.worker.submit("attach", lambda: attach_backbone(project, source, freeze, load_cached(project.dataset)),
                           lambda done: self._apply(done, source),
                           lambda message: self.window.statusBar().showMessage(f"Cannot use {source}: {message}"))

    def _apply(self, project, source: str) -> None:
        doc, area = self.window.document, self.window.model_area
        doc.undo_stack.beginMacro(f"Use backbone {source}")
        doc.push(ReplaceGraph(doc, project.graph, area.layout_of(project.graph), "Replace the model"))
        doc.push(SetSection(doc, "training", project.training, "Set the backbone weights"))
        doc.undo_stack.endMacro()
        area.show_graph()
        frozen = sum(1 for i in backbone_layers(doc.graph) if doc.graph.nodes[i].params.get("trainable") is False)
        self.window.statusBar().showMessage(f"Backbone {source}: {len(backbone_layers(doc.graph))} layers "
                                            f"({frozen} frozen) and a new head for the dataset.")

    def train_from_selected(self) -> None:
        """Freeze the backbone layers before the selected one; train it and every later layer."""
        doc = self.window.document
        ids = backbone_layers(doc.graph)
        selected = [i for i in doc.selection if i in ids]
        if len(selected) != 1:
            self.window.statusBar().showMessage("Select one backbone layer: it and the layers after it will train.")
            return
        start = ids.index(selected[0])
        doc.undo_stack.beginMacro(f"Train the backbone from {doc.graph.nodes[selected[0]].name}")
        for position, node_id in enumerate(ids):
            if doc.graph.nodes[node_id].params.get("trainable", True) != (position >= start):
                doc.push(SetParam(doc, node_id, "trainable", position >= start))
        doc.undo_stack.endMacro()
        self.window.statusBar().showMessage(f"{start} backbone layers frozen, {len(ids) - start} train.")
