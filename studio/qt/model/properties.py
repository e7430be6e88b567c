"""The properties editor: name and params of the selected layer, generated from the catalog."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from studio.core.graph.catalog import CATALOG
from studio.core.graph.model import GraphError
from studio.core import formatting
from studio.qt.commands import Rename, SetParam
from studio.qt.document import Document
from studio.qt.widgets.param_editors import INVALID_STYLE, ParamEditor, make_editor


class PropertiesPanel(QWidget):
    """Edits the one selected node; every valid change is an undoable command applied at once."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.node_id: str | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.errors: dict[str, QLabel] = {}
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.name_edit = QLineEdit()
        self.name_error = QLabel()
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        body = QWidget()
        layout = QVBoxLayout(body)
        for widget in (self.title, self.help, self.name_edit, self.name_error, self.form_host, self.info):
            layout.addWidget(widget)
        layout.addStretch(1)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        self._style_error(self.name_error)
        self.name_edit.textEdited.connect(self._check_name)
        self.name_edit.editingFinished.connect(self._apply_name)
        doc.selection_changed.connect(self._on_selection)
        doc.graph_changed.connect(self._on_graph_event)
        doc.analysis_changed.connect(lambda _a: self._show_info())
        doc.project_replaced.connect(lambda: self._on_selection(doc.selection))
        self._on_selection(doc.selection)

    # -- building the form ---------------------------------------------------------------
    def _on_selection(self, node_ids: list) -> None:
        node_id = node_ids[0] if len(node_ids) == 1 else None
        if node_id != self.node_id or node_id is None:
            self.node_id = node_id
            self._build(len(node_ids))

    def _build(self, selected: int) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.editors.clear()
        self.errors.clear()
        has_node = self.node_id is not None
        for widget in (self.help, self.name_edit, self.form_host, self.info):
            widget.setVisible(has_node)
        self.name_error.hide()
        if not has_node:
            self.title.setText(f"{selected} layers selected" if selected else
                               "Select a layer on the canvas to edit its settings.")
            return
        node = self.doc.graph.nodes[self.node_id]
        spec = CATALOG.get(node.type)
        self.title.setText(f"<b>{node.type}</b>" + (f" · {spec.category}" if spec else ""))
        self.help.setText(spec.help if spec else "This layer type is not in the catalog.")
        self.name_edit.setText(node.name)
        self.name_edit.setStyleSheet("")
        for param in spec.params if spec else ():
            editor = make_editor(param, node.params.get(param.name, param.default))
            error = QLabel()
            self._style_error(error)
            error.hide()
            editor.edited.connect(lambda value, key=param.name: self._apply_param(key, value))
            editor.problem.connect(lambda message, label=error: self._show_problem(label, message))
            label = QLabel(param.name)
            label.setToolTip(param.help)
            self.form.addRow(label, editor)
            self.form.addRow(error)
            self.editors[param.name] = editor
            self.errors[param.name] = error
        self._show_info()

    @staticmethod
    def _style_error(label: QLabel) -> None:
        label.setWordWrap(True)
        label.setStyleSheet("color: #d93025;")
        label.hide()

    @staticmethod
    def _show_problem(label: QLabel, message: str) -> None:
        label.setText(message)
        label.setVisible(bool(message))

    def _show_info(self) -> None:
        if self.node_id is None or self.node_id not in self.doc.graph.nodes:
            return
        info = self.doc.analysis.nodes.get(self.node_id)
        if info is None:
            return
        lines = [f"Output shape: {formatting.shape(info.output_shape)}",
                 f"Parameters: {info.params:,} ({info.trainable_params:,} trainable)",
                 f"FLOPs: {formatting.count(info.flops)} · activations: {formatting.size_bytes(info.activation_bytes)}"]
        lines += [f"<span style='color:#d93025'>⚠ {e}</span>" for e in info.errors]
        self.info.setText("<br>".join(lines))

    # -- applying edits ------------------------------------------------------------------
    def _apply_param(self, key: str, value) -> None:
        if self.node_id is not None and self.doc.graph.nodes[self.node_id].params.get(key) != value:
            self.doc.push(SetParam(self.doc, self.node_id, key, value))

    def _name_problem(self, name: str) -> str:
        name = name.strip()
        if not name:
            return "A layer needs a name."
        if any(n.name == name for n in self.doc.graph.nodes.values() if n.id != self.node_id):
            return f"Another layer is already named {name!r}."
        return ""

    def _check_name(self, text: str) -> None:
        problem = self._name_problem(text)
        self.name_edit.setStyleSheet(INVALID_STYLE if problem else "")
        self._show_problem(self.name_error, problem)

    def _apply_name(self) -> None:
        if self.node_id is None:
            return
        name = self.name_edit.text().strip()
        if name == self.doc.graph.nodes[self.node_id].name or self._name_problem(name):
            return
        try:
            self.doc.push(Rename(self.doc, self.node_id, name))
        except GraphError as exc:  # the model has the last word on names
            self._show_problem(self.name_error, str(exc))

    def _on_graph_event(self, event) -> None:
        """Show changes made elsewhere (undo, other panels) without rebuilding the form."""
        if event.node != self.node_id or self.node_id is None:
            if event.kind == "reset" and self.node_id not in self.doc.graph.nodes:
                self.node_id = None
                self._build(0)
            return
        if event.kind == "node_removed":
            self.node_id = None
            self._build(0)
        elif event.kind == "renamed":
            self.name_edit.setText(self.doc.graph.nodes[self.node_id].name)
        elif event.kind == "param_changed" and event.key in self.editors:
            editor = self.editors[event.key]
            value = self.doc.graph.nodes[self.node_id].params.get(event.key)
            if editor.current_value() != value:  # keep the user's own spelling of the same value
                editor.set_value(value)
                self.errors[event.key].hide()
