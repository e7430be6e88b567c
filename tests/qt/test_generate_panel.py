"""The Generate area: follows a run's sample grids live, the epoch slider scrubs, and the
latent-exploration buttons draw from the run's model on a worker thread."""

import io
import os
import shutil
import socket
import time

import numpy as np
from PySide6.QtCore import Qt

from studio.core import fileio
from studio.core.inspect.render import save_png
from studio.core.training import RunFolder
from studio.qt.generate.panel import GeneratePanel

SIDE = 4 * 8 + 3 * 2  # a 4 x 4 grid of 8 x 8 samples


def _new_run(root, name="gan"):
    folder = RunFolder(root / "runs" / name)
    (folder.path / "samples").mkdir(parents=True)
    buffer = io.BytesIO()
    np.savez(buffer, latents=np.zeros((16, 8), np.float32))
    fileio.atomic_write_bytes(folder.path / "samples" / "fixed.npz", buffer.getvalue())
    # still training in this (live) process: more epochs follow
    folder.update_info(name=name, status="running", pid=os.getpid(), host=socket.gethostname(), created=time.time())
    return folder


def _finish_epoch(folder, epoch, grey, fid):
    """What the training process writes at the end of an epoch: the grid, its event, the logs."""
    relative = f"samples/epoch_{epoch:03d}.png"
    save_png(folder.path / relative, np.full((SIDE, SIDE), grey, np.uint8))
    folder.emit("samples", epoch=epoch, path=relative, kind="generated")
    folder.emit("epoch", epoch=epoch, logs={"d_loss": 1.0, "g_loss": 1.0, "fid": fid})


def _shown_grey(panel):
    image = panel.grid_view.image
    assert image is not None and (image.width(), image.height()) == (SIDE, SIDE)
    return image.pixelColor(SIDE // 2, SIDE // 2).red()


def test_grid_appears_after_an_epoch_and_the_slider_scrubs(qtbot, tmp_path):
    folder = _new_run(tmp_path)
    panel = GeneratePanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.run_dir == folder.path, timeout=5000)
    assert panel.run_combo.count() == 1 and panel.grid_view.image is None  # no epoch yet

    _finish_epoch(folder, 1, grey=40, fid=30.0)
    qtbot.waitUntil(lambda: panel.grid_view.image is not None, timeout=5000)
    assert _shown_grey(panel) == 40 and panel.epoch_label.text() == "epoch 1"

    _finish_epoch(folder, 2, grey=200, fid=12.0)
    qtbot.waitUntil(lambda: panel.epoch_label.text() == "epoch 2", timeout=5000)  # follows the newest
    assert _shown_grey(panel) == 200
    assert "12" in panel.quality_label.text() and "best 12 at epoch 2" in panel.quality_label.text()
    assert set(panel.training_plot.curves) == {"d_loss", "g_loss"} and set(panel.quality_plot.curves) == {"fid"}
    assert list(panel.quality_plot.curves["fid"].getData()[1]) == [30.0, 12.0]
    assert list(panel.curves.get("logs/fid").y) == [30.0, 12.0]  # the run's RunCurves, as the Train area's

    panel.epoch_slider.setFocus()
    qtbot.keyClick(panel.epoch_slider, Qt.Key.Key_Left)
    assert panel.epoch_label.text() == "epoch 1" and _shown_grey(panel) == 40

    _finish_epoch(folder, 3, grey=120, fid=9.0)  # while scrubbed back, the view stays put
    qtbot.waitUntil(lambda: panel.epoch_slider.maximum() == 3, timeout=5000)
    assert panel.epoch_label.text() == "epoch 1"
    qtbot.keyClick(panel.epoch_slider, Qt.Key.Key_End)
    assert panel.epoch_label.text() == "epoch 3" and _shown_grey(panel) == 120

    folder.emit("warning", kind="mode_collapse", epoch=3, message="sample diversity fell")
    qtbot.waitUntil(lambda: "diversity fell" in panel.quality_label.text(), timeout=5000)


def test_sample_button_draws_from_the_run_model(qtbot, tmp_path):
    from studio.core.generative.graphs import dcgan
    from studio.core.generative.parts import find_parts, settings
    from studio.core.generative.training import make_model

    folder = _new_run(tmp_path)
    graph = dcgan(8, 1, latent_dim=8, width=8)
    model = make_model(graph, find_parts(graph, "gan"), settings({"kind": "gan"}))
    fileio.atomic_replace_with(folder.model_file, model.save)
    panel = GeneratePanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.sample_button.isEnabled(), timeout=5000)
    panel.count_spin.setValue(9)
    qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert panel.explored.shape == (3 * 8 + 2 * 2,) * 2 and panel.explore_view.image is not None
    qtbot.mouseClick(panel.manifold_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=60_000)
    assert "2-D latent" in panel.explore_status.text()


def test_no_run_disables_exploring_with_the_reason_and_a_new_run_shows_by_itself(window, qtbot, tmp_path):
    window.show_area("Generate")
    panel = window.area_widget("Generate")
    panel.runs_root = lambda: tmp_path / "runs"
    (tmp_path / "runs").mkdir()
    with qtbot.waitSignal(panel.run_combo.listed):
        panel.refresh_runs()
    assert panel.run_combo.count() == 0
    for button in (panel.sample_button, panel.interpolate_button):
        assert not button.isEnabled() and "No generative run" in button.toolTip()
    qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)  # does nothing, says why
    assert panel.explore_status.text() == ""

    _new_run(tmp_path)  # a run folder appears: listed without pressing Refresh
    qtbot.waitUntil(lambda: panel.run_combo.count() == 1, timeout=5000)
    assert panel.run_dir == tmp_path / "runs" / "gan" and panel.sample_button.isEnabled()


def test_a_run_ended_in_the_train_area_is_shown(window, qtbot, tmp_path):
    panel = window.area_widget("Generate")
    panel.runs_root = lambda: tmp_path / "runs"
    with qtbot.waitSignal(panel.run_combo.listed):
        panel.refresh_runs()
    first = _new_run(tmp_path)
    second = RunFolder(tmp_path / "runs" / "vae")
    (second.path / "samples").mkdir(parents=True)
    (second.path / "samples" / "fixed.npz").write_bytes((first.path / "samples" / "fixed.npz").read_bytes())
    second.update_info(name="vae", status="completed", created=time.time() + 5)
    window.run_ended.emit(str(second.path))
    qtbot.waitUntil(lambda: panel.run_combo.count() == 2, timeout=5000)
    assert panel.run_dir == second.path


def _long_named_run(root, source):
    folder = RunFolder(root / "runs" / ("20261201-120000-" + "a-very-long-project-name-" * 4 + "vae_28-digits"))
    (folder.path / "samples").mkdir(parents=True)
    (folder.path / "samples" / "fixed.npz").write_bytes((source.path / "samples" / "fixed.npz").read_bytes())
    folder.update_info(name=folder.path.name, status="completed", created=time.time() + 5)


def test_the_refresh_button_stays_put_whatever_the_run_names(window, qtbot, tmp_path):
    """Long run names neither push Refresh aside when the panel first shows nor when listed later."""
    window.resize(1366, 768)
    assert window.save_project(tmp_path / "p.dlstudio")  # its runs folder: tmp_path/runs
    _long_named_run(tmp_path, _new_run(tmp_path))
    window.show_area("Generate")
    panel = window.area_widget("Generate")
    qtbot.waitUntil(lambda: panel.run_combo.count() == 2, timeout=5000)
    button = panel.refresh_button

    def place():
        return button.mapTo(window, button.rect().topLeft()), button.size()

    shown_with_runs = place()
    assert window.rect().contains(button.mapTo(window, button.rect().bottomRight()))
    shutil.rmtree(tmp_path / "runs")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.run_combo.count() == 0, timeout=5000)
    qtbot.wait(50)
    assert place() == shown_with_runs
    _long_named_run(tmp_path, _new_run(tmp_path))
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.run_combo.count() == 2, timeout=5000)
    qtbot.wait(50)
    assert place() == shown_with_runs


def test_a_run_without_samples_yet_says_so_instead_of_showing_the_last_runs_grid(qtbot, tmp_path):
    first = _new_run(tmp_path)
    _finish_epoch(first, 1, grey=40, fid=30.0)
    panel = GeneratePanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.grid_view.image is not None, timeout=5000)
    _new_run(tmp_path, "vae")  # just started: no epoch, no event
    with qtbot.waitSignal(panel.run_combo.listed):
        panel.refresh_runs()
    panel.run_combo.setFocus()
    index = next(i for i in range(panel.run_combo.count()) if "vae" in panel.run_combo.itemText(i))
    while panel.run_combo.currentIndex() != index:
        qtbot.keyClick(panel.run_combo, Qt.Key.Key_Down if panel.run_combo.currentIndex() < index else Qt.Key.Key_Up)
    assert panel.grid_view.image is None and "Waiting for the first epoch" in panel.grid_view.message
    assert panel.epoch_label.text() == "no epoch yet"
