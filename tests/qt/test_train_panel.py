"""Train panel: settings form with undo, refusals, a real run from Start to Stop, a dying process,
and long curves that stay cheap to draw."""

import os
import signal

import numpy as np
import pytest

from PySide6.QtCore import Qt

from studio.core.training import RunFolder, read_run
from studio.qt.widgets.plots import CurvePlot
from studio.core.training.curves import RunCurves, Series

from conftest import chain_project

TINY_DIGITS = {"source": "digits", "image_size": 28, "max_samples": 300, "seed": 0,
               "split": {"train": 0.7, "val": 0.15, "test": 0.15}, "normalize": "scale"}


def points(plot, key):
    """How many points the plot's curve ``key`` holds (0 when it has none yet)."""
    x = plot.curves[key].getData()[0] if key in plot.curves else None
    return 0 if x is None else len(x)


def ended(panel) -> bool:
    """The panel shows a run that reached a final state."""
    return panel.watcher is not None and panel.watcher.ended


def train_panel(window, tmp_path, **training):
    """The Train panel of a saved, tiny digits project (runs go to ``tmp_path/runs``)."""
    window.document.project.dataset = dict(TINY_DIGITS)
    window.document.project.training.update(training)
    assert window.save_project(tmp_path / "tiny.dlstudio")
    window.show_area("Train")
    return window.area_widget("Train")


def test_settings_form_edits_are_undoable_and_hide_what_does_not_apply(window, tmp_path):
    panel = train_panel(window, tmp_path)
    doc, form = window.document, panel.form
    form.editors["batch_size"].box.setValue(64)
    assert doc.project.training["batch_size"] == 64
    form.editors["optimizer"].box.setCurrentText("momentum")
    assert doc.project.training["optimizer"] == "momentum"
    momentum_row = form.rows["momentum"]
    assert momentum_row[0].isRowVisible(momentum_row[1])
    rate = form.editors["learning_rate"].line
    rate.setText("-1")
    rate.textEdited.emit("-1")  # an invalid value turns red and is not stored
    assert doc.project.training.get("learning_rate", 0.001) == 0.001 and rate.styleSheet()
    low = form.editors["min_learning_rate"].line
    low.setText("0.5")
    low.textEdited.emit("0.5")  # valid alone, refused against the learning rate
    assert "min_learning_rate" not in doc.project.training and "above learning_rate" in low.toolTip()
    rate.setText("3e-4")
    rate.textEdited.emit("3e-4")
    assert doc.project.training["learning_rate"] == 3e-4
    doc.undo_stack.undo()
    assert doc.project.training.get("learning_rate", 0.001) == 0.001 and rate.text() == "0.001"
    doc.undo_stack.undo()
    assert doc.project.training.get("optimizer", "adam") == "adam"
    assert not momentum_row[0].isRowVisible(momentum_row[1])
    doc.undo_stack.undo()
    assert doc.project.training.get("batch_size", 32) == 32 and form.editors["batch_size"].box.value() == 32


def test_graph_errors_refuse_to_start_and_name_the_layer(window, qtbot, tmp_path):
    project = chain_project("Conv2D", "Flatten", "Dense")
    conv = next(node for node in project.graph.nodes.values() if node.type == "Conv2D")
    project.graph.set_param(conv.id, "kernel_size", [40, 40])
    window.document.set_project(project)
    panel = train_panel(window, tmp_path)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.error_banner.isVisible() and "conv2d" in panel.error_banner.text()
    assert panel.watcher is None
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


@pytest.mark.slow
def test_start_shows_live_curves_and_stop_saves_a_checkpoint(window, qtbot, tmp_path):
    panel = train_panel(window, tmp_path, epochs=50, batch_size=16, grad_norm_every=2)
    assert str(tmp_path / "runs") in panel.run_label.text()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.start_button.isEnabled()
    # The first epoch ends: per-batch, smoothed, per-epoch and validation points reach the plots.
    # (The plots take turns to redraw, so wait until each has had its turn.)
    grads = panel.plots["grad"]
    qtbot.waitUntil(lambda: bool(points(panel.plots["loss"], "loss/val") and points(panel.plots["metric"], "metric/val")
                                 and points(panel.plots["lr"], "lr") and len(grads.curves) >= 2), timeout=240_000)
    for key in ("loss/batch", "loss/smoothed", "loss/epoch"):
        assert points(panel.plots["loss"], key) >= 1, key
    assert grads.getPlotItem().ctrl.logYCheck.isChecked()
    assert panel.progress.value() > 0 and "Epoch" in panel.progress.format()
    assert "samples/s" in panel.rate.text() and "ETA" in panel.rate.text()
    assert "CPU" in panel.device.text()

    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ended(panel), timeout=60_000)
    run = read_run(panel.watcher.path)
    assert run["status"] == "stopped" and panel.status.text().startswith("Stopped")
    assert RunFolder(run["path"]).last_checkpoint.exists()
    assert not panel.error_banner.isVisible() and panel.start_button.isEnabled()
    model = panel.runs_view.model
    qtbot.waitUntil(lambda: model.rowCount() == 1 and model.shown[0]["status"] == "stopped", timeout=10_000)
    assert model.shown[0]["config.batch_size"] == 16


@pytest.mark.slow
def test_a_training_process_that_dies_shows_what_to_do_and_the_window_survives(window, qtbot, tmp_path):
    panel = train_panel(window, tmp_path, epochs=50)
    before = window.document.project.to_dict()
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    pids = []

    def child_started() -> bool:
        pid = panel.watcher is not None and RunFolder(panel.watcher.path).info().get("pid")
        pids.append(pid)
        return bool(pid)

    qtbot.waitUntil(child_started, timeout=60_000)
    os.kill(pids[-1], signal.SIGKILL)  # as the out-of-memory killer would
    qtbot.waitUntil(lambda: ended(panel), timeout=30_000)
    message = panel.error_banner.text()
    assert panel.error_banner.isVisible() and "killed" in message and "batch size" in message
    assert read_run(panel.watcher.path)["status"] == "killed"
    assert window.document.project.to_dict() == before
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    panel.form.editors["epochs"].box.setValue(3)  # the window still takes edits
    assert window.document.project.training["epochs"] == 3
    window.show_area("Model")
    assert window.current_area == "Model"


def test_a_long_curve_is_clipped_and_downsampled_to_the_pixels(qtbot):
    plot = CurvePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.resize(600, 300)
    plot.show()
    qtbot.waitExposed(plot)
    series = Series()
    rng = np.random.default_rng(0)
    for x, y in enumerate(rng.random(100_000)):
        series.append(float(x), float(y))
    item = plot.curve("loss/batch", "train", 0, "batch")
    plot.set_data("loss/batch", series.x, series.y)
    assert item.opts["clipToView"] and item.opts["autoDownsample"] and item.opts["downsampleMethod"] == "peak"
    qtbot.wait(20)
    drawn_x, _ = item.curve.getData()
    assert len(item.getOriginalDataset()[0]) == 100_000
    # pyqtgraph keeps about 5 samples (min and max: 10 points) per pixel column, whatever the length.
    assert len(drawn_x) <= 10 * plot.width()
    plot.setXRange(50_000, 50_400, padding=0)
    qtbot.wait(20)
    drawn_x, _ = item.curve.getData()
    assert 400 <= len(drawn_x) <= 410 and drawn_x.min() >= 49_990 and drawn_x.max() <= 50_410


def test_batch_curves_show_each_interval_not_the_running_mean():
    curves = RunCurves()
    batch = {"type": "batch", "epoch": 1, "steps": 10, "lr": 0.1}
    curves.add([{"type": "start", "steps_per_epoch": 10},
                {**batch, "step": 2, "logs": {"loss": 2.0, "accuracy": 0.5}},
                {**batch, "step": 4, "logs": {"loss": 1.5, "accuracy": 0.5}},
                {"type": "grad_norms", "epoch": 1, "step": 4, "norms": {"dense": 0.0, "conv": 0.5}},
                {"type": "epoch", "epoch": 1, "logs": {"loss": 1.2, "accuracy": 0.6, "val_loss": 1.4,
                                                      "val_accuracy": 0.55}}])
    assert list(curves.get("loss/batch").x) == [0.2, 0.4]
    assert list(curves.get("loss/batch").y) == [2.0, 1.0]  # batches 3-4 averaged (1.5 * 4 - 2.0 * 2) / 2
    assert curves.metric == "accuracy" and list(curves.get("metric/val").y) == [0.55]
    assert curves.get("grad/dense").y[0] > 0  # a zero norm still shows on a log axis
    assert list(curves.get("loss/smoothed").y)[0] == 2.0


@pytest.mark.slow
def test_kill_ends_a_training_process_at_once(window, qtbot, tmp_path):
    panel = train_panel(window, tmp_path, epochs=50)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(panel.kill_button.isEnabled() and panel.watcher
                                 and RunFolder(panel.watcher.path).info().get("pid")), timeout=60_000)
    qtbot.mouseClick(panel.kill_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: ended(panel), timeout=10_000)
    assert read_run(panel.watcher.path)["status"] == "killed" and not panel.watcher.runner.alive
    assert "Training was killed" in panel.error_banner.text() and panel.start_button.isEnabled()


def test_a_start_loads_the_dataset_once_and_inspect_reuses_it(window, qtbot, tmp_path, monkeypatch):
    import studio.core.data as data
    from studio.core.data import cache
    from studio.core.training import Runner
    from studio.qt.inspect.source import load_graph_source

    calls = []
    real = data.load_dataset
    for module in (cache, data):  # wherever load_dataset is looked up: the cache, the planner
        monkeypatch.setattr(module, "load_dataset", lambda spec, *rest: calls.append(spec) or real(spec, *rest))
    monkeypatch.setattr(Runner, "_spawn", lambda self: None)  # the child process loads its own copy
    cache.clear()
    panel = train_panel(window, tmp_path)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.watcher is not None, timeout=30_000)
    assert len(calls) == 1 and panel.watcher.state == "starting"
    source = load_graph_source(window.document.project)  # what the Inspect area loads on its worker
    assert source.dataset is cache.cached_dataset(TINY_DIGITS) and len(calls) == 1
    cache.clear()


def test_runs_are_named_after_the_project_file_model_and_data(window, qtbot, tmp_path, monkeypatch):
    import studio.qt.train.panel as train_module
    from studio.core.training import TrainingError

    started = []

    def refuse(runner):
        started.append(runner.run_dir)
        raise TrainingError("not in this test")

    monkeypatch.setattr(train_module, "start_runner", refuse)
    window.model_area.open_template("resnet18")
    window.document.set_section("dataset", {"source": "shapes", "image_size": 32, "seed": 0})
    assert window.save_project(tmp_path / "myproj.dlstudio")
    assert window.document.project.name == "myproj"
    window.show_area("Train")
    panel = window.area_widget("Train")
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(started), timeout=10_000)
    assert started[0].name.endswith("-myproj-resnet18-shapes") and started[0].parent == tmp_path / "runs"


def test_plots_follow_what_a_gan_run_logs(window, qtbot, tmp_path):
    from studio.core.training import RunFolder

    folder = RunFolder(tmp_path / "runs" / "gan")
    folder.path.mkdir(parents=True)
    folder.update_info(name="gan", status="completed", created=1.0)
    folder.emit("start", steps_per_epoch=2)
    for step in (1, 2):
        folder.emit("batch", epoch=1, step=step, logs={"d_loss": 0.7, "g_loss": 1.2 + step, "d_acc_real": 0.5}, lr=1e-3)
    folder.emit("epoch", epoch=1, logs={"d_loss": 0.7, "g_loss": 2.0, "d_acc_real": 0.5})
    folder.emit("warning", kind="mode_collapse", epoch=1, message="sample diversity fell below half the data's")
    folder.emit("end", status="completed")
    panel = window.area_widget("Train")
    panel.show_run(str(folder.path))
    qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
    panel.redraw(everything=True)
    loss = panel.plots["loss"]
    assert points(loss, "loss/batch") == 2 and points(loss, "loss/smoothed/g_loss") == 2
    assert "d_loss" in loss.curves["loss/batch"].name() and "g_loss" in loss.curves["loss/smoothed/g_loss"].name()
    assert panel.plots["metric"].plot_title == "D acc real"
    assert "not recorded" in panel.plots["grad"].plot_title
    assert "diversity fell" in panel.notes.text() and not panel.notes.isHidden()


def untrained_stop_shown(panel) -> None:
    """A run stopped before its first batch: status, bar and buttons agree; no ETA is left."""
    from studio.qt.train.panel import STOPPED_UNTRAINED_TEXT

    run = read_run(panel.watcher.path)
    assert run["status"] == "stopped" and run["epochs_done"] == 0
    assert panel.status.text() == STOPPED_UNTRAINED_TEXT and panel.progress.format() == "Not trained"
    assert panel.rate.text() == "" and not panel.error_banner.isVisible()
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()
    assert not panel.pause_button.isEnabled() and not panel.kill_button.isEnabled()


@pytest.mark.slow
def test_stop_works_during_start_up_and_the_run_ends_stopped(window, qtbot, tmp_path):
    from studio.qt.train.panel import STOP_STARTING_TEXT

    panel = train_panel(window, tmp_path, epochs=50)
    # Pressed while the run is still being prepared: sent as soon as its process exists.
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.stop_button.isEnabled() and not panel.pause_button.isEnabled()
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == STOP_STARTING_TEXT and not panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: ended(panel), timeout=60_000)
    untrained_stop_shown(panel)

    # Pressed during a start-up stage: the process ends at the next one.
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.watcher is not None and panel.watcher.stage == "loading_backend", timeout=60_000)
    assert panel.status.text() == "Loading Keras and its backend…"
    assert panel.progress.format() == "Starting up: step 1 of 4" and panel.rate.text() == ""
    assert panel.stop_button.isEnabled() and panel.kill_button.isEnabled() and not panel.pause_button.isEnabled()
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert panel.status.text() == STOP_STARTING_TEXT
    qtbot.waitUntil(lambda: ended(panel), timeout=60_000)
    untrained_stop_shown(panel)


def test_stop_pressed_while_a_run_is_prepared_is_kept_by_its_runner(window, qtbot, tmp_path, monkeypatch):
    import threading

    import studio.qt.train.panel as train_module
    from studio.core.training import Runner
    from studio.core.training.runs import read_control
    from studio.qt.train.panel import STOP_STARTING_TEXT

    controls = []  # what the training process would read first, in place of starting one
    monkeypatch.setattr(Runner, "_spawn", lambda self: controls.append(read_control(self.run_dir)))
    planning = threading.Event()
    prepare = train_module.start_runner
    monkeypatch.setattr(train_module, "start_runner", lambda runner: planning.wait(30) and prepare(runner))
    panel = train_panel(window, tmp_path)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)  # the run folder does not exist yet
    assert panel.status.text() == STOP_STARTING_TEXT and not panel.stop_button.isEnabled()
    planning.set()
    qtbot.waitUntil(lambda: panel.watcher is not None, timeout=30_000)
    assert controls == ["stop"]  # sent by the Runner before the training process starts
    assert panel.watcher.state == "stopping" and panel.status.text() == STOP_STARTING_TEXT


class ScriptedRunner:
    """A Runner stand-in whose events the test hands out, recording the controls it receives."""

    def __init__(self, run_dir):
        self.run_dir, self.exitcode, self.events, self.calls = run_dir, None, [], []
        self.stop_requested = False

    def poll(self):
        events, self.events = self.events, []
        return events

    stop, pause, resume = (lambda self: self.calls.append("stop"), lambda self: self.calls.append("pause"),
                           lambda self: self.calls.append("run"))


def test_pause_and_stop_texts_agree_with_the_progress_and_drop_the_eta(window, qtbot, tmp_path):
    from studio.core.training import RunWatcher

    panel = train_panel(window, tmp_path)
    runner = ScriptedRunner(tmp_path / "runs" / "scripted")
    panel._reset_view()
    panel.watcher = RunWatcher.for_runner(runner)

    def deliver(kind, **fields):
        runner.events.append({"type": kind, "time": 0.0, **fields})
        panel.poll()

    def click(button):
        assert button.isEnabled(), button.text()
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    deliver("stage", stage="building")
    assert panel.status.text() == "Building the model…" and panel.progress.format() == "Starting up: step 3 of 4"
    deliver("start", epochs=2, steps_per_epoch=10)
    deliver("stage", stage="compiling")
    assert panel.status.text().startswith("Compiling the training step") and panel.pause_button.isEnabled()
    deliver("batch", epoch=1, step=1, steps=10, samples_per_s=100.0, eta_s=30.0)
    assert panel.status.text() == "Training" and "ETA 00:30" in panel.rate.text()
    click(panel.pause_button)
    assert runner.calls == ["pause"] and panel.rate.text() == ""
    deliver("pause", epoch=1, step=3)  # batches 2-3 were not reported (throttled): the bar catches up
    assert panel.status.text() == "Paused at epoch 1, batch 3" and panel.progress.format() == "Epoch 1/2 · batch 3/10"
    click(panel.resume_button)
    deliver("resume", epoch=1, step=3)
    deliver("batch", epoch=1, step=4, steps=10, samples_per_s=100.0, eta_s=20.0)
    assert panel.status.text() == "Training" and "ETA" in panel.rate.text()
    click(panel.stop_button)
    assert runner.calls == ["pause", "run", "stop"] and panel.rate.text() == ""
    assert panel.status.text().startswith("Stopping: finishing the batch")
    deliver("batch", epoch=1, step=5, steps=10, samples_per_s=100.0, eta_s=19.0)  # the last batch
    assert panel.status.text().startswith("Stopping")
    deliver("stop", reason="user", epoch=1, step=5)
    deliver("end", status="stopped")
    assert panel.status.text() == "Stopped: checkpoint saved" and panel.rate.text() == ""
    assert panel.progress.format() == "Epoch 1/2 · batch 5/10" and not panel.stop_button.isEnabled()


def test_a_partial_epoch_is_shown_as_partial_and_counted_nowhere(window, qtbot, tmp_path):
    folder = RunFolder(tmp_path / "runs" / "stopped")
    folder.path.mkdir(parents=True)
    folder.update_info(name="stopped", status="stopped", created=1.0, config={"epochs": 5})
    folder.emit("start", steps_per_epoch=4, epochs=5)
    for epoch, partial in ((1, False), (2, False), (3, True)):
        for step in range(1, 3 if partial else 5):
            folder.emit("batch", epoch=epoch, step=step, logs={"loss": 1.0 / epoch, "accuracy": 0.3 * epoch}, lr=1e-3)
        folder.emit("epoch", epoch=epoch, logs={"loss": 1.0 / epoch, "accuracy": 0.3 * epoch,
                                                "val_loss": 1.0 / epoch, "val_accuracy": 0.3 * epoch},
                    **({"partial": True} if partial else {}))
    folder.emit("end", status="stopped")
    assert window.save_project(tmp_path / "p.dlstudio")
    panel = window.area_widget("Train")
    panel.show_run(str(folder.path))
    qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
    panel.redraw(everything=True)
    assert points(panel.plots["metric"], "metric/val") == 2  # epochs 1 and 2, no point for the partial 3rd
    assert "epoch 3 was stopped part-way" in panel.status.text()
    window.show_area("Export")
    picker = window.area_widget("Export").run_combo
    qtbot.waitUntil(lambda: picker.count() == 1, timeout=5000)
    assert picker.itemText(0) == "stopped (stopped, 2 epochs + partial)"


def _losses_run(root, name, losses, metric=None):
    """A finished 2-epoch run folder logging ``losses`` (and ``metric``), with validation values."""
    folder = RunFolder(root / "runs" / name)
    folder.path.mkdir(parents=True)
    folder.update_info(name=name, status="completed", created=1.0)
    folder.emit("start", steps_per_epoch=4, epochs=2)
    for epoch in (1, 2):
        values = {loss: 1.0 / epoch + index for index, loss in enumerate(losses)}
        values.update({metric: 0.4 * epoch} if metric else {})
        for step in range(1, 5):
            folder.emit("batch", epoch=epoch, step=step, logs=values, lr=1e-3)
        folder.emit("epoch", epoch=epoch, logs={**values, **{f"val_{key}": value for key, value in values.items()}})
    folder.emit("end", status="completed")
    return folder


def legend_names(plot) -> list[str]:
    return [label.text for _sample, label in plot.getPlotItem().legend.items]


def test_every_drawn_curve_is_named_and_a_vae_project_hides_classifier_settings(window, qtbot, tmp_path):
    window.resize(1400, 860)  # the first window's size
    assert window.save_project(tmp_path / "p.dlstudio")
    window.show_area("Train")
    panel = window.area_widget("Train")
    form = panel.form
    assert form.editors["objective"].isVisibleTo(form) and form.editors["metrics"].isVisibleTo(form)
    window.model_area.open_template("vae_28")
    assert not form.editors["objective"].isVisibleTo(form) and not form.editors["metrics"].isVisibleTo(form)

    classifier = _losses_run(tmp_path, "classifier", ["loss"], "accuracy")
    panel.show_run(str(classifier.path))
    qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
    panel.redraw(everything=True)
    assert panel.plots["metric"].getPlotItem().viewRange()[1][1] > 0.7  # the classifier's accuracy, up to 0.8
    vae = _losses_run(tmp_path, "vae", ["loss", "reconstruction_loss", "kl_loss"])
    panel.show_run(str(vae.path))
    qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
    panel.redraw(everything=True)
    loss = panel.plots["loss"]
    names = legend_names(loss)
    assert len(names) == len(loss.curves) == 8  # each curve, the other losses' train and validation
    assert "train (epoch)" not in names and "validation" not in names  # named after the run's losses
    assert {"kl_loss (train)", "kl_loss (validation)", "reconstruction_loss (train)", "loss (validation)"} <= set(names)
    legend = loss.getPlotItem().legend
    rows = -(-len(names) // legend.columnCount)
    assert legend.maximumHeight() >= rows * max(label.boundingRect().height() for _s, label in legend.items)
    kl_train, kl_val = loss.curves["loss/smoothed/kl_loss"], loss.curves["loss/val/kl_loss"]
    assert kl_train.opts["pen"].color() == kl_val.opts["pen"].color()  # a loss keeps its colour
    metric = panel.plots["metric"]
    assert not metric.curves and not legend_names(metric) and "No metric" in metric.plot_title
    assert metric.getPlotItem().viewRange() == [[0, 1], [0, 1]]  # not the classifier's range
    assert not panel.plots["grad"].getPlotItem().getAxis("left").style["showValues"]  # no meaningless ticks


def test_the_live_view_does_not_jump_when_a_run_starts(window, qtbot, tmp_path):
    window.resize(1400, 860)
    assert window.save_project(tmp_path / "p.dlstudio")
    window.show_area("Train")
    panel = window.area_widget("Train")
    qtbot.wait(50)
    loss = panel.plots["loss"].getPlotItem()
    before = (panel.tabs.geometry().top(), loss.vb.sceneBoundingRect().top())
    folder = RunFolder(tmp_path / "runs" / "starting")
    folder.path.mkdir(parents=True)
    folder.update_info(name="starting", status="running", created=1.0, pid=os.getpid())
    folder.emit("start", steps_per_epoch=4, epochs=2, notes=["no GPU found: training on the CPU"],
                device={"kind": "cpu", "gpus": [], "replicas": 1})
    folder.emit("batch", epoch=1, step=1, steps=4, logs={"loss": 1.0, "accuracy": 0.5}, lr=1e-3)
    panel.show_run(str(folder.path))
    qtbot.waitUntil(lambda: "no GPU" in panel.notes.text(), timeout=5000)
    panel.redraw(everything=True)
    qtbot.wait(50)
    assert (panel.tabs.geometry().top(), loss.vb.sceneBoundingRect().top()) == before
