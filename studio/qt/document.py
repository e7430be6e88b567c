"""The open project as the GUI sees it: the model, its undo stack, analysis, selection and layout.

Every panel works through one ``Document``: it reads ``document.project`` / ``document.graph`` and
subscribes to the Qt signals below instead of keeping its own copy of the state.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.graph.infer import Analysis, Analyzer
from studio.core.graph.layout import layered_layout
from studio.core.graph.model import Graph, GraphEvent
from studio.core.project import Project

X_SPACING = 240.0  # layout grid: a node is 200 x 76
Y_SPACING = 110.0


class Document(QObject):
    """The open project plus everything the editors share about it.

    Signals:
        project_replaced: a different project was opened (New/Open/recovery); rebuild everything.
        graph_changed(GraphEvent): one edit of the graph (forwarded from ``Graph.events``).
        analysis_changed(Analysis): shapes, params and errors after the edits settled.
        positions_changed(list): ids of nodes whose canvas position changed.
        selection_changed(list): ids of the selected nodes.
        modified_changed(bool): unsaved changes appeared or were saved.
        path_changed(str): the project's file changed (empty: not saved yet).
        focus_requested(str): a node should be shown (e.g. clicked in the Problems list).
        message(str): a short notice for the status bar (refused connection, ...).
        section_changed(str): a non-graph part of the project was replaced ("dataset",
            "augmentation", "training", ...); see ``set_section``.
    """

    project_replaced = Signal()
    graph_changed = Signal(object)
    analysis_changed = Signal(object)
    positions_changed = Signal(list)
    selection_changed = Signal(list)
    modified_changed = Signal(bool)
    path_changed = Signal(str)
    focus_requested = Signal(str)
    message = Signal(str)
    section_changed = Signal(str)

    def __init__(self, project: Project, path: str | Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self.undo_stack.indexChanged.connect(self.refresh_analysis)
        self._analyzer = Analyzer()
        self._analysis: Analysis | None = None
        self._announced: Analysis | None = None
        self._analysis_dirty = True
        self._extra_changes = False
        self._selection: list[str] = []
        # Edits made outside the undo stack still get analysed, once, after the event loop turns.
        self._refresh_timer = QTimer(self, singleShot=True, interval=0)
        self._refresh_timer.timeout.connect(self.refresh_analysis)
        self.project = project
        self.path = Path(path) if path else None
        self._attach(project.graph)
        self.ensure_positions()

    # -- state ---------------------------------------------------------------------------
    @property
    def graph(self) -> Graph:
        return self.project.graph

    @property
    def positions(self) -> dict[str, list[float]]:
        """Canvas positions ``{node_id: [x, y]}``, stored in the project's view state."""
        return self.project.view.setdefault("positions", {})

    @property
    def modified(self) -> bool:
        return self._extra_changes or not self.undo_stack.isClean()

    @property
    def analysis(self) -> Analysis:
        """Inference results for the current graph (recomputed only after edits; cached per node)."""
        if self._analysis is None or self._analysis_dirty:
            self._analysis = self._analyzer.analyze(self.graph)
            self._analysis_dirty = False
        return self._analysis

    @property
    def selection(self) -> list[str]:
        return list(self._selection)

    # -- whole-project changes -----------------------------------------------------------
    def set_project(self, project: Project, path: str | Path | None = None, modified: bool = False) -> None:
        """Show another project: clears undo history and selection (not undoable)."""
        self.graph.events.disconnect(self._on_graph_event)
        self.project = project
        self._attach(project.graph)
        self.ensure_positions()
        self._selection = []
        self.undo_stack.clear()
        self._extra_changes = modified
        self.set_path(path)
        self.project_replaced.emit()
        self.selection_changed.emit([])
        self.refresh_analysis()
        self.modified_changed.emit(self.modified)

    def set_path(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.path_changed.emit(str(self.path or ""))

    def mark_saved(self, path: str | Path) -> None:
        self._extra_changes = False
        self.undo_stack.setClean()
        self.set_path(path)
        self.modified_changed.emit(False)

    # -- edits ---------------------------------------------------------------------------
    def set_section(self, name: str, value: Any) -> None:
        """Replace ``project.<name>`` (dataset, augmentation, training, ...) and announce it.

        Undoable edits go through ``commands.SetSection``, which calls this.
        """
        setattr(self.project, name, copy.deepcopy(value))
        self.section_changed.emit(name)

    def push(self, command: QUndoCommand) -> None:
        """Run an edit through the undo stack (commands in ``studio.qt.commands``)."""
        self.undo_stack.push(command)

    def select(self, node_ids: list[str]) -> None:
        ids = [i for i in dict.fromkeys(node_ids) if i in self.graph.nodes]
        if ids != self._selection:
            self._selection = ids
            self.selection_changed.emit(list(ids))

    def focus(self, node_id: str) -> None:
        """Select ``node_id`` and ask the canvas to bring it into view."""
        self.select([node_id])
        self.focus_requested.emit(node_id)

    def set_positions(self, positions: dict[str, tuple[float, float]]) -> None:
        for node_id, (x, y) in positions.items():
            self.positions[node_id] = [float(x), float(y)]
        self.positions_changed.emit(list(positions))

    def ensure_positions(self, graph: Graph | None = None) -> None:
        """Give every node of ``graph`` (default: the document's) a position: a full layered layout if
        most are missing, else a free spot below each one's inputs."""
        graph = graph or self.graph
        positions = self.positions
        for stale in [i for i in positions if i not in graph.nodes]:
            del positions[stale]
        missing = [i for i in graph.nodes if i not in positions]
        if not missing:
            return
        if len(missing) * 2 > len(graph.nodes):
            for node_id, (x, y) in layered_layout(graph, X_SPACING, Y_SPACING).items():
                positions[node_id] = [x, y]
            return
        for node_id in missing:
            positions[node_id] = list(self.free_spot_below(graph.inputs(node_id)))

    def free_spot_below(self, node_ids: list[str]) -> tuple[float, float]:
        """A position one row below the given nodes (or below everything) that no node occupies."""
        anchors = [self.positions[i] for i in node_ids if i in self.positions]
        if anchors:
            x, y = sum(p[0] for p in anchors) / len(anchors), max(p[1] for p in anchors) + Y_SPACING
        else:
            x, y = 0.0, max((p[1] for p in self.positions.values()), default=-Y_SPACING) + Y_SPACING
        taken = {(round(p[0]), round(p[1])) for p in self.positions.values()}
        while (round(x), round(y)) in taken:
            x += X_SPACING
        return x, y

    def _on_clean_changed(self, _clean: bool) -> None:
        self.modified_changed.emit(self.modified)

    def refresh_analysis(self, *_args) -> None:
        """Announce the analysis of the current graph if it was not announced yet."""
        analysis = self.analysis
        if analysis is not self._announced:
            self._announced = analysis
            self.analysis_changed.emit(analysis)

    # -- internals -----------------------------------------------------------------------
    def _attach(self, graph: Graph) -> None:
        graph.events.connect(self._on_graph_event)
        self._analysis_dirty = True

    def _on_graph_event(self, event: GraphEvent) -> None:
        self._analysis_dirty = True
        self._refresh_timer.start()
        if event.kind in ("node_removed", "reset"):
            kept = [i for i in self._selection if i in self.graph.nodes]
            if kept != self._selection:
                self._selection = kept
                self.selection_changed.emit(list(kept))
        self.graph_changed.emit(event)
