"""The Inspect area with real mouse events on tiny run folders (no training: models are saved
untrained, which is all the views need)."""

import os
import socket
import time

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from conftest import view_point
from studio.core import fileio
from studio.core.graph.keras_io import to_keras
from studio.core.graph.model import Graph
from studio.core.inspect import evaluate_model, load_run_dataset, load_run_model
from studio.core.project import Project, save_project
from studio.core.training import RunFolder
from studio.core.training.callbacks import RunState
from studio.core.inspect.live_probes import LiveProbes
from studio.core.training.probes import read_probes_config
from studio.qt.model.canvas.items import NODE_HEIGHT

LEFT = Qt.MouseButton.LeftButton
WAIT_MS = 20_000


def _graph(input_shape, head: list[tuple[str, dict]]) -> Graph:
    graph = Graph()
    previous = graph.add_node("Input", {"shape": list(input_shape)}, name="input")
    for layer_type, params in head:
        node = graph.add_node(layer_type, params.pop("params", None), name=params["name"])
        graph.connect(previous.id, node.id)
        previous = node
    return graph


def _write_run(root, name: str, project: Project, status: str = "completed"):
    """A run folder as the engine leaves it: model.keras, project snapshot, run.json."""
    folder = RunFolder(root / "runs" / name)
    folder.path.mkdir(parents=True)
    save_project(project, folder.project_file)
    fileio.atomic_replace_with(folder.model_file, to_keras(project.graph).save)
    folder.update_info(name=project.name, status=status, created=time.time(), pid=os.getpid(),
                       host=socket.gethostname())
    return folder


def _digits_project() -> Project:
    graph = _graph((8, 8, 1), [
        ("Conv2D", {"name": "conv_a", "params": {"filters": 4, "kernel_size": [3, 3], "padding": "same",
                                                  "activation": "relu"}}),
        ("Conv2D", {"name": "conv_b", "params": {"filters": 6, "kernel_size": [3, 3], "activation": "relu"}}),
        ("GlobalAveragePooling2D", {"name": "pool"}),
        ("Dense", {"name": "predictions", "params": {"units": 10, "activation": "softmax"}}),
    ])
    dataset = {"source": "digits", "image_size": 8, "max_samples": 120, "seed": 0}
    return Project(name="tiny", dataset=dataset, graph=graph)


@pytest.fixture
def inspect_window(qtbot, tmp_path):
    """A window on the tiny digits project with one finished run, Inspect area shown and loaded."""
    from studio.qt.main_window import MainWindow

    project = _digits_project()
    run = _write_run(tmp_path, "20260101-000000-tiny", project)
    window = MainWindow(project, tmp_path / "tiny.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    return window, panel, run


def test_selecting_a_node_on_the_canvas_shows_its_feature_maps(inspect_window, qtbot):
    window, panel, run = inspect_window
    assert panel.source.run_dir == run.path and panel.source.task.name == "classification"
    window.show_area("Model")
    area = window.model_area
    node_id = window.document.graph.by_name("conv_b").id
    area.view.centerOn(area.node_item(node_id))
    center = area.node_item(node_id).scenePos() + QPointF(0, NODE_HEIGHT / 2)
    qtbot.mouseClick(area.view.viewport(), LEFT, pos=view_point(area.view, center))
    assert window.document.selection == [node_id]

    window.show_area("Inspect")
    maps = panel.feature_maps
    assert panel.tabs.currentWidget() is maps and maps.layer.currentText() == "conv_b"
    qtbot.waitUntil(lambda: maps.grid.tiles == (6, 3), timeout=WAIT_MS)
    assert maps.table.rowCount() == 6
    qtbot.waitUntil(lambda: maps.table.horizontalScrollBar().maximum() == 0)  # no column cut off
    model = load_run_model(run.path)
    import keras

    expected = keras.Model(model.inputs, model.get_layer("conv_b").output)([panel.sample[None]]).numpy()[0]
    assert float(maps.table.item(2, 1).text()) == pytest.approx(expected[..., 2].mean(), rel=1e-2, abs=1e-3)

    maps.layer.setCurrentText("predictions")  # a dense layer: bars, one per unit
    qtbot.waitUntil(lambda: maps.pages.currentIndex() == 1, timeout=WAIT_MS)
    assert len(maps.bars.bar_values) == 10


def test_clicking_a_confusion_cell_shows_exactly_its_samples(inspect_window, qtbot):
    window, panel, run = inspect_window
    tab = panel.evaluation
    panel.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.report is not None, timeout=WAIT_MS)
    project, dataset = load_run_dataset(run.path)
    expected = evaluate_model(load_run_model(run.path), dataset.x_test, dataset.y_test, dataset.task,
                              dataset.class_names)
    np.testing.assert_array_equal(tab.report.confusion, expected.confusion)
    assert tab.table.item(len(dataset.class_names) + 3, 3).text() == f"{expected.accuracy:.3f}"

    counts = expected.confusion
    true_class, predicted = np.unravel_index(np.argmax(counts), counts.shape)
    qtbot.mouseClick(tab.matrix, LEFT, pos=tab.matrix.cell_rect(true_class, predicted).center())
    assert tab.gallery.indices() == list(expected.cell_indices(true_class, predicted))
    assert tab.gallery.count() == counts[true_class, predicted] > 0

    tab.normalized.setChecked(True)
    assert tab.matrix.normalized
    item = tab.gallery.item(0)
    qtbot.mouseClick(tab.gallery.viewport(), LEFT, pos=tab.gallery.visualItemRect(item).center())
    assert panel.sample_index == tab.gallery.indices()[0]


def test_a_regression_run_shows_regression_metrics(qtbot, tmp_path):
    from sklearn.metrics import mean_absolute_error, r2_score

    from studio.qt.main_window import MainWindow

    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3)).astype("float32")
    np.savez(tmp_path / "table.npz", x=x, y=(x @ [1.0, -2.0, 0.5]).astype("float32"))
    graph = _graph((3,), [("Dense", {"name": "hidden", "params": {"units": 4}}),
                          ("Dense", {"name": "value", "params": {"units": 1}})])
    dataset = {"source": "npz", "path": str(tmp_path / "table.npz"), "task": "regression", "seed": 0}
    project = Project(name="reg", dataset=dataset, graph=graph)
    run = _write_run(tmp_path, "20260101-000000-reg", project)
    window = MainWindow(project, tmp_path / "reg.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    tab = panel.evaluation
    panel.tabs.setCurrentWidget(tab)
    qtbot.waitUntil(lambda: tab.report is not None, timeout=WAIT_MS)

    _, data = load_run_dataset(run.path)
    predicted = load_run_model(run.path).predict(data.x_test, verbose=0)
    rows = {tab.table.item(r, 0).text(): tab.table.item(r, 1).text() for r in range(tab.table.rowCount())}
    assert set(rows) == {"MAE", "MSE", "RMSE", "R²"}
    assert float(rows["MAE"]) == pytest.approx(mean_absolute_error(data.y_test, predicted), rel=1e-3)
    assert float(rows["R²"]) == pytest.approx(r2_score(data.y_test, predicted), abs=1e-3)
    assert tab.matrix_box.isHidden() and not tab.matrix.counts.size
    tab.show_mistakes()
    assert tab.gallery.count() == min(32, len(data.x_test))
    assert panel.thumbnail.message.startswith(f"value 0 = {data.x_test[panel.sample_index][0]:.4g}")

    saliency = panel.saliency  # a table row: one saliency bar per input value
    saliency.method.setCurrentIndex(saliency.SALIENCY)
    panel.tabs.setCurrentWidget(saliency)
    qtbot.waitUntil(lambda: saliency.pages.currentIndex() == 1, timeout=WAIT_MS)
    assert len(saliency.bars.bar_values) == 3 and saliency.bars.bar_values.max() == pytest.approx(1.0)


def test_live_probe_events_refresh_the_pinned_maps(qtbot, tmp_path):
    """The panel pins samples into the running run's probes config; the engine's own callback
    then writes snapshots and events, and the panel redraws at each epoch."""
    from studio.qt.main_window import MainWindow

    project = _digits_project()
    run = _write_run(tmp_path, "20260101-000000-live", project, status="running")
    window = MainWindow(project, tmp_path / "tiny.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    panel.tabs.setCurrentWidget(panel.live)
    panel.live.layer.setCurrentText("conv_a")
    for index in (3, 5):
        panel.choose_test_sample(index)
        panel.pin_current()
    assert read_probes_config(run.path) == {"samples": [3, 5], "layer": "conv_a"}

    model = load_run_model(run.path)
    engine_side = LiveProbes(run, RunState(), panel.source.x_test)
    engine_side.set_model(model)
    engine_side.on_epoch_end(0)
    qtbot.waitUntil(lambda: panel.live.epoch_label.text() == "1", timeout=5000)
    pictures = panel.live.grid_pictures()
    assert len(pictures) == 2 * 3  # per pinned sample: the sample, its Grad-CAM, the maps
    first = [view.image for view in pictures]

    model.get_layer("conv_a").kernel.assign(model.get_layer("conv_a").kernel * -1.5)  # "training" moved it
    engine_side.on_epoch_end(1)
    qtbot.waitUntil(lambda: panel.live.epoch_label.text() == "2", timeout=5000)
    second = [view.image for view in panel.live.grid_pictures()]
    assert second[0] == first[0] and second[2] != first[2]  # same sample, new feature maps


def test_dropped_files_are_converted_or_refused_with_a_message(inspect_window, qtbot, tmp_path):
    window, panel, run = inspect_window
    photo = tmp_path / "photo.png"
    Image.new("RGB", (40, 30), (200, 30, 30)).save(photo)
    (tmp_path / "notes.txt").write_text("not an image")
    for path in (photo, tmp_path / "notes.txt"):
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(path))])
        for kind in (QDragEnterEvent, QDropEvent):  # Qt delivers a drop only after an accepted enter
            # Qt's drag-enter takes an integer point, the drop a float one.
            event = kind(QPoint(20, 20) if kind is QDragEnterEvent else QPointF(20, 20), Qt.DropAction.CopyAction, data, LEFT, Qt.KeyboardModifier.NoModifier)
            QApplication.sendEvent(panel, event)
            assert event.isAccepted()
        if path == photo:
            assert panel.sample.shape == (8, 8, 1) and panel.sample_index is None
            assert "photo.png" in panel.sample_label.text()
    assert "not an image that can be read" in panel.status.text()


def test_current_weights_are_built_from_the_graph(inspect_window, qtbot):
    window, panel, run = inspect_window
    assert panel.source_combo.itemData(0) == str(run.path) and panel.run_info()["name"] == run.path.name
    panel.source_combo.setFocus()
    qtbot.keyClick(panel.source_combo, Qt.Key.Key_Down)  # the last item, after the runs
    assert panel.source_combo.currentData() == "graph"
    qtbot.waitUntil(lambda: panel.source.run_dir is None, timeout=WAIT_MS)
    assert panel.source.label == "current weights" and not panel.events
    graph_layers = [node.name for node in window.document.graph.nodes.values() if node.type != "Input"]
    assert panel.source.layers == graph_layers and list(panel.source.conv_layers) == ["conv_a", "conv_b"]
    panel.tabs.setCurrentWidget(panel.filters)
    qtbot.waitUntil(lambda: panel.filters.picture.tiles is not None, timeout=WAIT_MS)
    assert panel.filters.picture.tiles[0] == 4 and not panel.filters.channel.isEnabled()


def test_attention_tab_draws_each_head_with_token_labels(qtbot, tmp_path):
    from studio.core.graph.templates import load_template
    from studio.core.inspect.attention import attention_maps, explained_position
    from studio.qt.main_window import MainWindow

    template = load_template("tiny_gpt")
    dataset = {"source": "sequences", "name": "grammar", "samples": 60, "max_length": 64}
    project = Project(name="gpt", dataset=dataset, graph=template.graph)
    run = _write_run(tmp_path, "20260101-000000-gpt", project)
    window = MainWindow(project, tmp_path / "gpt.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None and panel.sample is not None, timeout=WAIT_MS)
    tab = panel.attention
    qtbot.mouseClick(panel.tabs.tabBar(), LEFT, pos=panel.tabs.tabBar().tabRect(panel.tabs.indexOf(tab)).center())
    assert panel.tabs.currentWidget() is tab
    qtbot.waitUntil(lambda: tab.maps is not None, timeout=WAIT_MS)
    assert tab.maps.layer == "multi_head_attention" and tab.view.scores.shape[0] == 4
    shown = explained_position(panel.sample) + 1
    assert tab.view.scores.shape[1:] == (shown, shown) and len(tab.view.labels[0]) == shown
    assert tab.view.saliency.max() == pytest.approx(1.0)

    tab.layer.setFocus()
    qtbot.keyClick(tab.layer, Qt.Key.Key_Down)  # the second attention layer
    qtbot.waitUntil(lambda: tab.maps.layer == "multi_head_attention_1", timeout=WAIT_MS)
    expected = attention_maps(load_run_model(run.path), panel.sample, "multi_head_attention_1").scores
    np.testing.assert_allclose(tab.view.scores, expected[:, :shown, :shown], atol=1e-5)
    rect = tab.view.head_rect(1)
    point = QPoint(int(rect.left() + rect.width() * 0.99), int(rect.top() + rect.height() * 0.99))
    qtbot.mouseMove(tab.view, point)
    assert tab.view.cell_at(QPointF(point)) == (1, shown - 1, shown - 1)
    assert tab.view.toolTip().startswith("head 2:")


def test_saliency_offers_only_layers_with_a_map_and_starts_with_hirescam(inspect_window, qtbot):
    _window, panel, _run = inspect_window
    saliency = panel.saliency
    panel.tabs.setCurrentWidget(saliency)
    layers = [saliency.layer.itemText(i) for i in range(saliency.layer.count())]
    assert layers == ["conv_a", "conv_b"] and saliency.layer.currentText() == "conv_b"  # no pool, no dense
    assert saliency.method.currentText().startswith("HiResCAM")
    qtbot.waitUntil(lambda: "HiResCAM of conv_b" in saliency.message.text(), timeout=WAIT_MS)


def test_a_vae_run_is_sent_to_the_generate_area(tmp_path):
    from studio.core.graph.templates import load_template
    from studio.core.generative.templates import apply_template
    from studio.core.inspect import InspectError
    from studio.core.project import default_project
    from studio.qt.inspect.source import load_run_source

    project = default_project()
    apply_template(project, load_template("vae_28"))
    run = _write_run(tmp_path, "20260101-000000-vae", project)
    with pytest.raises(InspectError, match="VAE run: its samples and latent space are in the Generate area"):
        load_run_source(run.path)
