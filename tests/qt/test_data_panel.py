"""Data panel: built-in sources, class chart, apply to model with undo, bad sources, drops."""

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.core.graph.model import Graph
from studio.core.project import Project
from studio.qt.data.sample_array import CELL_MARGIN, DEFAULT_CELL, value_texts

BASE = {"source": "shapes", "image_size": 8, "count": 20, "classes": ["circle", "ring"], "seed": 0,
        "split": {"train": 0.7, "val": 0.15, "test": 0.15}}


def small_project() -> Project:
    """8x8 shapes (two classes) and an ``Input(28, 28, 1) -> Flatten -> Dense(10, softmax)`` model."""
    graph = Graph()
    node = graph.add_node("Input", {"shape": [28, 28, 1]}, name="input")
    flat = graph.add_node("Flatten")
    graph.connect(node.id, flat.id)
    dense = graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="out")
    graph.connect(flat.id, dense.id)
    return Project(name="small", dataset=dict(BASE), graph=graph)


@pytest.fixture
def panel(window, qtbot):
    window.document.set_project(small_project())
    window.show_area("Data")
    panel = window.area_widget("Data")
    qtbot.waitUntil(lambda: panel.dataset is not None and panel.dataset.spec == BASE, timeout=20_000)
    return panel


def choose_source(panel, source: str) -> None:
    panel.form.source_box.setCurrentIndex(panel.form.source_box.findData(source))


def loaded(panel, source: str, input_shape: tuple | None = None):
    return lambda: (panel.dataset is not None and panel.dataset.spec["source"] == source and not panel.loader.busy
                    and input_shape in (None, panel.dataset.input_shape))


def bar_heights(panel) -> list[list[float]]:
    bars = [item for item in panel.chart.getPlotItem().items if isinstance(item, pg.BarGraphItem)]
    return [list(bar.opts["height"]) for bar in bars]


def choose_shapes(panel, qtbot) -> None:
    """Shapes at 16x16 pixels: circle, square and triangle instead of circle and ring (real clicks)."""
    panel.form.option("shapes", "image_size").box.setValue(16)
    boxes = panel.form.option("shapes", "classes").boxes
    for name in ("square", "triangle", "ring"):
        qtbot.mouseClick(boxes[name], Qt.MouseButton.LeftButton, pos=QPoint(8, boxes[name].height() // 2))
    qtbot.waitUntil(loaded(panel, "shapes", (16, 16, 1)), timeout=10_000)


def test_builtin_dataset_fills_samples_and_chart_and_undo_restores(panel, window, qtbot):
    doc = window.document
    assert panel.grid.count == 28 and set(panel.grid.captions) == {"circle", "ring"}  # the whole train split
    choose_shapes(panel, qtbot)
    dataset = panel.dataset
    assert dataset.input_shape == (16, 16, 1) and dataset.class_names == ["circle", "square", "triangle"]
    assert panel.grid.count == 32 and set(panel.grid.captions) == {"circle", "square", "triangle"}
    assert panel.grid.pixels.shape == (32, 16, 16, 1) and panel.grid.pixels.max() == 255
    heights = bar_heights(panel)  # one stacked bar series per split
    assert heights == [list(map(float, dataset.class_counts(s).values())) for s in ("train", "val", "test")]
    assert doc.project.dataset["source"] == "shapes" and doc.project.dataset["classes"] == ["circle", "square", "triangle"]
    assert doc.modified

    doc.undo_stack.undo()
    assert doc.project.dataset == BASE
    qtbot.waitUntil(loaded(panel, "shapes", (8, 8, 1)), timeout=10_000)
    assert panel.form.option("shapes", "image_size").box.value() == 8 and panel.grid.count == 28


def type_into(qtbot, box, text: str) -> None:
    """Replace a spin box's text by typing, as a user would (select all, type, Enter)."""
    box.setFocus()
    box.selectAll()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_split_seed_and_normalize_editors_come_from_the_specs_and_edit_through_undo(panel, window, qtbot):
    from studio.core.data.source_options import DATASET_FIELDS

    form, doc = panel.form, window.document
    assert [form.field(spec.name).spec for spec in DATASET_FIELDS] == list(DATASET_FIELDS)
    type_into(qtbot, form.field("train").box, "0.8")
    type_into(qtbot, form.field("val").box, "0.1")
    qtbot.waitUntil(lambda: doc.project.dataset["split"] == {"train": 0.8, "val": 0.1, "test": 0.1}, timeout=10_000)
    assert "test 10%" in form.split_label.text()
    type_into(qtbot, form.field("train").box, "0.95")  # validation gives way
    qtbot.waitUntil(lambda: doc.project.dataset["split"] == {"train": 0.95, "val": 0.05, "test": 0.0},
                    timeout=10_000)
    normalize = form.field("normalize").box
    qtbot.mouseClick(normalize, Qt.MouseButton.LeftButton)
    qtbot.keyClick(normalize.view(), Qt.Key.Key_Down)
    qtbot.keyClick(normalize.view(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: doc.project.dataset.get("normalize") == "scale", timeout=10_000)
    type_into(qtbot, form.field("seed").box, "7")
    qtbot.waitUntil(lambda: doc.project.dataset["seed"] == 7, timeout=10_000)
    while doc.project.dataset != BASE:
        doc.undo_stack.undo()
    assert form.field("train").current_value() == 0.7 and form.field("normalize").current_value() == "auto"
    assert form.field("seed").current_value() == 0


def test_split_and_project_replaced(panel, window, qtbot):
    type_into(qtbot, panel.form.field("train").box, "0.8")
    type_into(qtbot, panel.form.field("val").box, "0.1")
    qtbot.waitUntil(lambda: window.document.project.dataset["split"] == {"train": 0.8, "val": 0.1, "test": 0.1},
                    timeout=10_000)
    assert "test 10%" in panel.form.split_label.text()
    other = small_project()
    other.dataset = {"source": "toy", "name": "xor", "samples": 60}
    window.document.set_project(other)
    qtbot.waitUntil(loaded(panel, "toy"), timeout=10_000)
    assert panel.samples.currentWidget() is panel.scatter and panel.form.source == "toy"
    assert "Cannot fit the model" in panel.fit_label.text() and not panel.apply_button.isEnabled()


def test_apply_to_model_is_one_undoable_step(panel, window, qtbot):
    doc = window.document
    choose_shapes(panel, qtbot)
    assert panel.apply_button.isEnabled() and "input.shape" in panel.fit_label.text()
    before = doc.undo_stack.count()
    qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    graph = doc.graph
    assert graph.by_name("input").params["shape"] == [16, 16, 1]
    assert graph.by_name("out").params["units"] == 3
    assert doc.undo_stack.count() == before + 1
    assert "fits" in panel.fit_label.text() and not panel.apply_button.isEnabled()
    doc.undo_stack.undo()
    assert graph.by_name("input").params["shape"] == [28, 28, 1]
    assert graph.by_name("out").params["units"] == 10
    assert doc.project.dataset["source"] == "shapes"


def test_empty_folder_shows_message_and_keeps_dataset(panel, window, qtbot, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    before = dict(window.document.project.dataset)
    panel.open_path(empty)
    qtbot.waitUntil(lambda: panel.error_label.isVisible(), timeout=10_000)
    text = panel.error_label.text()
    assert "empty" in text and "sub-folder" in text and "keeps its dataset (shapes)" in text
    assert window.document.project.dataset == before
    assert panel.dataset.spec == BASE and panel.grid.count == 28


def test_a_path_source_without_a_path_shows_no_stale_preview(panel, window, qtbot):
    assert panel.apply_button.isEnabled() and "Apply to model will set" in panel.fit_label.text()
    click_tile(qtbot, panel.grid, 0)
    assert panel.array_view.table.isVisible()
    box = panel.form.source_box
    box.setFocus()
    while box.currentData() != "folder":  # the keyboard, as a user would
        qtbot.keyClick(box, Qt.Key.Key_Up if box.currentIndex() > box.findData("folder") else Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: "Browse" in panel.hint_label.text(), timeout=5_000)
    assert panel.dataset is None and not panel.apply_button.isEnabled()
    assert "Load a dataset" in panel.fit_label.text() and not panel.summary_label.text()
    assert panel.grid.count == 0 and not bar_heights(panel) and not panel.chart.isVisible()
    assert "no file or folder chosen yet" in panel.report.toPlainText()
    assert not panel.array_view.isVisible()  # no sample of the old dataset, no "click an image" without images
    assert window.document.project.dataset == BASE  # the project keeps its dataset


def test_keras_dataset_missing_from_cache_names_the_file(panel, window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    choose_source(panel, "keras")
    qtbot.waitUntil(lambda: panel.error_label.isVisible(), timeout=10_000)
    assert "mnist.npz" in panel.error_label.text() and str(tmp_path / "keras") in panel.error_label.text()
    assert window.document.project.dataset == BASE


def drop(widget, path) -> None:
    """Send a real drag-enter and drop of a local file onto ``widget``."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    point = QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(point.toPoint(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    event = QDropEvent(point, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def test_dropped_csv_loads_with_target_column_picker(panel, window, qtbot, tmp_path):
    table = tmp_path / "plants.csv"
    rows = ["height,colour,kind"] + [f"{i % 7 + 1},{'red' if i % 2 else 'blue'},{'a' if i % 3 else 'b'}" for i in range(40)]
    table.write_text("\n".join(rows) + "\n")
    drop(panel, table)
    qtbot.waitUntil(loaded(panel, "csv"), timeout=10_000)
    target = panel.form.option("csv", "target").box
    assert [target.itemText(i) for i in range(target.count())] == ["height", "colour", "kind"]
    assert target.currentText() == "kind" and panel.dataset.class_names == ["a", "b"]
    assert panel.samples.currentWidget() is panel.table and panel.table.rowCount() > 0
    target.setCurrentText("colour")
    qtbot.waitUntil(lambda: panel.dataset.class_names == ["blue", "red"], timeout=10_000)
    assert window.document.project.dataset["target"] == "colour"


def test_folder_dropped_on_the_window_opens_in_the_data_area(panel, window, qtbot, tmp_path):
    from PIL import Image

    for kind, value in (("dark", 30), ("light", 220)):
        (tmp_path / "pics" / kind).mkdir(parents=True)
        for i in range(4):
            Image.new("L", (10, 10), value + i).save(tmp_path / "pics" / kind / f"{i}.png")
    (tmp_path / "pics" / "light" / "notes.png").write_text("not an image")
    window.show_area("Model")
    drop(window, tmp_path / "pics")
    assert window.current_area == "Data"
    qtbot.waitUntil(loaded(panel, "folder"), timeout=10_000)
    assert panel.dataset.class_names == ["dark", "light"] and panel.dataset.input_shape == (10, 10, 1)
    assert "skipped light/notes.png" in panel.report.toPlainText()
    assert window.document.project.dataset["path"] == str(tmp_path / "pics")


def test_a_project_file_dropped_on_the_window_opens_it(window, tmp_path):
    from studio.core.project import save_project

    other = small_project()
    other.name = "Dropped project"
    path = tmp_path / "dropped.dlstudio"
    save_project(other, path)
    window.document.undo_stack.clear()
    window.document.undo_stack.setClean()
    drop(window, path)
    assert window.document.project.name == "Dropped project"
    assert window.document.path == path


def test_a_vae_is_said_to_fit_its_data(window, qtbot):
    window.model_area.open_template("vae_28")
    window.show_area("Data")
    panel = window.area_widget("Data")
    qtbot.waitUntil(lambda: panel.dataset is not None and not panel.loader.busy, timeout=20_000)
    assert "The VAE fits this data" in panel.fit_label.text() and "Cannot fit" not in panel.fit_label.text()


def test_scanning_a_folder_shows_progress_and_cancel_stops_it(panel, qtbot, tmp_path, monkeypatch):
    import time

    import numpy as np
    from PIL import Image

    from studio.core.data import scan

    real_init = scan.Scanner.__init__

    def held_after_each_report(self, root, max_pixels, progress, cancel):
        """The scan waits after reporting until Cancel is clicked (else a fast machine finishes first)."""
        def report(*args):
            progress(*args)
            deadline = time.monotonic() + 15
            while not cancel.cancelled and time.monotonic() < deadline:
                time.sleep(0.01)
        real_init(self, root, max_pixels, report, cancel)

    monkeypatch.setattr(scan.Scanner, "__init__", held_after_each_report)

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i in range(600):
            Image.fromarray(np.full((8, 8), i % 256, np.uint8)).save(tmp_path / name / f"{i}.png")
    shown = []
    panel._scan_progress.connect(lambda done, total, rate, eta: shown.append(panel.busy_label.text()))
    panel.request({"source": "folder", "path": str(tmp_path)}, commit=True)
    qtbot.waitUntil(lambda: bool(shown), timeout=20000)
    assert panel.cancel_button.isVisible() and "files/s" in shown[0]
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "cancelled" in panel.error_label.text(), timeout=20000)
    assert panel.doc.project.dataset.get("path") != str(tmp_path)


def test_every_source_is_offered_and_sequence_targets_read_as_text(panel, qtbot):
    from studio.core.data.source_options import DATA_SOURCES

    box = panel.form.source_box
    assert {box.itemData(i) for i in range(box.count())} - {None} == set(DATA_SOURCES)  # None: group separators
    box.setFocus()
    while box.currentData() != "sequences":  # the keyboard, as a user would
        qtbot.keyClick(box, Qt.Key.Key_Down)
    assert panel.form.pages["sequences"].isVisibleTo(panel)
    set_box = panel.form.option("sequences", "name").box
    set_box.setCurrentIndex(set_box.findText("reverse"))
    panel.form.option("sequences", "samples").box.setValue(100)
    qtbot.waitUntil(lambda: loaded(panel, "sequences")() and panel.dataset.spec.get("name") == "reverse",
                    timeout=20_000)
    assert panel.samples.currentWidget() is panel.table and not panel.error_label.isVisible()
    x, y = panel.dataset.split("train")
    tokens = "".join(panel.dataset.class_names[int(v)] for v in y[0])
    assert panel.table.item(0, 0).text() == tokens and len(tokens) > 1  # the reversed digits, not a crash
    assert not panel.table.wordWrap()  # long texts elide on their one line
    choose_source(panel, "corpus")  # a path source: says to browse instead of failing
    qtbot.waitUntil(lambda: "Browse" in panel.hint_label.text(), timeout=5_000)


def test_csv_columns_are_read_as_the_loader_reads_them(tmp_path):
    from studio.core.data.tabular import csv_header
    from studio.qt.data.dataset_form import csv_columns

    table = tmp_path / "t.csv"
    table.write_text("\n\nheight; colour;kind\n1;red;a\n", encoding="utf-8")  # blank lines before the header
    assert csv_columns(str(table)) == csv_header(table) == ["height", "colour", "kind"]
    assert csv_columns(str(tmp_path / "missing.csv")) == []


@pytest.mark.parametrize("source, caption, counted", [("shape_masks", "mask of ", "pixels"),
                                                      ("shape_boxes", " in [", "samples")])
def test_mask_and_box_datasets_show_their_samples_with_target_captions(panel, qtbot, source, caption, counted):
    box = panel.form.source_box
    box.setFocus()
    while box.currentData() != source:  # the keyboard, as a user would
        qtbot.keyClick(box, Qt.Key.Key_Down if box.currentIndex() < box.findData(source) else Qt.Key.Key_Up)
    qtbot.waitUntil(loaded(panel, source), timeout=20_000)
    assert not panel.error_label.isVisible() and panel.samples.currentWidget() is panel.grid
    assert panel.grid.count > 0 and all(caption in text or text == "background only" for text in panel.grid.captions)
    assert panel.chart_group.title() == f"Class distribution ({counted} per class)"


def test_a_scene_dataset_charts_its_boxes_per_class_and_a_tile_tooltip_reads_its_whole_caption(panel, qtbot):
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QToolTip

    panel.request({"source": "shape_scenes", "count": 24, "seed": 0, "classes": ["circle", "square"]}, commit=False)
    qtbot.waitUntil(loaded(panel, "shape_scenes"), timeout=20_000)
    assert panel.chart_group.title() == "Class distribution (boxes per class)"  # not a histogram of coordinates
    labels = np.concatenate([panel.dataset.split(name)[1][..., 4].ravel() for name in ("train", "val", "test")])
    stacked = np.sum(bar_heights(panel), axis=0)
    assert list(stacked) == [np.sum(labels == k) for k in range(2)] and stacked.sum() > 24
    grid = panel.grid
    centre = grid.tile_rects()[0].center()
    QApplication.sendEvent(grid, QHelpEvent(QEvent.Type.ToolTip, centre, grid.mapToGlobal(centre)))
    qtbot.waitUntil(QToolTip.isVisible, timeout=2000)
    assert QToolTip.text() == grid.captions[0] and "object" in QToolTip.text()
    choose_source(panel, "coco")  # no file chosen yet: no title left from the scenes
    qtbot.waitUntil(lambda: panel.dataset is None, timeout=5_000)
    assert panel.chart_group.title() == "Class distribution"


def test_the_source_list_opens_below_the_box_in_groups(panel, qtbot):
    box = panel.form.source_box
    separators = [i for i in range(box.count()) if box.itemData(i) is None]
    assert len(separators) == 2 and box.itemData(separators[0] + 1) == "keras"
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    popup = box.view().window()
    qtbot.waitUntil(popup.isVisible, timeout=2000)
    assert popup.geometry().top() >= box.mapToGlobal(QPoint(0, box.height())).y() - 1  # below, not over it
    box.hidePopup()


def click_tile(qtbot, grid, tile: int) -> None:
    qtbot.mouseClick(grid, Qt.MouseButton.LeftButton, pos=grid.tile_rects()[tile].center())


def test_a_clicked_sample_is_shown_as_its_numbers_per_channel(panel, window, qtbot):
    view, dataset = panel.array_view, panel.dataset
    assert view.isVisible() and view.model.rowCount() == 0
    click_tile(qtbot, panel.grid, 3)
    expected = dataset.x_train[panel._picked[3]]
    table = view.model
    assert (table.rowCount(), table.columnCount()) == (8, 8) and view.channel_box.count() == 1
    view.zoom.setValue(view.zoom.maximum())  # room for 3 decimals
    shown = [[float(table.data(table.index(r, c))) for c in range(8)] for r in range(8)]
    np.testing.assert_allclose(shown, expected[..., 0], atol=5e-4)
    assert f"training sample {panel._picked[3]}" in view.title.text()

    rgb = np.random.default_rng(0).integers(0, 256, size=(5, 6, 3)).astype(np.float32)
    view.show_sample(rgb, "colour", (0.0, 255.0))
    view.channel_box.setCurrentIndex(2)
    assert view.channel_box.itemText(2) == "blue"
    assert [table.data(table.index(4, c)) for c in range(6)] == [str(int(v)) for v in rgb[4, :, 2]]
    level = table.data(table.index(0, 0), Qt.ItemDataRole.BackgroundRole)
    assert level.red() == round(rgb[0, 0, 2])

    view.zoom.setValue(view.zoom.minimum())
    before = view.table.horizontalHeader().defaultSectionSize()
    view.zoom.setValue(view.zoom.maximum())
    assert view.table.horizontalHeader().defaultSectionSize() > before
    viewport = view.table.viewport()  # Ctrl + wheel zooms out again, as in an image viewer
    centre = QPointF(viewport.rect().center())
    wheel = QWheelEvent(centre, viewport.mapToGlobal(centre), QPoint(0, 0), QPoint(0, -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)
    assert view.zoom.value() == view.zoom.maximum() - 2


def test_the_numbers_pane_shows_only_its_hint_until_a_click_and_then_values_that_fit_their_cells(panel, qtbot):
    view = panel.array_view
    assert view.title.isVisible() and not view.table.isVisible() and not view.channel_box.isVisible()
    click_tile(qtbot, panel.grid, 0)
    assert view.table.isVisible() and view.channel_box.isVisible()
    box = view.channel_box  # the channel's name is read whole, not cut
    assert box.width() >= box.fontMetrics().horizontalAdvance(box.currentText())
    view.show_sample(np.full((3, 3, 1), 0.125, np.float32), "eighths", (0.0, 1.0))
    metrics = view.table.fontMetrics()
    for zoom in (view.zoom.minimum(), DEFAULT_CELL, view.zoom.maximum()):
        view.zoom.setValue(zoom)
        text = view.model.data(view.model.index(1, 1))
        assert metrics.horizontalAdvance(text) <= view.table.columnWidth(1) - CELL_MARGIN
        assert text == "" or abs(float(text) - 0.125) <= 0.05  # rounded, never "0..."
        assert "0.125" in view.model.data(view.model.index(1, 1), Qt.ItemDataRole.ToolTipRole)
    assert view.model.data(view.model.index(1, 1)) == "0.125"
    assert value_texts(0.125) == ["0.125", ".125", "0.12", ".12", "0.1", ".1"] and value_texts(-3.0) == ["-3"]


def test_the_bootstrap_seed_is_a_form_field_kept_in_the_spec(panel, qtbot):
    form = panel.form
    form.set_spec({**BASE, "bootstrap": 4})
    assert form.field("bootstrap").current_value() == 4 and form.spec()["bootstrap"] == 4
    form.set_spec(dict(BASE))
    assert form.field("bootstrap").current_value() is None and "bootstrap" not in form.spec()
