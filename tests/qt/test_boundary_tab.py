"""The decision-boundary tab follows a run's per-epoch boundaries and shows hidden units."""

import os
import socket
import time

import numpy as np
from PySide6.QtCore import Qt

from studio.core import fileio
from studio.core.graph.keras_io import to_keras
from studio.core.graph.templates import load_template
from studio.core.inspect import load_run_model
from studio.core.project import Project, save_project
from studio.core.training import RunFolder
from studio.core.inspect.live_boundary import LiveBoundary

WAIT_MS = 20_000


def test_the_tab_follows_each_epoch_and_draws_a_chosen_hidden_unit(qtbot, tmp_path):
    from studio.qt.main_window import MainWindow

    project = Project(name="lab", dataset={"source": "toy", "name": "xor", "samples": 200, "seed": 0},
                      graph=load_template("mlp_one_hidden").graph)
    run = RunFolder(tmp_path / "runs" / "20260101-000000-lab")
    run.path.mkdir(parents=True)
    save_project(project, run.project_file)
    fileio.atomic_replace_with(run.model_file, to_keras(project.graph).save)
    run.update_info(name="lab", status="running", created=time.time(), pid=os.getpid(), host=socket.gethostname())

    window = MainWindow(project, tmp_path / "lab.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    tab = panel.boundary
    panel.tabs.setCurrentWidget(tab)

    model = load_run_model(run.path)
    engine_side = LiveBoundary(run, panel.source.dataset.x_train, "binary")
    engine_side.set_model(model)
    engine_side.on_epoch_end(0)
    qtbot.waitUntil(lambda: tab.epoch_label.text() == "1", timeout=5000)
    first = tab.picture.image
    assert not first.isNull() and tab.showing.count() == 1 + 8  # classes + the eight hidden units

    hidden = model.get_layer("hidden")
    hidden.kernel.assign(-hidden.kernel)  # "training" moved the boundary
    engine_side.on_epoch_end(1)
    qtbot.waitUntil(lambda: tab.epoch_label.text() == "2", timeout=5000)
    assert tab.picture.image != first

    tab.showing.setFocus()
    qtbot.keyClick(tab.showing, Qt.Key.Key_Down)  # the keyboard picks the first hidden unit
    assert tab.showing.currentText() == "hidden[0]"
    unit = tab.boundary.units[0]
    assert tab.picture.image != first and np.ptp(unit) > 0
    tab.epoch.setFocus()
    qtbot.keyClick(tab.epoch, Qt.Key.Key_Left)  # back to epoch 1, still showing the unit
    assert tab.epoch_label.text() == "1" and tab.showing.currentText() == "hidden[0]"
