"""The main window: project files, recovery, templates, import, code view, panels, screenshot."""

import json
import os
import time
import zipfile

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QWidget

from studio.core.project import load_project
from studio.qt import settings
from studio.qt.model.dialogs import CodeDialog, TemplatesDialog
from studio.qt.main_window import AREAS, MainWindow

DATA_FOLDER = settings.data_folder


def test_save_then_reopen_gives_the_identical_graph(window, qtbot, tmp_path):
    doc = window.document
    window.model_area.append_layer("Dense")  # an edit, so there is something unsaved
    assert doc.modified and window.isWindowModified()
    path = tmp_path / "mine.dlstudio"
    assert window.save_project(path)
    assert not doc.modified and str(path.resolve()) in settings.recent_projects()

    other = MainWindow()
    qtbot.addWidget(other)
    assert other.open_project(path)
    assert other.document.graph.to_dict() == doc.graph.to_dict()
    assert other.document.positions == doc.positions
    assert set(other.model_area.scene.node_items) == set(doc.graph.nodes)
    assert not other.document.modified and "mine.dlstudio" in other.windowTitle()


def test_corrupt_or_newer_project_leaves_open_work_untouched(window, dialogs, tmp_path):
    window.model_area.append_layer("Dense")
    before = window.document.graph.to_dict()
    corrupt = tmp_path / "corrupt.dlstudio"
    corrupt.write_text('{"schema_version": 2, "graph": {"nodes": [')
    newer = tmp_path / "newer.dlstudio"
    newer.write_text(json.dumps({"schema_version": 99, "graph": {"nodes": []}}))
    for path in (corrupt, newer):
        assert not window.open_project(path)
    assert "not valid JSON" in dialogs.warnings[0] and "newer" in dialogs.warnings[1]
    assert window.document.graph.to_dict() == before and window.document.modified


def test_unsaved_changes_prompt_can_cancel(window, dialogs):
    window.model_area.append_layer("Dense")
    count = len(window.document.graph.nodes)
    dialogs.answer = QMessageBox.StandardButton.Cancel
    window.new_project()
    assert dialogs.questions and len(window.document.graph.nodes) == count
    dialogs.answer = QMessageBox.StandardButton.Discard
    window.new_project()
    assert len(window.document.graph.nodes) == count - 1 and not window.document.modified


def test_autosave_is_offered_back_after_a_crash(window, qtbot, dialogs):
    window.model_area.append_layer("Dropout")
    window.autosave()
    recovery = settings.recovery_path()
    assert recovery.exists()
    expected = load_project(recovery).graph.to_dict()

    restarted = MainWindow()  # as if the first window had crashed
    qtbot.addWidget(restarted)
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert restarted.offer_recovery()
    assert restarted.document.graph.to_dict() == expected and restarted.document.modified


def test_templates_open_and_insert_with_undo(window, qtbot):
    dialog = TemplatesDialog(window)
    qtbot.addWidget(dialog)
    names = [dialog.list.item(i).data(0x0100) for i in range(dialog.list.count())]
    assert {"resnet50", "lenet5", "small_cnn_28"} <= set(names)
    dialog.select("lenet5")
    assert "LeNet" in dialog.details.text()

    area, doc = window.model_area, window.document
    assert doc.project.view["template"] == "small_cnn_28"
    area.open_template("resnet50")
    assert len(doc.graph.nodes) == 177 and len(area.scene.node_items) == 177
    assert doc.analysis.total_params == 25636712 and doc.project.view["template"] == "resnet50"  # names its runs
    doc.undo_stack.undo()
    assert len(doc.graph.nodes) == 8 and len(area.scene.node_items) == 8
    assert doc.project.view["template"] == "small_cnn_28" and doc.undo_stack.isClean()
    doc.undo_stack.redo()
    assert doc.project.view["template"] == "resnet50"
    doc.undo_stack.undo()
    area.insert_template("lenet5")
    lenet = len(load_lenet().nodes)
    assert len(doc.graph.nodes) == 8 + lenet and len(doc.selection) == lenet
    assert len({n.name for n in doc.graph.nodes.values()}) == len(doc.graph.nodes)


def load_lenet():
    from studio.core.graph.templates import load_template

    return load_template("lenet5").graph


def test_import_keras_refuses_lambda_with_the_reason(window, dialogs, tmp_path):
    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "x", "config": {"name": "x", "batch_shape": [None, 4]}, "inbound_nodes": []},
        {"class_name": "Lambda", "name": "evil", "config": {"name": "evil"}, "inbound_nodes": []}]}}
    path = tmp_path / "evil.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    before = window.document.graph.to_dict()
    assert not window.import_keras(path)
    assert "Lambda" in dialogs.warnings[-1] and window.document.graph.to_dict() == before
    assert not window.import_keras(tmp_path / "missing.keras")
    assert "not found" in dialogs.warnings[-1]


def test_import_keras_sequential_file(window, tmp_path):
    config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"name": "inp", "batch_shape": [None, 8]}},
        {"class_name": "Dense", "module": "keras.layers", "config": {"name": "hidden", "units": 5}},
        {"class_name": "Dense", "module": "keras.layers", "config": {"name": "out", "units": 2}}]}}
    path = tmp_path / "seq.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    assert window.import_keras(path)
    doc = window.document
    assert [n.name for n in doc.graph.nodes.values()] == ["inp", "hidden", "out"]
    assert doc.analysis.total_params == 8 * 5 + 5 + 5 * 2 + 2 and doc.project.view["template"] == "seq"
    doc.undo_stack.undo()
    assert len(doc.graph.nodes) == 8 and doc.project.view["template"] == "small_cnn_28"


def test_view_as_code_shows_the_keras_script(window, qtbot):
    source = window.model_area.python_code()
    dialog = CodeDialog(source, window)
    qtbot.addWidget(dialog)
    text = dialog.text.toPlainText()
    assert "keras.Input(shape=(28, 28, 1)" in text and "layers.Conv2D(" in text and "model = keras.Model(" in text
    compile(text, "<view-as-code>", "exec")


def test_work_areas_have_placeholders_and_a_way_in(window):
    assert [window.tabs.tabText(i) for i in range(window.tabs.count())] == list(AREAS)
    assert window.current_area == "Model"
    window.show_area("Export")
    shown = window.area_widget("Export")
    assert isinstance(shown, QWidget) and shown.isVisible()
    if isinstance(shown, QLabel):
        assert "Export" in shown.text()
    panel = QLabel("my panel")
    window.set_area_widget("Export", panel)
    assert window.area_widget("Export") is panel


def test_backend_status(window, qtbot):
    assert "Loading" in window.backend_label.text()
    with qtbot.waitSignal(window.backend_ready):
        window._on_backend({"backend": "jax", "title": "JAX", "version": "0.x", "keras": "3.x",
                            "device": "NVIDIA H100", "gpus": []})
    assert window.backend_label.text() == "NVIDIA H100 · JAX 0.x · Keras 3.x"
    assert window.backend["device"] == "NVIDIA H100"


def test_dark_scheme_follows_the_system(window, monkeypatch, qapp):
    import studio.qt.main_window as main_window

    light_background = window.model_area.scene.backgroundBrush().color().lightness()
    monkeypatch.setattr(main_window, "is_dark", lambda: True)
    window.apply_theme()
    assert qapp.palette().window().color().lightness() < 100
    assert window.model_area.scene.backgroundBrush().color().lightness() < light_background
    monkeypatch.setattr(main_window, "is_dark", lambda: False)
    window.apply_theme()
    assert qapp.palette().window().color().lightness() > 128
    assert window.model_area.scene.backgroundBrush().color().lightness() == light_background


def test_screenshot_is_not_blank(window, tmp_path):
    window.resize(1280, 800)
    window.model_area.view.fit()
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() == 1280 and image.height() == 800
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 20  # text, node headers, wires: far more than a blank window's few colours
    canvas = window.model_area.view
    corner = canvas.mapTo(window, canvas.rect().center())
    region = image.copy(corner.x() - 100, corner.y() - 100, 200, 200)
    assert len({region.pixel(x, y) for x in range(0, 200, 3) for y in range(0, 200, 3)}) > 3


def test_generative_template_brings_its_sections_in_one_undo_step(window):
    area, doc = window.model_area, window.document
    before = doc.project.to_dict()
    area.open_template("dcgan_28")
    assert doc.project.generative["kind"] == "gan"
    assert doc.project.training != before["training"]
    doc.undo_stack.undo()
    after_undo = doc.project.to_dict()
    assert after_undo["generative"] is None
    assert (after_undo["graph"], after_undo["training"], after_undo["dataset"]) == (
        before["graph"], before["training"], before["dataset"])


def test_opening_a_template_says_what_changes_and_can_keep_the_dataset(window, qtbot, monkeypatch):
    from PySide6.QtCore import QPoint, Qt

    doc = window.document
    shapes = {**doc.project.dataset, "source": "shapes", "split": {"train": 0.7, "val": 0.15, "test": 0.15}}
    doc.set_section("dataset", shapes)
    before = doc.project.to_dict()
    seen = {}

    def exec_dialog(dialog):
        dialog.show()
        dialog.select("vae_28")
        seen["changes"] = dialog.changes.text()
        assert dialog.keep_dataset.isVisible()
        box = dialog.keep_dataset
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))  # on the tick box
        assert box.isChecked()
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
        return dialog.result()

    monkeypatch.setattr(TemplatesDialog, "exec", exec_dialog)
    window.templates_dialog()
    for expected in ("Model:", "VAE 28x28", "Generative: none → VAE", "Dataset: shapes 70/15/15 → digits 80/10/10",
                     "Training:", "epochs"):
        assert expected in seen["changes"]
    assert doc.project.generative == {"kind": "vae"} and doc.project.dataset == shapes  # data kept
    assert doc.project.training["batch_size"] == 64
    doc.undo_stack.undo()  # one step undoes everything
    after = doc.project.to_dict()
    assert (after["graph"], after["training"], after["dataset"], after["generative"]) == (
        before["graph"], before["training"], before["dataset"], before["generative"])


def test_template_dialog_hides_keep_dataset_when_the_dataset_stays(window, qtbot):
    dialog = TemplatesDialog(window, window.document.project)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.select("lenet5")
    assert "Dataset" not in dialog.changes.text() and not dialog.keep_dataset.isVisible()
    assert dialog.sections is None


def test_relaunch_offers_to_reopen_the_last_project(window, qtbot, dialogs, tmp_path):
    path = tmp_path / "last.dlstudio"
    assert window.save_project(path)
    fresh = MainWindow()
    qtbot.addWidget(fresh)
    dialogs.answer = QMessageBox.StandardButton.No
    assert not fresh.offer_last_project() and fresh.document.path is None
    dialogs.answer = QMessageBox.StandardButton.Yes
    assert fresh.offer_last_project() and fresh.document.path == path
    assert "last.dlstudio" in dialogs.questions[-1]


def _run(root, name, created, status="completed"):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"name": name, "created": created, "status": status,
                                                 "pid": os.getpid()}))
    return folder


def test_the_first_save_brings_the_runs_made_before_it(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "data_folder", lambda: tmp_path / "data")
    unsaved = tmp_path / "data" / "runs"
    assert window.runs_root() == unsaved
    older = _run(unsaved, "20261205-older", time.time() - 3600)  # another session's run stays
    mine = _run(unsaved, "20261206-mine", time.time())
    (mine / "events.jsonl").write_text('{"type": "end", "status": "completed"}\n')
    train = window.area_widget("Train")
    train.show_run(str(mine))
    qtbot.waitUntil(lambda: train.watcher.ended, timeout=5000)
    live = _run(unsaved, "20261206-live", time.time(), status="running")  # its process writes there
    path = tmp_path / "proj" / "p.dlstudio"
    path.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(path), ""))
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.document.path == path, timeout=5000)
    assert window.runs_root() == tmp_path / "proj" / "runs"
    assert (window.runs_root() / "20261206-mine" / "run.json").is_file()
    assert older.is_dir() and live.is_dir() and not (unsaved / "20261206-mine").exists()
    assert train.watcher.path == window.runs_root() / "20261206-mine"  # the Train area follows it
    message = window.statusBar().currentMessage()
    assert f"moved its 1 run(s) to {window.runs_root()}" in message and "1 run(s) still training" in message
    window.show_area("Export")
    picker = window.area_widget("Export").run_combo
    qtbot.waitUntil(lambda: picker.count() == 1, timeout=5000)
    assert picker.currentData() == str(window.runs_root() / "20261206-mine")


def test_the_data_folder_is_not_doubled_and_old_runs_move_up(tmp_path, monkeypatch):
    monkeypatch.setattr(settings, "data_folder", DATA_FOLDER)  # the real one, not conftest's
    doubled = tmp_path / "DL Studio" / "DL Studio"
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda _location: str(doubled))
    assert settings.data_folder() == tmp_path / "DL Studio"
    _run(doubled / "runs", "old-run", 1.0)
    (doubled / "recovery.dlstudio").write_text("{}")
    _run(tmp_path / "DL Studio" / "runs", "new-run", 2.0)
    settings.move_doubled_data_folder()
    runs = tmp_path / "DL Studio" / "runs"
    assert sorted(p.name for p in runs.iterdir()) == ["new-run", "old-run"]
    assert (tmp_path / "DL Studio" / "recovery.dlstudio").is_file() and not doubled.exists()


def test_the_empty_properties_panel_guides_a_newcomer(window, qtbot):
    from PySide6.QtCore import Qt

    from conftest import view_point

    area = window.model_area
    guide = area.guide
    assert guide.isVisible() and "Data" in guide.text() and "Train" in guide.text()
    shown = [label.text() for label in window.findChildren(QLabel) if label.isVisible()]
    assert sum("Select a layer on the canvas" in text for text in shown) == 1  # said once
    assert not any("not checked yet" in text for text in shown)  # one wording: "checked once loaded"
    node = area.node_item(next(iter(window.document.graph.nodes)))
    qtbot.mouseClick(area.view.viewport(), Qt.MouseButton.LeftButton, pos=view_point(area.view, node.sceneBoundingRect().center()))
    assert window.document.selection and not guide.isVisible()
    window.document.select([])
    assert guide.isVisible()
    guide.linkActivated.emit("Data")
    assert window.current_area == "Data"


def test_a_first_window_fits_its_screen(window):
    """No saved geometry: the default size never exceeds the screen (the right-hand panels of a
    1400-pixel window were cut off on a 1366x768 laptop)."""
    screen = window.screen().availableGeometry()
    frame = window.frameGeometry()
    assert frame.width() <= screen.width() and frame.height() <= screen.height()


def test_view_theme_forces_dark_or_light_and_is_remembered(window, qtbot):
    from PySide6.QtWidgets import QApplication

    from studio.qt.theme import is_dark

    app = QApplication.instance()
    actions = {action.text(): action for action in window.theme_actions.actions()}
    assert list(actions) == ["System", "Light", "Dark"] and actions["System"].isChecked()
    assert not is_dark()  # the offscreen platform is light
    window.show_area("Train")
    plot = window.area_widget("Train").plots["loss"]
    try:
        actions["Dark"].trigger()
        assert is_dark() and app.palette().window().color().lightness() < 128
        assert app.palette().link().color().lightness() > 160  # the start guide's links stay readable

        def light_blue_pixels():
            image = window.model_area.guide.grab().toImage()
            return sum(1 for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)
                       if (c := image.pixelColor(x, y)).blue() > 230 and 90 < c.red() < 125 and c.green() > 150)
        qtbot.waitUntil(lambda: light_blue_pixels() > 0)  # drawn in the dark palette's link colour
        qtbot.waitUntil(lambda: plot.backgroundBrush().color().lightness() < 64)  # plots follow, no restart
        assert window.model_area.scene.colors.dark
        again = MainWindow()
        qtbot.addWidget(again)
        assert settings.theme_choice() == "dark"
        assert [a.text() for a in again.theme_actions.actions() if a.isChecked()] == ["Dark"]
        actions["Light"].trigger()
        assert not is_dark() and app.palette().window().color().lightness() > 128
        qtbot.waitUntil(lambda: plot.backgroundBrush().color().lightness() > 192)
    finally:
        actions["System"].trigger()
    assert app.palette().window().color().lightness() > 128 and settings.theme_choice() == "system"
