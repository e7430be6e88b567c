"""The Export area: tick formats, click Export, read the verified results (exports on the panel's worker thread)."""

import time

from PySide6.QtCore import Qt

from studio.core import fileio
from studio.core.graph.keras_io import to_keras
from studio.core.graph.model import Graph
from studio.core.project import Project, save_project
from studio.core.training import RunFolder
from studio.qt.export.panel import ExportPanel

WAIT_MS = 120_000


def _write_run(root, name="tiny"):
    """An untrained run folder (a model saved with fresh weights, no epoch): exports warn about it."""
    graph = Graph()
    image = graph.add_node("Input", {"shape": [8, 8, 1]}, name="image")
    flat = graph.add_node("Flatten")
    dense = graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="classes")
    graph.connect(image.id, flat.id)
    graph.connect(flat.id, dense.id)
    project = Project(name=name, dataset={"source": "digits", "image_size": 8, "max_samples": 200}, graph=graph)
    folder = RunFolder(root / "runs" / name)
    folder.path.mkdir(parents=True)
    save_project(project, folder.project_file)
    fileio.atomic_replace_with(folder.model_file, to_keras(project.graph).save)
    folder.update_info(name=name, status="completed", created=time.time())
    return folder.path


def test_export_two_formats_from_the_panel(qtbot, tmp_path):
    run = _write_run(tmp_path)
    panel = ExportPanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.run_combo.currentData() == str(run), timeout=5000)
    assert panel.run_combo.count() == 1
    assert panel.folder_edit.text() == str(run / "exports")
    panel.set_formats(["keras", "tflite"])
    panel.folder_edit.setText(str(tmp_path / "out"))
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.busy and not panel.export_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.table.rowCount() == 2
    assert [panel.table.item(row, 1).text() for row in range(2)] == ["ok (warnings)"] * 2
    assert (tmp_path / "out" / "model.keras").exists() and (tmp_path / "out" / "model.tflite").exists()
    assert "untrained" in panel.status.text()
    assert panel.export_button.isEnabled()

    # Exporting again without "Replace existing files" is refused per format, and says why.
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert panel.table.item(0, 1).text() == "not exported"
    message = panel.table.item(0, 6).text()
    assert message.endswith("model.keras already exists; tick “Replace existing files” to replace it")
    assert "--force" not in message


def test_the_folder_follows_the_chosen_run_until_the_user_picks_one(qtbot, tmp_path):
    classifier = _write_run(tmp_path, "classifier")
    time.sleep(0.01)
    vae = _write_run(tmp_path, "vae")  # the latest run: listed first
    panel = ExportPanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.run_combo.count() == 2, timeout=5000)
    assert panel.run_combo.currentData() == str(vae) and panel.folder_edit.text() == str(vae / "exports")
    panel.run_combo.setFocus()
    qtbot.keyClick(panel.run_combo, Qt.Key.Key_Down)
    assert panel.run_combo.currentData() == str(classifier)
    assert panel.folder_edit.text() == str(classifier / "exports")
    panel.folder_edit.clear()
    qtbot.keyClicks(panel.folder_edit, str(tmp_path / "mine"))
    qtbot.keyClick(panel.run_combo, Qt.Key.Key_Up)
    assert panel.run_combo.currentData() == str(vae) and panel.folder_edit.text() == str(tmp_path / "mine")


def test_missing_choices_are_reported(qtbot, tmp_path):
    panel = ExportPanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    assert panel.run_combo.count() == 0 and not panel.export_button.isEnabled()
    _write_run(tmp_path)
    with qtbot.waitSignal(panel.run_combo.listed):
        panel.refresh_runs()
    panel.set_formats([])
    qtbot.mouseClick(panel.export_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == "Cannot export: tick at least one format." and not panel.busy


def test_main_window_export_area_lists_the_project_runs(window, qtbot, tmp_path):
    run = _write_run(tmp_path)
    window.save_project(tmp_path / "p.dlstudio")
    window.show_area("Export")
    panel = window.area_widget("Export")
    assert isinstance(panel, ExportPanel)
    qtbot.waitUntil(lambda: panel.run_combo.currentData() == str(run), timeout=5000)
