"""Model > Use Pretrained Backbone (one undo step) and Train Backbone From Selected Layer."""

from PySide6.QtCore import QPointF, Qt

from conftest import view_point
from studio.core.project import default_project
from studio.core.transfer import backbone_layers
from studio.qt.model.canvas.items import NODE_HEIGHT

WAIT_MS = 30_000


def test_attach_a_backbone_then_train_it_from_a_clicked_layer(qtbot):
    from studio.qt.main_window import MainWindow

    project = default_project()
    project.dataset = {"source": "shapes", "classes": ["circle", "square", "cross"], "count": 30, "image_size": 28}
    window = MainWindow(project)
    qtbot.addWidget(window)
    window.show()
    doc = window.document
    before = doc.graph.copy()

    window.backbones.attach("builtin:digits_cnn_28")
    qtbot.waitUntil(lambda: bool(backbone_layers(doc.graph)), timeout=WAIT_MS)
    ids = backbone_layers(doc.graph)
    assert doc.graph.by_name("head").params["units"] == 3
    assert doc.project.training["backbone"] == "builtin:digits_cnn_28"
    assert all(doc.graph.nodes[i].params["trainable"] is False for i in ids)
    doc.undo_stack.undo()  # one step takes back graph and setting
    assert [n.name for n in doc.graph.nodes.values()] == [n.name for n in before.nodes.values()]
    assert not doc.project.training.get("backbone")
    doc.undo_stack.redo()

    area = window.model_area
    node_id = doc.graph.by_name("backbone_conv2").id
    area.view.centerOn(area.node_item(node_id))
    center = area.node_item(node_id).scenePos() + QPointF(0, NODE_HEIGHT / 2)
    qtbot.mouseClick(area.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(area.view, center))
    assert doc.selection == [node_id]
    window.backbones.train_from_selected()
    ids = backbone_layers(doc.graph)
    names = [doc.graph.nodes[i].name for i in ids]
    flags = [doc.graph.nodes[i].params["trainable"] for i in ids]
    assert flags == [position >= names.index("backbone_conv2") for position in range(len(ids))]
    doc.undo_stack.undo()
    assert all(doc.graph.nodes[i].params["trainable"] is False for i in ids)
