"""The Model work area: palette | canvas (toolbar, summary bar) | properties and problems."""

from __future__ import annotations

import json

from PySide6.QtCore import QPointF, QSize, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMenu, QPushButton,
                               QSplitter, QToolBar, QVBoxLayout, QWidget)

from studio.core.graph.catalog import CATALOG, snake_name
from studio.core.graph.layout import layered_layout
from studio.core.graph.model import Edge, Graph, GraphError, fresh_copy
from studio.core.graph.templates import load_template
from studio.core import formatting
from studio.qt.model.block_menu import add_block_menu
from studio.qt.model.canvas.items import NodeItem
from studio.qt.model.canvas.scene import GraphScene
from studio.qt.model.canvas.view import GraphView
from studio.qt.commands import AddNodes, MoveNodes, RemoveItems, ReplaceGraph, SetParam, SetSection
from studio.qt.document import X_SPACING, Y_SPACING, Document
from studio.qt.model.palette import Palette
from studio.qt.model.properties import PropertiesPanel
from studio.qt.model.start_guide import StartGuide

NODES_MIME = "application/x-dlstudio-nodes"
PASTE_OFFSET = 40.0


class ProblemsList(QListWidget):
    """Every problem of the analysis, then what stops the model training on its data (model ⇄ data
    ⇄ loss, see ``studio.core.training.compat``) with a Fix button where one is obvious. Clicking
    a problem selects its node and brings it into view.

    ``data_facts`` (a ``DataFacts``) is set by the window once the project's data is loaded; until
    then only the graph is checked.
    """

    changed = Signal()  # the problems were checked again (see ``ready_to_train``)

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.data_facts = None
        self.compat: list = []
        self._shown: tuple | None = None
        self.setWordWrap(True)
        doc.analysis_changed.connect(self.refresh)
        doc.section_changed.connect(self.refresh)
        doc.project_replaced.connect(self.refresh)
        self.itemClicked.connect(self._on_click)
        self.refresh()

    def set_data_facts(self, facts) -> None:
        self.data_facts = facts
        self.refresh()

    @property
    def ready_to_train(self) -> bool:
        return self.data_facts is not None and self.doc.analysis.ok and not self.compat

    def refresh(self, *_args) -> None:
        analysis = self.doc.analysis
        self.compat = []
        if self.data_facts is not None and analysis.ok:
            from studio.core.training.compat import check_compat

            self.compat = check_compat(self.doc.project, self.data_facts)
        shown = (tuple(analysis.problems), tuple(self.compat), self.data_facts is not None)
        if shown != self._shown:
            self._shown = shown
            self._fill(analysis)
        self.changed.emit()

    def _fill(self, analysis) -> None:
        self.clear()
        for problem in analysis.problems:
            self._add(problem.message, problem.node_id)
        for problem in self.compat:
            self._add(problem.message, problem.node_id, problem.fix)
        if not analysis.problems and not self.compat:
            text = "✓ No problems: the model fits its data and loss." if self.data_facts is not None else \
                "✓ No problems: the model can be built (its data is checked once loaded)."
            self.addItem(QListWidgetItem(text))

    def _add(self, message: str, node_id: str | None, fix=None) -> None:
        item = QListWidgetItem(f"⚠ {message}")
        item.setData(Qt.ItemDataRole.UserRole, node_id)
        item.setToolTip(message)
        self.addItem(item)
        if fix is None:
            return
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(2, 2, 2, 2)
        label = QLabel(f"⚠ {message}")
        label.setWordWrap(True)
        button = QPushButton("Fix")
        button.setToolTip(fix.text)
        button.clicked.connect(lambda _checked=False, fix=fix: self.apply_fix(fix))
        layout.addWidget(label, 1)
        layout.addWidget(button, 0, Qt.AlignmentFlag.AlignTop)
        item.setText("")
        self.setItemWidget(item, row)
        width = max(self.viewport().width(), 200)
        item.setSizeHint(QSize(width - 4, max(label.heightForWidth(width - button.sizeHint().width() - 16),
                                               button.sizeHint().height()) + 6))

    def apply_fix(self, fix) -> None:
        """Apply a compatibility fix as one undo step."""
        doc = self.doc
        doc.undo_stack.beginMacro(fix.text)
        for node_id, key, value in fix.params:
            doc.push(SetParam(doc, node_id, key, value))
        if fix.training:
            doc.push(SetSection(doc, "training", {**doc.project.training, **dict(fix.training)}, "Set training"))
        if fix.append:
            layer_type, params = fix.append
            node = Graph().add_node(layer_type, params, name=doc.graph.unique_name(snake_name(layer_type)))
            doc.push(AddNodes(doc, [node.to_dict()], [Edge(fix.after, node.id, 0)],
                              {node.id: doc.free_spot_below([fix.after])}, fix.text))
        doc.undo_stack.endMacro()
        doc.message.emit(f"Fixed: {fix.text}.")

    def _on_click(self, item: QListWidgetItem) -> None:
        node_id = item.data(Qt.ItemDataRole.UserRole)
        if node_id and node_id in self.doc.graph.nodes:
            self.doc.focus(node_id)


class ModelArea(QWidget):
    """Builds models by hand. Editing actions here are what the Edit and View menus trigger."""

    def __init__(self, doc: Document, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.palette = Palette()
        self.scene = GraphScene(doc, self)
        self.view = GraphView(self.scene)
        self.properties = PropertiesPanel(doc)
        self.guide = StartGuide()
        self.problems = ProblemsList(doc)
        self.summary = QLabel()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setWordWrap(True)  # a narrow window wraps the figures instead of growing
        self.toolbar = QToolBar()

        canvas = QWidget()
        canvas_layout = QVBoxLayout(canvas)
        canvas_layout.setContentsMargins(0, 0, 0, 0)
        canvas_layout.setSpacing(2)
        canvas_layout.addWidget(self.toolbar)
        canvas_layout.addWidget(self.view, 1)
        canvas_layout.addWidget(self.summary)

        side = QSplitter(Qt.Orientation.Vertical)
        for title, widgets in (("Properties", (self.guide, self.properties)), ("Problems", (self.problems,))):
            box = QWidget()
            box_layout = QVBoxLayout(box)
            box_layout.setContentsMargins(4, 4, 4, 4)
            heading = QLabel(f"<b>{title}</b>")
            box_layout.addWidget(heading)
            for widget in widgets:
                box_layout.addWidget(widget, 0 if widget is self.guide else 1)
            side.addWidget(box)
        side.setSizes([520, 200])

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.palette)
        self.splitter.addWidget(canvas)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.palette.setMinimumWidth(180)
        side.setMinimumWidth(260)
        self.splitter.setSizes([210, 800, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        QShortcut(QKeySequence.StandardKey.Find, self, self.view.find_box.open,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.palette.layer_activated.connect(self.append_layer)
        self.view.layer_dropped.connect(self.add_layer)
        self.problems.changed.connect(self._show_summary)
        doc.selection_changed.connect(lambda ids: self.guide.setVisible(not ids))
        doc.project_replaced.connect(self.show_graph)
        self._show_summary()

    def _context_menu(self, pos) -> None:
        """Right-click: actions on the node under the mouse (selected first), or on the canvas."""
        item = self.view.itemAt(pos)
        node = item if isinstance(item, NodeItem) else item.parentItem() if item is not None else None
        if isinstance(node, NodeItem) and node.node_id not in self.doc.selection:
            self.doc.select([node.node_id])
        menu = QMenu(self)
        if self.doc.selection or self.scene.selected_edges():
            menu.addAction("Delete", self.delete_selected)
        if self.doc.selection:
            menu.addAction("Duplicate", self.duplicate_selected)
            menu.addAction("Copy", self.copy_selected)
        menu.addAction("Paste", self.paste)
        add_block_menu(menu, self)
        menu.addSeparator()
        menu.addAction("Automatic layout", self.auto_layout)
        menu.addAction("Fit to view", self.view.fit)
        menu.addAction("Find a layer…\tCtrl+F", self.view.find_box.open)
        if self.scene.groups:
            menu.addAction("Collapse all blocks", lambda: self.scene.collapse_all(True))
            menu.addAction("Expand all blocks", lambda: self.scene.collapse_all(False))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- summary -------------------------------------------------------------------------
    def _show_summary(self) -> None:
        analysis = self.doc.analysis
        problems = len(analysis.problems) + len(self.problems.compat)
        if problems:
            status = f"<span style='color:#d93025'>⚠ {problems} problem{'s' * (problems != 1)}</span>"
        elif self.problems.ready_to_train:
            status = "<span style='color:#1e8e3e'>✓ ready to train</span>"
        else:
            status = "<span style='color:#1e8e3e'>✓ ready to build</span> (its data is checked once loaded)"
        # Layers after an error have no shape, so their weights cannot be counted yet.
        at_least = "at least " if analysis.problems else ""
        self.summary.setText(
            f"{len(self.doc.graph.nodes)} layers · {at_least}<b>{analysis.total_params:,}</b> params "
            f"({analysis.trainable_params:,} trainable) · {formatting.count(analysis.flops)} FLOPs/sample · "
            f"activations {formatting.size_bytes(analysis.activation_bytes)}/sample · "
            f"weights {formatting.size_bytes(analysis.total_params * 4)} · {status}")

    # -- adding layers -------------------------------------------------------------------
    def add_layer(self, layer_type: str, pos: QPointF | None = None) -> str | None:
        """Add a ``layer_type`` node at scene ``pos`` (or below the selection); returns its id."""
        if layer_type not in CATALOG:
            self.doc.message.emit(f"Unknown layer type {layer_type!r}")
            return None
        node = Graph().add_node(layer_type, name=self.doc.graph.unique_name(snake_name(layer_type)))
        where = (pos.x(), pos.y()) if pos is not None else self.doc.free_spot_below(self.doc.selection)
        self.doc.push(AddNodes(self.doc, [node.to_dict()], [], {node.id: where}, f"Add {layer_type}"))
        return node.id

    def append_layer(self, layer_type: str) -> str | None:
        """Add a layer below the selected one and wire it (or just add it if that is not allowed)."""
        if layer_type not in CATALOG:
            return None
        anchor = self.doc.selection[-1] if self.doc.selection else None
        node = Graph().add_node(layer_type, name=self.doc.graph.unique_name(snake_name(layer_type)))
        where = self.doc.free_spot_below([anchor] if anchor else [])
        edges = []
        if anchor is not None and CATALOG[layer_type].max_inputs != 0:
            edges = [Edge(anchor, node.id, 0)]
        self.doc.push(AddNodes(self.doc, [node.to_dict()], edges, {node.id: where}, f"Append {layer_type}"))
        return node.id

    # -- selection-based edits -----------------------------------------------------------
    def delete_selected(self) -> None:
        nodes, edges = self.doc.selection, self.scene.selected_edges()
        if not nodes and not edges:
            return
        inputs = self.doc.graph.input_nodes()
        self.doc.push(RemoveItems(self.doc, nodes, edges, "Delete"))
        if inputs and not self.doc.graph.input_nodes():
            self.doc.message.emit("The model has no Input layer now: add one, or undo (Ctrl+Z).")

    def copy_selected(self) -> None:
        if not self.doc.selection:
            return
        # Plain text, not a Python-made QMimeData: the clipboard outlives Python at exit, and
        # destroying a Python-owned mime object then crashes the process.
        QGuiApplication.clipboard().setText(json.dumps({NODES_MIME: self._selection_payload()}))

    def cut_selected(self) -> None:
        self.copy_selected()
        self.delete_selected()

    def paste(self) -> None:
        try:
            payload = json.loads(QGuiApplication.clipboard().text())[NODES_MIME]
        except (ValueError, KeyError, TypeError):
            return  # the clipboard holds something else: nothing to paste
        try:
            graph = Graph.from_dict(payload["graph"])
        except (ValueError, KeyError, GraphError):
            self.doc.message.emit("The clipboard does not hold DL Studio layers.")
            return
        self._insert_block(graph, payload.get("positions", {}), PASTE_OFFSET, "Paste")

    def duplicate_selected(self) -> None:
        if self.doc.selection:
            payload = self._selection_payload()
            self._insert_block(Graph.from_dict(payload["graph"]), payload["positions"], PASTE_OFFSET, "Duplicate")

    def select_all(self) -> None:
        self.doc.select(list(self.doc.graph.nodes))

    def _selection_payload(self) -> dict:
        graph = self.doc.graph.subgraph(self.doc.selection)
        return {"graph": graph.to_dict(), "positions": {i: self.doc.positions.get(i, [0, 0]) for i in graph.nodes}}

    def _insert_block(self, graph: Graph, positions: dict, offset: float | None, text: str) -> None:
        """Add a copy of ``graph`` (new ids and names); ``offset`` None places it right of the model."""
        block, id_map = fresh_copy(graph, {n.name for n in self.doc.graph.nodes.values()})
        if offset is None or any(i not in positions for i in graph.nodes):
            laid = layered_layout(graph, X_SPACING, Y_SPACING)
            right = max((p[0] for p in self.doc.positions.values()), default=-X_SPACING)
            left = min((x for x, _ in laid.values()), default=0.0)
            placed = {id_map[i]: (x - left + right + 2 * X_SPACING, y) for i, (x, y) in laid.items()}
        else:
            placed = {id_map[i]: (x + offset, y + offset) for i, (x, y) in positions.items() if i in id_map}
        self.doc.push(AddNodes.from_graph(self.doc, block, placed, text))

    # -- whole-graph actions -------------------------------------------------------------
    def layout_of(self, graph: Graph) -> dict[str, tuple[float, float]]:
        """The automatic layout, a deep graph wrapped into columns shaped like the canvas."""
        size = self.view.viewport().size()
        aspect = size.height() / size.width() if size.width() > 100 and size.height() > 100 else 0.75
        return layered_layout(graph, X_SPACING, Y_SPACING, aspect=aspect)

    def auto_layout(self) -> None:
        new = self.layout_of(self.doc.graph)
        old = {i: tuple(self.doc.positions[i]) for i in new if i in self.doc.positions}
        self.doc.push(MoveNodes(self.doc, old, new, "Automatic layout"))
        self.view.fit()

    def open_template(self, name: str, sections: tuple[str, ...] | None = None) -> None:
        """Open a template as the model, with the sections it brings (a GAN's ``generative``
        settings, its suggested dataset and training; only those in ``sections``, default all) as
        one undo step."""
        from studio.core.generative.templates import SECTIONS, apply_template  # loads numpy

        template = load_template(name)
        target = apply_template(self.doc.project.copy(), template, sections or SECTIONS)
        stack = self.doc.undo_stack
        stack.beginMacro(f"Open template {template.title}")
        self.doc.push(ReplaceGraph(self.doc, template.graph, self.layout_of(template.graph), "Replace the model",
                                   template.name))
        for section in ("generative", "dataset", "training"):
            if getattr(target, section) != getattr(self.doc.project, section):
                self.doc.push(SetSection(self.doc, section, getattr(target, section), f"Set {section}"))
        stack.endMacro()
        self.show_graph()

    def insert_template(self, name: str) -> None:
        template = load_template(name)
        self._insert_block(template.graph, {}, None, f"Insert template {template.title}")

    def replace_graph(self, graph: Graph, text: str, model: str | None = None) -> None:
        """Swap the whole graph (undoable); ``model`` names the runs of the new model."""
        self.doc.push(ReplaceGraph(self.doc, graph, self.layout_of(graph), text, model))
        self.show_graph()

    def show_graph(self) -> None:
        """Frame a newly opened graph: all of it if it is small, else its inputs, legibly."""
        self.view.fit(readable=True)

    def python_code(self) -> str:
        """The Keras script of the current graph (imported here: the export package loads numpy)."""
        from studio.core.export.codegen import graph_to_python

        return graph_to_python(self.doc.graph)

    def node_item(self, node_id: str) -> NodeItem:
        return self.scene.node_items[node_id]
