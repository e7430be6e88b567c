"""Navigating a big model on the canvas with real events: fit, collapsible blocks, find, minimap,
the view after undo, and why a wire is refused shown at the cursor."""

from PySide6.QtCore import QPoint, QPointF, Qt

from conftest import chain_project, view_point
from studio.qt.model.canvas.items import NODE_HEIGHT
from studio.qt.model.canvas.view import MIN_FIT_ZOOM

LEFT = Qt.MouseButton.LeftButton


def _resnet(window, qtbot):
    window.resize(1366, 768)
    area = window.model_area
    area.open_template("resnet50")
    qtbot.wait(10)  # the scene regroups and the view checks itself once edits settle
    return area, window.document


def _visible_nodes(area) -> list:
    shown = area.view.visible_rect()
    return [i for i in area.scene.shown_items() if shown.intersects(i.sceneBoundingRect())]


def test_fit_to_view_on_resnet50_stays_legible_and_not_a_column(window, qtbot):
    area, _ = _resnet(window, qtbot)
    area.view.setFocus()
    qtbot.keyClick(area.view.viewport(), Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)  # View > Fit
    assert area.view.zoom >= MIN_FIT_ZOOM - 1e-9
    visible = _visible_nodes(area)
    # The wrapped layout fills the screen: several columns of nodes, not one thin column.
    assert len(visible) > 40
    assert len({round(i.x()) for i in visible}) >= 4
    content = area.scene.content_rect()
    assert 0.3 < content.height() / content.width() < 2.0


def test_collapsing_a_block_hides_its_layers_and_rewires_to_the_group(window, qtbot):
    area, doc = _resnet(window, qtbot)
    scene, view = area.scene, area.view
    group = scene.groups["name:conv2_block1"]
    members = set(group.member_ids())
    view.centerOn(group)
    header = view_point(view, group.mapToScene(group.boundingRect().topLeft() + QPointF(40, 12)))
    qtbot.mouseClick(view.viewport(), LEFT, pos=header)
    assert group.collapsed and doc.project.view["collapsed"] == ["name:conv2_block1"]
    assert all(not scene.node_items[i].isVisible() for i in members)
    group_top, group_bottom = group.scenePos(), group.mapToScene(QPointF(0, NODE_HEIGHT))
    entering = [e for e in scene.edge_items.values() if e.edge.dst in members and e.edge.src not in members]
    leaving = [e for e in scene.edge_items.values() if e.edge.src in members and e.edge.dst not in members]
    inner = [e for e in scene.edge_items.values() if e.edge.src in members and e.edge.dst in members]
    assert entering and leaving and inner
    assert all(e.path().pointAtPercent(1) == group_top and e.isVisible() for e in entering)
    assert all(e.path().pointAtPercent(0) == group_bottom and e.isVisible() for e in leaving)
    assert not any(e.isVisible() for e in inner)
    # Double-click the group node: its layers come back.
    qtbot.mouseDClick(view.viewport(), LEFT, pos=view_point(view, group.mapToScene(QPointF(0, 50))))
    assert not group.collapsed and doc.project.view["collapsed"] == []
    assert all(scene.node_items[i].isVisible() for i in members) and all(e.isVisible() for e in inner)


def test_collapse_all_makes_resnet50_fit_legibly(window, qtbot):
    area, _ = _resnet(window, qtbot)
    area.scene.collapse_all(True)
    area.view.fit()
    assert len(area.scene.shown_items()) < 40  # 16 blocks + stem and head
    assert area.view.zoom >= MIN_FIT_ZOOM - 1e-9


def test_ctrl_f_finds_a_layer_inside_a_collapsed_block(window, qtbot):
    area, doc = _resnet(window, qtbot)
    area.scene.set_collapsed("name:conv4_block3", True)
    target = doc.graph.by_name("conv4_block3_2_conv").id
    area.view.setFocus()
    qtbot.keyClick(area.view.viewport(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = area.view.find_box
    assert box.isVisible() and box.edit.hasFocus()
    qtbot.keyClicks(box.edit, "conv4_block3_2_c")
    assert box.matches.currentItem().text().startswith("conv4_block3_2_conv")
    qtbot.keyClick(box.edit, Qt.Key.Key_Return)
    assert doc.selection == [target] and not box.isVisible()
    item = area.scene.node_items[target]
    assert item.isVisible() and not area.scene.groups["name:conv4_block3"].collapsed
    assert area.view.visible_rect().contains(item.sceneBoundingRect())
    qtbot.keyClick(area.view.viewport(), Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(box.edit, Qt.Key.Key_Escape)
    assert not box.isVisible()


def test_undo_never_leaves_the_view_on_empty_canvas(window, qtbot):
    area, doc = _resnet(window, qtbot)  # opened over the default small CNN
    view = area.view
    visible = _visible_nodes(area)
    doc.select([i.node_id for i in visible])
    view.setFocus()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Delete)
    qtbot.wait(10)
    assert doc.graph.nodes and _visible_nodes(area)  # moved on to the nodes that are left
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.wait(10)
    assert len(doc.graph.nodes) == 177 and _visible_nodes(area)
    view.show_node(doc.graph.output_nodes()[0])  # the far end of the last column
    before = view.visible_rect().center()
    qtbot.keyClick(view.viewport(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the template
    qtbot.wait(10)
    assert len(doc.graph.nodes) < 20 and _visible_nodes(area)
    assert view.visible_rect().center() != before


def test_minimap_click_moves_the_view(window, qtbot):
    area, _ = _resnet(window, qtbot)
    view, minimap = area.view, area.view.minimap
    assert minimap.isVisible()  # ResNet-50 does not fit at a legible zoom
    before = view.visible_rect().center()
    spot = QPoint(minimap.width() - 12, minimap.height() - 12)
    wanted = minimap.to_scene(QPointF(spot))
    qtbot.mouseClick(minimap, LEFT, pos=spot)
    after = view.visible_rect().center()
    assert (after - before).manhattanLength() > 200
    assert (after - wanted).manhattanLength() < (before - wanted).manhattanLength()


def test_a_refused_wire_says_why_at_the_cursor(window, qtbot):
    doc, area = window.document, window.model_area
    doc.set_project(chain_project("Flatten", "Dense"))
    first, last = doc.graph.by_name("flatten").id, doc.graph.by_name("dense").id
    viewport = area.view.viewport()
    start = view_point(area.view, area.node_item(last).output.scenePos())
    refused = view_point(area.view, area.node_item(first).inputs[0].scenePos())
    qtbot.mousePress(viewport, LEFT, pos=start)
    qtbot.mouseMove(viewport, start + QPoint(30, 30))
    note = area.scene.refusal_note()
    assert not note.isVisible()
    qtbot.mouseMove(viewport, refused)
    assert note.isVisible() and "cycle" in note.text
    at = view_point(area.view, note.scenePos())
    assert (at - refused).manhattanLength() <= 2  # anchored at the cursor, drawn just beside it
    qtbot.mouseRelease(viewport, LEFT, pos=refused)
    assert not note.isVisible()


def test_an_imported_nested_model_is_a_collapsible_group_and_ops_are_nodes(window, qtbot, tmp_path):
    import keras

    stem = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3, name="conv"),
                             keras.layers.LayerNormalization(name="norm")], name="stem")
    inputs = keras.Input((8, 8, 3), name="image")
    features = stem(inputs)
    outputs = keras.layers.GlobalAveragePooling2D(name="pool")(features + keras.ops.hard_sigmoid(features))
    keras.Model(inputs, outputs).save(tmp_path / "nested.keras")
    assert window.import_keras(tmp_path / "nested.keras")
    qtbot.wait(10)  # the scene regroups once edits settle
    scene, view, doc = window.model_area.scene, window.model_area.view, window.document
    assert {n.type for n in doc.graph.nodes.values()} >= {"ops.add", "ops.hard_sigmoid"}
    group = scene.groups["nested:stem"]
    members = set(group.member_ids())
    assert {doc.graph.nodes[i].name for i in members} == {"stem.conv", "stem.norm"}
    view.centerOn(group)
    header = view_point(view, group.mapToScene(group.boundingRect().topLeft() + QPointF(40, 12)))
    qtbot.mouseClick(view.viewport(), LEFT, pos=header)
    assert group.collapsed and doc.project.view["collapsed"] == ["nested:stem"]
    assert all(not scene.node_items[i].isVisible() for i in members)
