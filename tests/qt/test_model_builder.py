"""The Model area with real mouse events: palette drops, wiring, editing, errors, undo/redo."""

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QContextMenuEvent, QDrag, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QLabel, QMenu

from conftest import chain_project, view_point
from studio.qt.model.canvas.items import NODE_HEIGHT, NODE_WIDTH
from studio.qt.model.canvas.view import LAYER_MIME
from studio.qt.widgets.param_editors import IntEditor, TextEditor

LEFT = Qt.MouseButton.LeftButton


def _drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 5) -> None:
    qtbot.mousePress(widget, LEFT, pos=start)
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, start + (end - start) * (i / steps))
    qtbot.mouseRelease(widget, LEFT, pos=end)


def _node(window, name):
    return window.document.graph.by_name(name)


def _output_port(area, node_id) -> QPoint:
    return view_point(area.view, area.node_item(node_id).output.scenePos())


def _input_port(area, node_id, index=0) -> QPoint:
    return view_point(area.view, area.node_item(node_id).inputs[index].scenePos())


def test_drag_layer_from_palette_drops_it_on_the_canvas(window, qtbot, monkeypatch):
    area = window.model_area
    tree = area.palette.tree
    item = tree.item_for("Dense")
    tree.scrollToItem(item)
    dragged: list[QMimeData] = []

    def fake_exec(drag, *args):  # the platform drag loop cannot run offscreen; keep what it carried
        dragged.append(drag.mimeData())
        return Qt.DropAction.CopyAction

    monkeypatch.setattr(QDrag, "exec", fake_exec)
    start = tree.visualItemRect(item).center()
    _drag(qtbot, tree.viewport(), start, start + QPoint(60, 5))
    assert dragged and bytes(dragged[0].data(LAYER_MIME)).decode() == "Dense"

    before = len(window.document.graph.nodes)
    target = QPoint(area.view.viewport().width() - 120, 60)
    none = Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(target, Qt.DropAction.CopyAction, dragged[0], LEFT, none),
                  QDragMoveEvent(target, Qt.DropAction.CopyAction, dragged[0], LEFT, none),
                  QDropEvent(QPointF(target), Qt.DropAction.CopyAction, dragged[0], LEFT, none)):
        QApplication.sendEvent(area.view.viewport(), event)
        assert event.isAccepted()
    assert len(window.document.graph.nodes) == before + 1
    new_id = window.document.selection[0]
    assert window.document.graph.nodes[new_id].type == "Dense"
    scene_point = area.view.mapToScene(target)
    assert window.document.positions[new_id] == [scene_point.x(), scene_point.y()]
    assert area.node_item(new_id).pos() == scene_point

    window.document.undo_stack.undo()
    assert len(window.document.graph.nodes) == before and new_id not in area.scene.node_items


def test_double_click_appends_after_the_selected_layer(window, qtbot):
    area, doc = window.model_area, window.document
    last = _node(window, "predictions").id
    doc.select([last])
    item = area.palette.tree.item_for("Dropout")
    area.palette.tree.scrollToItem(item)
    where = area.palette.tree.visualItemRect(item).center()
    qtbot.mouseClick(area.palette.tree.viewport(), LEFT, pos=where)  # a double click follows a click
    qtbot.mouseDClick(area.palette.tree.viewport(), LEFT, pos=where)
    new_id = doc.selection[0]
    assert doc.graph.nodes[new_id].type == "Dropout" and doc.graph.inputs(new_id) == [last]
    assert doc.analysis.nodes[new_id].output_shape == (10,)


def test_palette_search_filters_layers(window):
    palette = window.model_area.palette
    palette.search.setText("recurrent")
    visible = [i.text(0) for i in palette.tree.layer_items() if not i.isHidden()]
    assert "LSTM" in visible and "Conv2D" not in visible
    assert "teach" not in palette.tree.item_for("LSTM").toolTip(0)  # tooltips are the catalog help
    assert "gates" in palette.tree.item_for("LSTM").toolTip(0)


def test_wire_ports_with_the_mouse_then_undo_redo(window, qtbot):
    doc, area = window.document, window.model_area
    project = chain_project("Flatten")
    dense = project.graph.add_node("Dense", {"units": 7})
    doc.set_project(project)
    flatten = _node(window, "flatten").id
    _drag(qtbot, area.view.viewport(), _output_port(area, flatten), _input_port(area, dense.id))
    assert doc.graph.inputs(dense.id) == [flatten]
    assert doc.analysis.nodes[dense.id].output_shape == (7,)
    assert area.scene.edge_items  # the wire is drawn from the graph event
    doc.undo_stack.undo()
    assert doc.graph.inputs(dense.id) == [] and len(area.scene.edge_items) == 1
    doc.undo_stack.redo()
    assert doc.graph.inputs(dense.id) == [flatten] and len(area.scene.edge_items) == 2


def test_refused_connection_shows_the_models_reason(window, qtbot):
    doc, area = window.document, window.model_area
    doc.set_project(chain_project("Flatten", "Dense"))
    first, last = _node(window, "flatten").id, _node(window, "dense").id
    edges = list(doc.graph.edges)
    _drag(qtbot, area.view.viewport(), _output_port(area, last), _input_port(area, first))
    assert doc.graph.edges == edges
    assert "cycle" in window.statusBar().currentMessage()


def test_reroute_and_disconnect_by_dragging_a_wire_end(window, qtbot):
    doc, area = window.document, window.model_area
    project = chain_project("Flatten", "Dense")
    other = project.graph.add_node("Dense", {"units": 3})
    doc.set_project(project)
    flatten, dense = _node(window, "flatten").id, _node(window, "dense").id
    _drag(qtbot, area.view.viewport(), _input_port(area, dense), _input_port(area, other.id))
    assert doc.graph.inputs(other.id) == [flatten] and doc.graph.inputs(dense) == []
    doc.undo_stack.undo()  # one step for the whole reroute
    assert doc.graph.inputs(dense) == [flatten] and doc.graph.inputs(other.id) == []
    empty = _input_port(area, dense) + QPoint(0, -40)
    empty.setX(5)
    _drag(qtbot, area.view.viewport(), _input_port(area, dense), empty)
    assert doc.graph.inputs(dense) == []


def test_select_an_edge_by_clicking_and_delete_it(window, qtbot):
    doc, area = window.document, window.model_area
    doc.set_project(chain_project("Flatten"))
    edge = doc.graph.edges[0]
    path = area.scene.edge_items[edge].path()
    qtbot.mouseClick(area.view.viewport(), LEFT, pos=view_point(area.view, path.pointAtPercent(0.5)))
    assert area.scene.selected_edges() == [edge]
    area.delete_selected()
    assert doc.graph.edges == []
    doc.undo_stack.undo()
    assert doc.graph.edges == [edge]


def test_move_and_rubber_band_select_with_the_mouse(window, qtbot):
    doc, area = window.document, window.model_area
    doc.set_project(chain_project("Flatten", "Dense"))
    area.view.resetTransform()
    dense = _node(window, "dense").id
    before = list(doc.positions[dense])
    body = view_point(area.view, area.node_item(dense).pos() + QPointF(NODE_WIDTH / 4, NODE_HEIGHT / 2))
    _drag(qtbot, area.view.viewport(), body, body + QPoint(80, 30))
    assert doc.positions[dense] == [before[0] + 80, before[1] + 30]
    doc.undo_stack.undo()
    assert doc.positions[dense] == before and area.node_item(dense).pos() == QPointF(*before)

    bounds = area.scene.itemsBoundingRect()
    corner = view_point(area.view, bounds.topLeft() - QPointF(30, 30))
    _drag(qtbot, area.view.viewport(), corner, view_point(area.view, bounds.bottomRight() + QPointF(30, 30)))
    assert set(doc.selection) == set(doc.graph.nodes)


def test_edit_a_property_and_see_shapes_change_downstream(window, qtbot):
    doc, area = window.document, window.model_area
    conv1 = _node(window, "conv1").id
    flatten = _node(window, "flatten").id
    assert doc.analysis.nodes[flatten].output_shape == (1600,)
    doc.select([conv1])
    strides = area.properties.editors["strides"]
    assert isinstance(strides, TextEditor)
    strides.line.selectAll()
    qtbot.keyClicks(strides.line, "2, 2")
    assert doc.graph.nodes[conv1].params["strides"] == [2, 2]
    assert area.node_item(conv1).info.output_shape == (13, 13, 32)
    assert area.node_item(flatten).info.output_shape == (256,)  # 13 -> 6 -> 4 -> 2: 2 * 2 * 64
    filters = area.properties.editors["filters"]
    assert isinstance(filters, IntEditor)
    filters.box.selectAll()
    qtbot.keyClicks(filters.box, "8")
    assert doc.graph.nodes[conv1].params["filters"] == 8
    doc.undo_stack.undo()
    assert doc.graph.nodes[conv1].params["filters"] == 32 and filters.box.value() == 32
    doc.undo_stack.undo()
    assert doc.graph.nodes[conv1].params["strides"] == [1, 1]
    assert area.node_item(flatten).info.output_shape == (1600,)


def test_invalid_text_is_red_and_not_applied(window, qtbot):
    doc, area = window.document, window.model_area
    conv1 = _node(window, "conv1").id
    doc.select([conv1])
    kernel = area.properties.editors["kernel_size"]
    kernel.line.selectAll()
    qtbot.keyClicks(kernel.line, "3, x")
    assert doc.graph.nodes[conv1].params["kernel_size"] == [3, 3]
    assert "d93025" in kernel.line.styleSheet()
    assert "kernel_size" in area.properties.errors["kernel_size"].text()
    area.properties.name_edit.selectAll()
    qtbot.keyClicks(area.properties.name_edit, "conv2")
    assert "already named" in area.properties.name_error.text()
    area.properties.name_edit.setText("stem")
    area.properties.name_edit.editingFinished.emit()
    assert doc.graph.nodes[conv1].name == "stem" and area.node_item(conv1)._title == "stem"


def test_an_error_turns_the_node_red_and_is_listed(window, qtbot):
    doc, area = window.document, window.model_area
    conv2 = _node(window, "conv2").id
    doc.select([conv2])
    kernel = area.properties.editors["kernel_size"]
    kernel.line.selectAll()
    qtbot.keyClicks(kernel.line, "20, 20")
    item = area.node_item(conv2)
    assert item.has_errors and item.toolTip()
    red = item.colors.error
    image = area.view.viewport().grab().toImage()
    header = view_point(area.view, item.pos() + QPointF(NODE_WIDTH / 2 - 12, 6))  # right of the title
    assert image.pixelColor(header) == red
    problems = area.problems
    messages = [problems.item(i).text() for i in range(problems.count())]
    assert any("conv2" in m for m in messages)
    doc.select([])
    row = next(i for i, m in enumerate(messages) if "conv2" in m)
    qtbot.mouseClick(problems.viewport(), LEFT, pos=problems.visualItemRect(problems.item(row)).center())
    assert doc.selection == [conv2]
    assert "problem" in area.summary.text()


def test_delete_copy_paste_duplicate_with_undo(window, qtbot):
    doc, area = window.document, window.model_area
    names = {n.name for n in doc.graph.nodes.values()}
    conv1, pool1 = _node(window, "conv1").id, _node(window, "pool1").id
    doc.select([conv1, pool1])
    area.copy_selected()
    area.paste()
    pasted = doc.selection
    assert len(pasted) == 2 and len(doc.graph.nodes) == 10
    assert {doc.graph.nodes[i].name for i in pasted}.isdisjoint(names)
    assert len(doc.graph.edges) == 7 + 1  # the edge between the two copies came along
    area.duplicate_selected()
    assert len(doc.graph.nodes) == 12
    doc.select([conv1])
    area.delete_selected()
    assert conv1 not in doc.graph.nodes and conv1 not in area.scene.node_items
    for _ in range(3):
        doc.undo_stack.undo()
    assert len(doc.graph.nodes) == 8 and doc.graph.inputs(pool1) == [conv1]


def test_deleting_the_only_input_is_allowed_but_reported(window):
    doc, area = window.document, window.model_area
    doc.select(doc.graph.input_nodes())
    area.delete_selected()
    assert not doc.graph.input_nodes()
    assert "no Input" in window.statusBar().currentMessage()
    assert any("no Input" in p.message for p in doc.analysis.problems)
    doc.undo_stack.undo()
    assert doc.graph.input_nodes() and doc.analysis.ok


def test_keyboard_shortcuts_delete_undo_and_duplicate(window, qtbot):
    doc, area = window.document, window.model_area
    window.activateWindow()
    area.view.setFocus()
    dropout = _node(window, "dropout").id
    doc.select([dropout])
    qtbot.keyClick(area.view, Qt.Key.Key_Delete)
    assert dropout not in doc.graph.nodes
    qtbot.keyClick(area.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert dropout in doc.graph.nodes
    doc.select([dropout])
    qtbot.keyClick(area.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(doc.graph.nodes) == 9 and doc.selection != [dropout]


def test_wiring_a_merge_layer_fills_its_ports_in_order(window, qtbot):
    doc, area = window.document, window.model_area
    project = chain_project("Flatten")
    other = project.graph.add_node("Dense", {"units": 784})
    add = project.graph.add_node("Add")
    project.graph.connect(project.graph.by_name("flatten").id, other.id)
    doc.set_project(project)
    flatten = _node(window, "flatten").id
    assert len(area.node_item(add.id).inputs) == 2  # an Add needs two inputs
    _drag(qtbot, area.view.viewport(), _output_port(area, flatten), _input_port(area, add.id, 1))
    _drag(qtbot, area.view.viewport(), _output_port(area, other.id), _input_port(area, add.id, 0))
    assert sorted(e.port for e in doc.graph.in_edges(add.id)) == [0, 1]
    assert len(area.node_item(add.id).inputs) == 3  # always one free port on a variadic layer
    assert doc.analysis.ok and doc.analysis.nodes[add.id].output_shape == (784,)


def _drop_layer(area, layer: str, target: QPoint) -> None:
    """What the view receives when a palette entry is dropped at ``target`` (viewport pixels)."""
    data = QMimeData()
    data.setData(LAYER_MIME, layer.encode())
    none = Qt.KeyboardModifier.NoModifier
    for event in (QDragEnterEvent(target, Qt.DropAction.CopyAction, data, LEFT, none),
                  QDragMoveEvent(target, Qt.DropAction.CopyAction, data, LEFT, none),
                  QDropEvent(QPointF(target), Qt.DropAction.CopyAction, data, LEFT, none)):
        QApplication.sendEvent(area.view.viewport(), event)


def test_the_first_wire_onto_a_new_layer_connects_after_passing_a_refused_port(window, qtbot):
    doc, area = window.document, window.model_area  # the default template: ... pool2 -> flatten -> ...
    window.resize(1400, 860)  # the first window's size
    qtbot.wait(50)
    viewport = area.view.viewport()
    for row, layer in enumerate(("Conv2D", "Dense", "BatchNormalization")):
        _drop_layer(area, layer, QPoint(viewport.width() - 150, 80 + 120 * row))
    qtbot.wait(50)  # the view takes in the grown scene
    conv = next(node for node in doc.graph.nodes.values() if node.name == "conv2d")
    flatten, pool = _node(window, "flatten").id, _node(window, "pool2").id
    start, refused, end = _output_port(area, flatten), _input_port(area, pool), _input_port(area, conv.id)
    qtbot.mousePress(viewport, LEFT, pos=start)
    for a, b in ((start, refused), (refused, end)):  # a hand's pace: the view may redraw between moves
        for i in range(1, 6):
            qtbot.mouseMove(viewport, a + (b - a) * (i / 5))
            qtbot.wait(5)
        if b == refused:
            assert "cycle" in window.statusBar().currentMessage()
    qtbot.mouseRelease(viewport, LEFT, pos=end)  # where the port was when the drag began
    qtbot.wait(5)
    assert doc.graph.inputs(conv.id) == [flatten] and "cycle" not in window.statusBar().currentMessage()


def test_wire_turns_red_over_a_refused_target(window, qtbot):
    doc, area = window.document, window.model_area
    doc.set_project(chain_project("Flatten", "Dense"))
    first, last = _node(window, "flatten").id, _node(window, "dense").id
    viewport = area.view.viewport()
    start, refused = _output_port(area, last), _input_port(area, first)
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 30))
    assert area.scene._wire.pen().color() == area.scene.colors.selected
    qtbot.mouseMove(viewport, refused)
    assert area.scene._wire.pen().color() == area.scene.colors.error
    assert "cycle" in window.statusBar().currentMessage()
    qtbot.mouseRelease(viewport, LEFT, pos=refused)
    assert area.scene._wire is None and len(doc.graph.edges) == 2


def _fix_button(problems, row):
    from PySide6.QtWidgets import QPushButton

    return problems.itemWidget(problems.item(row)).findChild(QPushButton)


def test_problems_check_model_data_and_loss_and_fix_with_one_click(window, qtbot):
    """"ready to train" only when it will train: MSE on 3 classes and a 10-unit output are listed,
    each Fix click repairs one as an undo step, then the summary says ready to train."""
    from studio.core.training.compat import DataFacts

    doc, area = window.document, window.model_area
    problems = area.problems
    assert "ready to build" in area.summary.text() and "ready to train" not in area.summary.text()
    doc.set_section("training", {**doc.project.training, "loss": "mse"})
    problems.set_data_facts(DataFacts("classification", (28, 28, 1), 3))
    texts = [problems.itemWidget(problems.item(i)).findChild(QLabel).text() for i in range(problems.count())]
    assert any("has 10 units but the data has 3 classes" in t for t in texts)
    assert any("loss mse" in t for t in texts)
    assert "2 problems" in area.summary.text()
    qtbot.mouseClick(_fix_button(problems, 0), Qt.MouseButton.LeftButton)
    assert doc.graph.by_name("predictions").params["units"] == 3
    qtbot.mouseClick(_fix_button(problems, 0), Qt.MouseButton.LeftButton)
    assert doc.project.training["loss"] == "auto"
    assert "ready to train" in area.summary.text() and problems.count() == 1
    doc.undo_stack.undo()
    assert doc.project.training["loss"] == "mse" and "1 problem" in area.summary.text()


def test_window_loads_the_data_to_check_the_model(window, qtbot):
    window.document.set_section("dataset", {"source": "shapes", "classes": ["circle", "square", "triangle"],
                                            "count": 8, "image_size": 28, "seed": 0})
    window.refresh_data_facts()
    qtbot.waitUntil(lambda: window.model_area.problems.data_facts is not None, timeout=20_000)
    assert window.model_area.problems.data_facts.num_classes == 3
    assert "1 problem" in window.model_area.summary.text()


def _click_menu_action(qtbot, parent, title: str, text: str) -> None:
    """Click the action ``text`` of ``parent``'s open menu titled ``title`` ("" for the context menu)."""
    menu = next(m for m in parent.findChildren(QMenu) if m.isVisible() and m.title() == title)
    action = next(a for a in menu.actions() if a.text() == text)
    qtbot.mouseClick(menu, LEFT, pos=menu.actionGeometry(action).center())


def _close_menus(parent) -> None:
    for menu in parent.findChildren(QMenu):
        menu.close()  # never leave a modal menu open if a step failed


def test_insert_a_gpt_block_after_the_selected_node_with_a_right_click(window, qtbot):
    from PySide6.QtCore import QTimer

    area, doc = window.model_area, window.document
    area.open_template("tiny_gpt")
    anchor = _node(window, "position_embedding").id
    before = set(doc.graph.nodes)
    item = area.node_item(anchor)
    area.view.centerOn(item)
    point = view_point(area.view, item.scenePos() + QPointF(NODE_WIDTH / 2, NODE_HEIGHT / 2))
    chosen = []

    def pick_block():
        _click_menu_action(qtbot, area, "", "Insert block")
        QTimer.singleShot(200, area, lambda: (chosen.append(True),
                                              _click_menu_action(qtbot, area, "Insert block", "GPT block")))

    # timers owned by the area: none fires after this test's window is gone
    QTimer.singleShot(300, area, pick_block)
    QTimer.singleShot(3000, area, lambda: _close_menus(area))
    viewport = area.view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=point)
    # what the platform sends after a right click (offscreen Qt does not synthesize it)
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, point,
                                                       viewport.mapToGlobal(point)))
    qtbot.waitUntil(lambda: len(doc.graph.nodes) > len(before), timeout=5000)
    assert chosen and doc.selection and doc.selection[0] not in before
    added = set(doc.graph.nodes) - before
    types = sorted(doc.graph.nodes[i].type for i in added)
    assert types == ["Add", "Add", "Dense", "Dense", "LayerNormalization", "LayerNormalization", "MultiHeadAttention"]
    attention = next(i for i in added if doc.graph.nodes[i].type == "MultiHeadAttention")
    assert doc.graph.inputs(attention) == [anchor] * 3  # query = value = key = the selected node
    assert doc.graph.nodes[attention].params["use_causal_mask"] is True
    assert not [p for p in doc.analysis.problems if p.node_id in added]
    assert all(doc.analysis.nodes[i].output_shape == (64, 64) for i in added if doc.graph.nodes[i].type
               in ("Add", "LayerNormalization"))
    doc.undo_stack.undo()  # one step removes the whole block
    assert set(doc.graph.nodes) == before
