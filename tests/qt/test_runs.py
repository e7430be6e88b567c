"""Runs view: run folders written by the engine (as ``studio train`` writes them) are listed from the
index, sorted, filtered, tagged, overlaid, compared, exported, followed live while they grow, and
deleted only after confirmation; "Compare variants" trains one run per value."""

import csv
import json
import os
import time

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox
from test_train_panel import ended, points

from studio.core.experiments.curve_cache import load_curves
from studio.core.experiments.labels import read_labels
from studio.core.project import default_project
from studio.core.training import RunFolder
from studio.core.training.plan import RunPlan, check_config, prepare_run_folder
from studio.qt.train.run_diff import DiffDialog


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


def names(view):
    return [flat["name"] for flat in view.model.shown]


def click_header(qtbot, view, column):
    header = view.table.horizontalHeader()
    section = view.model.columns.index(column)
    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))


def click_cell(qtbot, view, row, column):
    index = view.model.index(row, view.model.columns.index(column))
    view.table.scrollTo(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=view.table.visualRect(index).center())


def open_editor(view):
    """The cell editor F2 opened (earlier editors may linger until deleted)."""
    return [editor for editor in view.table.findChildren(QLineEdit) if editor.isVisible()][-1]


def three_runs(tmp_path):
    root = tmp_path / "runs"
    write_run(root / "20260101-000000-first", [1.0, 0.6])
    write_run(root / "20260101-000100-second", [0.9], batch_size=64)
    write_run(root / "20260101-000200-third", [0.8, 0.7, 0.3], batch_size=16)
    return root


def test_runs_are_listed_sorted_by_header_clicks_and_filtered(window, qtbot, tmp_path):
    three_runs(tmp_path)
    _panel, view = runs_view(window, tmp_path)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    assert names(view)[0].endswith("third")  # newest first until a header is clicked
    assert {"status", "epochs", "batch_size", "last.val_loss"} <= {view.model.headerData(i, Qt.Orientation.Horizontal)
                                                                   for i in range(view.model.columnCount())}
    click_header(qtbot, view, "config.batch_size")
    assert [flat["config.batch_size"] for flat in view.model.shown] == [16, 32, 64]
    click_header(qtbot, view, "config.batch_size")
    assert [flat["config.batch_size"] for flat in view.model.shown] == [64, 32, 16]
    click_header(qtbot, view, "last.val_loss")
    assert names(view) == ["20260101-000200-third", "20260101-000000-first", "20260101-000100-second"]

    qtbot.keyClicks(view.filter_edit, "batch_size>=32; val_loss<0.9")
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)
    assert names(view) == ["20260101-000000-first"] and not view.problem.isVisible()
    view.filter_edit.clear()  # an empty filter line shows every run again
    assert view.model.rowCount() == 3
    qtbot.keyClicks(view.filter_edit, "nonsense=3")
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)
    assert view.problem.isVisible() and "unknown column 'nonsense'" in view.problem.text()
    assert "\n" not in view.problem.text() and view.model.rowCount() == 3  # the table stays as it was

    view.toggle_column("config.seed", True)  # the column chooser: any config value or metric
    assert "config.seed" in view.model.columns
    assert "config.seed" in view.model.available_columns() and "best.val_accuracy" in view.model.available_columns()


def test_tags_and_notes_are_edited_in_the_table_and_filterable(window, qtbot, tmp_path):
    root = three_runs(tmp_path)
    _panel, view = runs_view(window, tmp_path)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    row = names(view).index("20260101-000100-second")
    click_cell(qtbot, view, row, "tags")
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    editor = open_editor(view)
    qtbot.keyClicks(editor, "baseline, big batch")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: read_labels(root / "20260101-000100-second")["tags"] == ["baseline", "big batch"])

    view.toggle_column("note", True)
    row = names(view).index("20260101-000100-second")
    click_cell(qtbot, view, row, "note")
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    editor = open_editor(view)
    qtbot.keyClicks(editor, "too slow")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: read_labels(root / "20260101-000100-second")["note"] == "too slow")
    assert read_labels(root / "20260101-000100-second")["tags"] == ["baseline", "big batch"]

    qtbot.keyClicks(view.filter_edit, "tags=baseline")
    qtbot.keyClick(view.filter_edit, Qt.Key.Key_Return)
    assert names(view) == ["20260101-000100-second"]
    view.refresh()  # the index picks the labels up from labels.json
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and view.model.shown[0]["note"] == "too slow", timeout=10_000)


def test_runs_are_overlaid_compared_exported_and_deleted(window, qtbot, dialogs, tmp_path, monkeypatch):
    root = three_runs(tmp_path)
    _panel, view = runs_view(window, tmp_path)
    qtbot.waitUntil(lambda: view.model.rowCount() == 3, timeout=10_000)
    for overlay in view.overlays:  # nothing selected yet: the plots say what to do
        assert overlay.plot.plot_title.startswith("Select runs") and not overlay.choice.isEnabled()
    first, second = names(view).index("20260101-000000-first"), names(view).index("20260101-000100-second")
    click_cell(qtbot, view, first, "name")
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier,
                     view.table.visualRect(view.model.index(second, 0)).center())
    assert len(view.selected_paths()) == 2 and view.compare_button.isEnabled()
    qtbot.waitUntil(lambda: len(view.loss_plot.curves) == 4, timeout=10_000)  # train + validation of each
    assert all(overlay.choice.isEnabled() for overlay in view.overlays)
    assert len(view.loss_plot.curves["20260101-000000-first/loss"].getData()[0]) == 2
    assert view.overlays[1].choice.currentText() == "accuracy" and len(view.metric_plot.curves) == 4
    view.overlays[0].choice.setCurrentText("loss (every batch)")
    assert len(view.loss_plot.curves) == 2

    qtbot.mouseClick(view.compare_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(DiffDialog)
    assert dialog is not None and dialog.isVisible()
    batch = {"20260101-000000-first": "32", "20260101-000100-second": "64"}
    header = dialog.tree.headerItem()
    assert dialog.rows()["batch_size"] == (batch[header.text(1)], batch[header.text(2)])
    assert "Graph: the same" in dialog.tree.topLevelItem(2).text(0)
    dialog.close()

    target = tmp_path / "table.csv"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    qtbot.mouseClick(view.csv_button, Qt.MouseButton.LeftButton)
    lines = list(csv.reader(target.read_text().splitlines()))
    assert lines[0] == view.model.columns and len(lines) == 4
    assert sorted(line[lines[0].index("config.batch_size")] for line in lines[1:]) == ["16", "32", "64"]

    view.table.clearSelection()
    click_cell(qtbot, view, first, "name")
    dialogs.answer = QMessageBox.StandardButton.No
    view.delete_selected()
    assert (root / "20260101-000000-first").exists() and len(dialogs.questions) == 1
    dialogs.answer = QMessageBox.StandardButton.Yes
    view.delete_selected()
    assert not (root / "20260101-000000-first").exists()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)


def test_a_generative_run_offers_its_own_losses_and_a_long_run_plots_at_once(window, qtbot, tmp_path):
    root = tmp_path / "runs"
    gan = write_run(root / "20260101-000000-gan", [])
    (gan.path / "history.json").write_text(json.dumps({"epoch": [1, 2], "d_loss": [0.7, 0.6],
                                                       "g_loss": [1.5, 1.2], "d_acc_real": [0.5, 0.6]}))
    long = write_run(root / "20260101-000100-long", [], status="running")
    steps = 40_000  # batch events, as a long run logs them: twice what the plot may draw
    with open(long.path / "events.jsonl", "a") as events:
        events.writelines(json.dumps({"type": "batch", "time": 0, "epoch": 1, "step": step, "steps": steps,
                                     "logs": {"loss": 1.0 / step}, "lr": 0.001}) + "\n" for step in range(1, steps + 1))
    load_curves(long.path, store_after=0)  # what the training process keeps (hook.StoreHook)
    finish(long, "completed")
    _panel, view = runs_view(window, tmp_path)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10_000)
    view.select_paths([str(gan.path)])
    qtbot.waitUntil(lambda: view.overlays[1].choice.count() > 0, timeout=10_000)
    choices = [view.overlays[1].choice.itemText(i) for i in range(view.overlays[1].choice.count())]
    assert {"d_loss", "g_loss", "d_acc_real"} <= set(choices)
    assert view.overlays[1].choice.currentText() == "g_loss" and "20260101-000000-gan/g_loss" in view.metric_plot.curves

    with qtbot.waitSignal(view.overlaid, timeout=10_000):
        view.select_paths([str(long.path)])
    assert view.overlays[0].choice.currentText() == "loss (every batch)"
    curve = view.loss_plot.curves["20260101-000100-long/loss (every batch)"]
    assert len(curve.xData) == steps and len(curve.getData()[0]) < steps // 2  # drawn down-sampled


def test_variants_are_created_trained_one_after_another_and_overlaid(window, qtbot, tmp_path):
    _panel, view = runs_view(window, tmp_path)
    started = []

    class FinishedRunner:  # what a Runner reports once its training process ended
        def __init__(self, run_dir):
            self.run_dir, self.finished = run_dir, False

        def poll(self, timeout=0):
            self.finished = True
            return [{"type": "end", "status": "completed"}]

        def stop(self):
            pass

    def start(runner):
        project, run_dir = runner.project, runner.folder.path
        started.append(project)
        folder = prepare_run_folder(RunPlan(project, check_config(project.training)), run_dir)
        folder.update_info(status="running", pid=os.getpid(), started=time.time())
        add_epoch(folder, 1, 0.5 + len(started) / 10)
        finish(folder, "completed")
        return FinishedRunner(run_dir)

    before = window.document.project.to_dict()
    dialog = view.open_variants()
    dialog.start_run = start
    assert dialog.progress.count() == 1 and "Create and Train" in dialog.progress.item(0).text()
    assert not dialog.progress.item(0).flags() & Qt.ItemFlag.ItemIsSelectable  # a note, not a run
    dialog.choice.setCurrentText("activation")
    dialog.values.clear()
    qtbot.keyClicks(dialog.values, "relu, nope")
    qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    assert dialog.problem.isVisible() and "unknown activation 'nope'" in dialog.problem.text() and not started

    dialog.values.clear()
    qtbot.keyClicks(dialog.values, "relu, sigmoid")
    with qtbot.waitSignal(dialog.finished_runs, timeout=20_000) as finished:
        qtbot.mouseClick(dialog.run_button, Qt.MouseButton.LeftButton)
    paths = finished.args[0]
    assert len(paths) == 2 and dialog.progress.count() == 2  # the note made way for the runs
    hidden = [[node.params.get("activation") for node in project.graph.nodes.values()
               if node.type in ("Conv2D", "Dense")] for project in started]
    assert "sigmoid" not in hidden[0] and "relu" in hidden[0] and "sigmoid" in hidden[1]
    assert all(read_labels(path)["tags"] == ["compare:activation"] for path in paths)
    assert "completed" in dialog.progress.item(1).text() and dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: sorted(view.selected_paths()) == sorted(paths), timeout=10_000)
    qtbot.waitUntil(lambda: len(view.loss_plot.curves) == 4, timeout=10_000)
    assert window.document.project.to_dict() == before  # the open project is untouched


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


def test_names_status_and_metrics_are_not_cut_in_the_table_and_the_run_lists(window, qtbot, tmp_path):
    from studio.core.training.runs import run_name

    window.model_area.open_template("vae_28")
    assert run_name(window.document.project) == "vae_28-digits"  # unsaved: not the first template's name
    run = write_run(tmp_path / "runs" / "20261206-101500-project-small_cnn_28-digits", [0.9, 0.5],
                    status="running")
    panel, view = runs_view(window, tmp_path)
    panel.tabs.setCurrentIndex(0)  # listed while the Runs tab is hidden
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10_000)
    finish(run, "completed")  # "completed" needs more room than "running" did
    view.refresh()
    qtbot.waitUntil(lambda: view.model.shown[0]["status"] == "completed", timeout=10_000)
    metrics = view.table.fontMetrics()
    for column in ("name", "status", "last.val_accuracy"):
        index = view.model.columns.index(column)
        text = str(view.model.headerData(index, Qt.Orientation.Horizontal))
        cell = str(view.model.index(0, index).data())
        assert view.table.columnWidth(index) >= metrics.horizontalAdvance(max(text, cell, key=len)) + 10, column
    window.show_area("Export")
    picker = window.area_widget("Export").run_combo
    qtbot.waitUntil(lambda: picker.count() == 1, timeout=5000)
    assert picker.toolTip() == picker.itemText(0) and picker.itemText(0).endswith("(completed, 2 epochs)")
    assert picker.view().minimumWidth() >= picker.view().fontMetrics().horizontalAdvance(picker.itemText(0))
