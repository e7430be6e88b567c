"""Runs view: run folders written by the engine (as ``studio train`` writes them) are listed,
overlaid, followed live while they grow, and deleted only after confirmation."""

import os
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from studio.core.project import default_project
from studio.core.training import RunFolder
from studio.core.training.plan import RunPlan, check_config, prepare_run_folder

from test_train_panel import ended, points


def write_run(path, losses, status="completed", batch_size=32):
    """A run folder made with the engine's own writers: epochs with the given losses, then ``status``
    (``running``: still open, owned by this live process, more events may follow)."""
    project = default_project()
    project.training["batch_size"] = batch_size
    folder = prepare_run_folder(RunPlan(project, check_config(project.training)), path)
    folder.update_info(status="running", pid=os.getpid(), started=time.time() - 5)
    folder.emit("start", epochs=len(losses) + 1, steps_per_epoch=4, batch_size=batch_size,
                device={"kind": "cpu", "gpus": [], "replicas": 1}, compile_mode="graph", notes=[])
    for epoch, loss in enumerate(losses, start=1):
        add_epoch(folder, epoch, loss)
    if status != "running":
        finish(folder, status)
    return folder


def add_epoch(folder, epoch, loss):
    folder.emit("batch", epoch=epoch, step=4, steps=4, logs={"loss": loss, "accuracy": 0.5}, lr=0.001,
                samples_per_s=100.0, eta_s=1.0)
    folder.emit("epoch", epoch=epoch, logs={"loss": loss, "accuracy": 0.5, "val_loss": loss + 0.1,
                                            "val_accuracy": 0.4}, lr=0.001, duration_s=1.0)
    folder.update_info(best={"epoch": epoch, "monitor": "val_loss", "value": loss + 0.1})


def finish(folder, status):
    folder.update_info(status=status, ended=time.time())
    folder.emit("end", status=status)


def runs_view(window, tmp_path):
    assert window.save_project(tmp_path / "project.dlstudio")
    window.show_area("Train")
    panel = window.area_widget("Train")
    panel.tabs.setCurrentWidget(panel.runs_view)
    return panel, panel.runs_view


def test_runs_are_listed_overlaid_and_deleted_after_confirmation(window, qtbot, dialogs, tmp_path):
    first = write_run(tmp_path / "runs" / "20260101-000000-first", [1.0, 0.6])
    write_run(tmp_path / "runs" / "20260101-000100-second", [0.9], batch_size=64)
    panel, view = runs_view(window, tmp_path)
    table = view.table
    qtbot.waitUntil(lambda: table.rowCount() == 2, timeout=10_000)
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(5)] for r in range(2)}
    assert rows["20260101-000000-first"][1] == "completed"
    assert "batch 32" in rows["20260101-000000-first"][2] and "batch 64" in rows["20260101-000100-second"][2]
    assert "val_loss 0.7 (epoch 2)" in rows["20260101-000000-first"][3]
    assert rows["20260101-000000-first"][4] == "00:05"

    table.selectAll()  # overlay: each run's train (solid) and validation (dashed) loss
    qtbot.waitUntil(lambda: len(view.loss_plot.curves) == 4, timeout=10_000)
    assert len(view.loss_plot.curves["20260101-000000-first/epoch"].getData()[0]) == 2
    assert len(view.metric_plot.curves) == 4

    table.clearSelection()
    table.selectRow([r for r in range(2) if table.item(r, 0).text().endswith("first")][0])
    dialogs.answer = QMessageBox.StandardButton.No
    view.delete_selected()
    assert first.path.exists() and len(dialogs.questions) == 1
    dialogs.answer = QMessageBox.StandardButton.Yes
    view.delete_selected()
    assert not first.path.exists()
    qtbot.waitUntil(lambda: table.rowCount() == 1, timeout=10_000)


def test_a_cli_run_folder_opens_and_is_followed_live(window, qtbot, dialogs, tmp_path):
    elsewhere = write_run(tmp_path / "cli-runs" / "20260101-000000-cli", [1.2], status="running")
    panel, view = runs_view(window, tmp_path)
    assert not view.open_folder(str(tmp_path))  # not a run folder: says so, shows nothing
    assert dialogs.warnings and "not a run folder" in dialogs.warnings[-1]

    assert view.open_folder(str(elsewhere.path))
    assert panel.tabs.currentIndex() == 0 and str(elsewhere.path) in panel.run_label.text()
    assert len(panel.curves.get("loss/epoch")) == 1 and panel.watcher.state == "running"
    assert panel.stop_button.isEnabled() and not panel.kill_button.isEnabled()
    assert "CPU" in panel.device.text()

    add_epoch(elsewhere, 2, 0.8)  # the CLI process writes on; the panel picks it up by itself
    qtbot.waitUntil(lambda: len(panel.curves.get("loss/epoch")) == 2, timeout=5_000)
    qtbot.waitUntil(lambda: points(panel.plots["loss"], "loss/epoch") == 2, timeout=5_000)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)  # reaches the CLI run through its control file
    assert (elsewhere.path / "control").read_text() == "stop"
    finish(elsewhere, "stopped")
    qtbot.waitUntil(lambda: ended(panel), timeout=5_000)
    assert panel.status.text().startswith("Stopped") and not panel.error_banner.isVisible()


def test_a_followed_run_whose_process_vanished_ends_as_crashed(window, qtbot, tmp_path):
    folder = write_run(tmp_path / "runs" / "20260101-000000-gone", [1.0], status="running")
    folder.update_info(pid=2**22 + 12345)  # no such process
    panel, view = runs_view(window, tmp_path)
    panel.show_run(str(folder.path))
    qtbot.waitUntil(lambda: ended(panel), timeout=5_000)
    assert "ended unexpectedly" in panel.error_banner.text() and panel.start_button.isEnabled()
    assert RunFolder(folder.path).info()["status"] == "running"  # following never rewrites the run


def test_pause_resume_and_a_nan_failure_of_a_followed_run(window, qtbot, tmp_path):
    folder = write_run(tmp_path / "runs" / "20260101-000000-nan", [1.0], status="running")
    panel, view = runs_view(window, tmp_path)
    panel.show_run(str(folder.path))
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert (folder.path / "control").read_text() == "pause"
    folder.emit("pause", epoch=2, step=1)  # what the training process answers
    qtbot.waitUntil(lambda: panel.resume_button.isEnabled() and not panel.pause_button.isEnabled(), timeout=5_000)
    qtbot.mouseClick(panel.resume_button, Qt.MouseButton.LeftButton)
    assert (folder.path / "control").read_text() == "run"
    folder.emit("resume", epoch=2, step=1)
    folder.emit("error", kind="nan", message="the loss became NaN at epoch 2, step 3: lower the learning rate")
    finish(folder, "failed")
    qtbot.waitUntil(lambda: ended(panel), timeout=5_000)
    message = panel.error_banner.text()
    assert "became NaN" in message and "lower the learning rate" in message and "unchanged" in message
