"""Dialogs of the Model area: the templates gallery and "View as code"."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (QCheckBox, QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLabel,
                               QListWidget, QListWidgetItem, QMessageBox, QPlainTextEdit, QPushButton,
                               QVBoxLayout)

from studio.core.fileio import atomic_write_text
from studio.core.graph.templates import list_templates, load_template


class TemplatesDialog(QDialog):
    """Pick a template; ``mode`` is then "open" (replace the graph) or "insert" (add as a block).

    Given the open ``project``, it lists exactly what opening the selected template would change
    (model, generative, dataset, training) and offers to keep the dataset; ``sections`` is then
    what to apply.
    """

    def __init__(self, parent=None, project=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model templates")
        self.resize(760, 480)
        self.mode: str | None = None
        self.project = project
        self.templates = list_templates()
        self.list = QListWidget()
        for meta in self.templates:
            item = QListWidgetItem(meta.get("title") or meta["name"])
            item.setData(Qt.ItemDataRole.UserRole, meta["name"])
            self.list.addItem(item)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.details.setOpenExternalLinks(True)
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.keep_dataset = QCheckBox("Keep my dataset")
        self.keep_dataset.setToolTip("Open the model and its settings but leave the Data area as it is")
        self.keep_dataset.setVisible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.open_button = QPushButton("Open as the model")
        self.insert_button = QPushButton("Insert as a block")
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.insert_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.open_button.clicked.connect(lambda: self._finish("open"))
        self.insert_button.clicked.connect(lambda: self._finish("insert"))
        buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.list, 1)
        side = QVBoxLayout()
        side.addWidget(self.details, 1)
        side.addWidget(self.changes)
        side.addWidget(self.keep_dataset)
        top.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(buttons)
        self.list.currentRowChanged.connect(self._show)
        self.list.itemDoubleClicked.connect(lambda _item: self._finish("open"))
        if self.templates:
            self.list.setCurrentRow(0)

    @property
    def selected_name(self) -> str | None:
        item = self.list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    @property
    def sections(self) -> tuple[str, ...] | None:
        """The sections "Open as the model" applies: None for all, all but the dataset when kept."""
        if self.keep_dataset.isHidden() or not self.keep_dataset.isChecked():
            return None
        from studio.core.generative.templates import SECTIONS

        return tuple(s for s in SECTIONS if s != "dataset")

    def select(self, name: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == name:
                self.list.setCurrentRow(row)

    def _show(self, row: int) -> None:
        if row < 0:
            return
        meta = self.templates[row]
        params = meta.get("expected_params")
        lines = [f"<h3>{meta.get('title') or meta['name']}</h3>", f"<p>{meta.get('description') or ''}</p>"]
        if meta.get("input_shape"):
            lines.append(f"<p>Input: {tuple(meta['input_shape'])}" +
                         (f" · classes: {meta['num_classes']}" if meta.get("num_classes") else "") + "</p>")
        if params:
            lines.append(f"<p>Parameters: {params:,}</p>")
        if meta.get("reference"):
            lines.append(f"<p><i>{meta['reference']}</i></p>")
        self.details.setText("".join(lines))
        self._show_changes(meta["name"])

    def _show_changes(self, name: str) -> None:
        if self.project is None:
            return
        from studio.core.generative.templates import template_changes  # loads numpy

        changes = template_changes(self.project, load_template(name))
        self.changes.setText("<b>Open as the model changes:</b><ul>" +
                             "".join(f"<li>{html.escape(c.text)}</li>" for c in changes) + "</ul>")
        self.keep_dataset.setVisible(any(c.section == "dataset" for c in changes))

    def _finish(self, mode: str) -> None:
        if self.selected_name:
            self.mode = mode
            self.accept()


class CodeDialog(QDialog):
    """Read-only Keras Python for the current graph, with Copy and Save buttons."""

    def __init__(self, source: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model as Keras code")
        self.resize(760, 600)
        self.source = source
        self.text = QPlainTextEdit(source)
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        save = buttons.addButton("Save as .py…", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.source))
        save.clicked.connect(self._save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _save(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save model code", "model.py", "Python (*.py)")
        if not path:
            return
        try:
            atomic_write_text(path, self.source)
        except OSError as exc:
            QMessageBox.warning(self, "Cannot save", f"{path}: {exc.strerror or exc}")
