"""The canvas context menu's "Insert block" submenu: a block of ``studio.core.graph.blocks``
(Transformer encoder, decoder, GPT block) sized for the selected node's output and added after
it, wired to it, as one undo step."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu

from studio.core.graph.blocks import BLOCKS, block_after
from studio.core.graph.layout import layered_layout
from studio.core.graph.model import Edge, fresh_copy
from studio.qt.commands import AddNodes
from studio.qt.document import X_SPACING, Y_SPACING


def block_title(name: str) -> str:
    return name.replace("_", " ").capitalize().replace("Gpt", "GPT")


def add_block_menu(menu: QMenu, area) -> QMenu | None:
    """Add "Insert block" to ``menu`` when one node is selected (disabled, with the reason, when
    its output is not a sequence)."""
    doc = area.doc
    if len(doc.selection) != 1:
        return None
    submenu = menu.addMenu("Insert block")
    submenu.setToolTipsVisible(True)
    shape = _sequence_shape(doc, doc.selection[0])
    for name, description in BLOCKS.items():
        action = submenu.addAction(block_title(name), lambda name=name: insert_block(area, name))
        action.setToolTip(description if shape else "Blocks follow a layer whose output is (steps, features)")
        action.setEnabled(shape is not None)
    return submenu


def _sequence_shape(doc, node_id: str):
    info = doc.analysis.nodes.get(node_id)
    shape = info.output_shape if info is not None else None
    return tuple(shape) if shape is not None and len(shape) == 2 and shape[-1] else None  # (steps, features)


def insert_block(area, name: str) -> list[str]:
    """Add block ``name`` after the selected node (one undo step); returns the new node ids."""
    doc = area.doc
    anchor = doc.selection[0]
    shape = _sequence_shape(doc, anchor)
    if shape is None:
        doc.message.emit("Blocks follow a layer whose output is (steps, features): select such a layer.")
        return []
    block, feeds = block_after(name, shape)
    copy, id_map = fresh_copy(block, {n.name for n in doc.graph.nodes.values()})
    laid = layered_layout(block, X_SPACING, Y_SPACING)
    x0, y0 = doc.free_spot_below([anchor])
    top = min(y for _, y in laid.values())
    left = min(x for x, _ in laid.values())
    placed = {id_map[i]: (x - left + x0, y - top + y0) for i, (x, y) in laid.items()}
    edges = [Edge(anchor, id_map[dst], port) for dst, port in feeds]
    doc.push(AddNodes.from_graph(doc, copy, placed, f"Insert {block_title(name)} block", edges=edges))
    return list(copy.nodes)
