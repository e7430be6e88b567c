"""The runs table's context menu combines the selected runs into an ensemble run, or trains a bagging
ensemble of one run's project."""

import os
import socket
import time

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from studio.core import fileio
from studio.core.graph.keras_io import to_keras
from studio.core.graph.templates import load_template
from studio.core.inspect import load_run_model
from studio.core.project import Project, load_project, save_project
from studio.core.experiments.index import RunIndex
from studio.core.training import RunFolder

from test_runs import runs_view

TOY = {"source": "toy", "name": "xor", "samples": 100, "seed": 0}


def _run(root, name, seed):
    import keras

    keras.utils.set_random_seed(seed)
    project = Project(name=name, dataset=TOY, graph=load_template("mlp_one_hidden").graph)
    folder = RunFolder(root / name)
    folder.path.mkdir(parents=True)
    save_project(project, folder.project_file)
    fileio.atomic_replace_with(folder.model_file, to_keras(project.graph).save)
    folder.update_info(name=name, status="completed", created=time.time() - seed, pid=os.getpid(),
                       host=socket.gethostname())
    return folder


def test_right_click_combines_the_selected_runs(window, qtbot, tmp_path):
    members = [_run(tmp_path / "runs", f"2026010{seed}-000000-m{seed}", seed) for seed in (1, 2)]
    panel, view = runs_view(window, tmp_path)
    table = view.table
    rows = table.model().rowCount
    qtbot.waitUntil(lambda: rows() == 2, timeout=10_000)
    for row, modifier in ((0, Qt.KeyboardModifier.NoModifier), (1, Qt.KeyboardModifier.ControlModifier)):
        rect = table.visualRect(table.model().index(row, 0))
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())
    assert len(view.selected_paths()) == 2

    position = table.visualRect(table.model().index(1, 0)).center()
    table.customContextMenuRequested.emit(position)  # what a right-click sends (offscreen Qt sends no context event)
    menu = view.menu
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    action = menu.actions()[0]
    assert action.text() == "Combine as ensemble" and action.isEnabled()
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: rows() == 3, timeout=30_000)

    ensemble = next(run for run in RunIndex(tmp_path / "runs").rows() if "ensemble" in run["name"])
    assert ensemble["status"] == "completed" and "Saved the ensemble of 2 runs" in view.where.text()
    x = np.random.default_rng(0).normal(size=(7, 2)).astype("float32")
    expected = np.mean([load_run_model(m.path).predict(x, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(load_run_model(ensemble["path"]).predict(x, verbose=0), expected, atol=1e-6)


def _one_run_selected(window, qtbot, tmp_path, epochs):
    """A trained run whose project trains ``epochs`` epochs, selected by a click in the Runs table."""
    run = _run(tmp_path / "runs", "20260101-000000-source", 1)
    project = load_project(run.project_file)
    project.training = {**project.training, "epochs": epochs}
    save_project(project, run.project_file)
    panel, view = runs_view(window, tmp_path)
    table = view.table
    qtbot.waitUntil(lambda: table.model().rowCount() == 1, timeout=10_000)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(table.model().index(0, 0)).center())
    return run, view


@pytest.mark.slow
def test_bagging_action_trains_members_of_the_run_and_reports_their_scores(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    run, view = _one_run_selected(window, qtbot, tmp_path, epochs=1)
    table = view.table
    monkeypatch.setattr(QInputDialog, "getInt", lambda *args: (2, True))
    table.customContextMenuRequested.emit(table.visualRect(table.model().index(0, 0)).center())
    menu = view.menu
    qtbot.waitUntil(menu.isVisible, timeout=5000)
    action = next(a for a in menu.actions() if a.text().startswith("Bagging"))
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    qtbot.waitUntil(lambda: "Saved the bagging ensemble" in view.where.text(), timeout=240_000)
    assert "member 1" in view.where.text() and "member 2" in view.where.text() and "ensemble" in view.where.text()
    qtbot.waitUntil(lambda: table.model().rowCount() == 4, timeout=10_000)
    bags = [row for row in RunIndex(tmp_path / "runs").rows() if "bag" in row["name"]]
    assert sorted(load_project(Path(r["path"]) / "project.dlstudio").dataset.get("bootstrap", -1) for r in bags) == [-1, 0, 1]


def test_bagging_progress_says_how_many_epochs_a_member_trains():
    from studio.qt.train.bagging import progress_text

    assert progress_text(1, 3, 0, None) == "Bagging: member 1 of 3, starting…"
    assert progress_text(2, 3, 4, 10) == "Bagging: member 2 of 3, epoch 4 of 10…"
    assert progress_text(2, 3, 4, None) == "Bagging: member 2 of 3, epoch 4…"


def test_bagging_asks_with_the_epochs_each_member_trains_and_refuses_a_second_while_one_trains(
        window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    run, view = _one_run_selected(window, qtbot, tmp_path, epochs=7)
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", lambda parent, title, label, *rest: asked.append(label) or (2, False))
    view.bag_selected()
    assert asked and "7 epochs each like this run" in asked[0]

    run.update_info(config={"objective": "dqn"})  # a reinforcement-learning run: no labels to resample
    view.bag_selected()
    assert len(asked) == 1 and "bagging needs a supervised run" in view.where.text()

    monkeypatch.setattr(type(view.bagging_worker), "busy", property(lambda self: True))  # one still training
    view.bag_selected()
    assert len(asked) == 1 and "still training" in view.where.text()


def test_bagging_a_run_whose_project_snapshot_is_damaged_says_so_before_asking(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    run, view = _one_run_selected(window, qtbot, tmp_path, epochs=3)
    asked = []
    monkeypatch.setattr(QInputDialog, "getInt", lambda parent, title, label, *rest: asked.append(label) or (2, False))
    run.project_file.write_text("{ not json")
    view.bag_selected()
    assert not asked and "project snapshot, which cannot be read" in view.where.text()
    assert not view.bagging_worker.busy
