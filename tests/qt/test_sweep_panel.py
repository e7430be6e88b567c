"""Experiments area: the sweep panel builds a search space from the settings specs (refusing an
invalid one with one line), runs a real tiny sweep without blocking the window and shows its trials
live, plots them, and puts the best trial's settings into the project as one undoable edit."""

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from experiments_helpers import tiny_project

from studio.core.experiments.space import parse_space
from studio.core.experiments.sweep import Sweep, SweepSettings


def sweep_panel(window, tmp_path, project=None):
    if project is not None:
        window.document.set_project(project)
    assert window.save_project(tmp_path / "tiny.dlstudio")
    window.show_area("Experiments")
    return window.area_widget("Experiments")


def edit_values(qtbot, panel, name, text):
    """Type ``text`` into the values cell of the row ``name``, as a user would (click, F2, type, Enter)."""
    table = panel.space_editor.table
    item = table.item(panel.space_editor.names().index(name), 1)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(item).center())
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = [e for e in table.findChildren(QLineEdit) if e.isVisible()][-1]
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: item.text() == text, timeout=3_000)


def test_sweep_panel_builds_a_valid_space_and_refuses_an_invalid_one(window, qtbot, tmp_path):
    panel = sweep_panel(window, tmp_path, tiny_project())
    editor = panel.space_editor
    assert editor.names() == ["learning_rate", "optimizer"]  # a starting space from the training specs
    assert panel.check_label.text().startswith("Valid: 2 settings") and panel.start_button.isEnabled()
    assert "dense_1.units" in [editor.setting.itemText(i) for i in range(editor.setting.count())]

    editor.setting.setCurrentText("dense_1.units")  # a layer's units, chosen from the graph
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)
    assert editor.names()[-1] == "dense_1.units" and editor.space()["dense_1.units"] == {"choices": [4, 8, 16]}
    space = panel.dimensions()
    assert [dim.name for dim in space] == ["learning_rate", "optimizer", "dense_1.units"]
    assert space[0].log and space[0].low == 1e-4

    edit_values(qtbot, panel, "learning_rate", "0 .. 0.1 log")
    assert panel.check_label.text() == "learning_rate: a log range must start above 0, got low 0"
    assert not panel.start_button.isEnabled() and "\n" not in panel.check_label.text()
    edit_values(qtbot, panel, "learning_rate", "0.1 .. 0.01")
    assert "empty range" in panel.check_label.text() and not panel.start_button.isEnabled()
    edit_values(qtbot, panel, "learning_rate", "0.001, 0.01")
    panel.sampler.setCurrentText("grid")
    assert panel.check_label.text() == "Valid: 3 settings searched; a grid of 18 trials."
    edit_values(qtbot, panel, "dense_1.units", "0, 8")
    assert panel.check_label.text().startswith("dense_1.units:") and not panel.start_button.isEnabled()


def test_an_unsaved_project_is_asked_to_be_saved_first(window, qtbot):
    window.show_area("Experiments")
    panel = window.area_widget("Experiments")
    assert "Save the project first" in panel.check_label.text() and not panel.start_button.isEnabled()


def test_a_stopped_sweep_starts_no_trial(tmp_path):
    project = tiny_project()
    sweep = Sweep(project, parse_space({"batch_size": {"choices": [8, 16]}}, project),
                  SweepSettings(trials=2, sampler="random"), tmp_path / "tiny.dlstudio")
    sweep.stop()
    assert sweep.run().get_trials() == []


def test_the_empty_parallel_coordinates_say_what_will_show_there(qtbot):
    from pyqtgraph import TextItem

    from studio.qt.experiments.sweep_plots import ParallelCoordinates

    plot = ParallelCoordinates()
    qtbot.addWidget(plot)
    notes = [item for item in plot.getPlotItem().items if isinstance(item, TextItem)]
    assert len(notes) == 1 and "finished trial" in notes[0].toPlainText()
    plot.show_trials(["lr"], [[0.1, 0.01]], [0.5, 0.7], True, {"lr": True})
    texts = [item.toPlainText() for item in plot.getPlotItem().items if isinstance(item, TextItem)]
    assert len(plot.lines) == 2 and not any("finished trial" in text for text in texts)


@pytest.mark.slow
def test_a_real_sweep_fills_the_table_live_stops_gracefully_continues_and_its_best_trial_is_used_undoably(
        window, qtbot, tmp_path):
    """One sweep process stopped while its first two trials train, then a second that trains them
    again and the rest of the grid: the stop and the finished sweep share their trials."""
    from studio.core.experiments.sweep import load_study
    from studio.core.training.runs import read_run
    from studio.qt.commands import SetSection

    project = tiny_project()
    project.training = {**project.training, "epochs": 500}  # still training when Stop is clicked
    panel = sweep_panel(window, tmp_path, project)
    edit_values(qtbot, panel, "learning_rate", "0.001, 0.05")
    edit_values(qtbot, panel, "optimizer", "adam, sgd")
    panel.sampler.setCurrentText("grid")
    panel.trials.setValue(4)
    panel.workers.setValue(2)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert panel.running and not panel.start_button.isEnabled() and panel.stop_button.isEnabled()
    process = panel.sweep.process
    assert process.pid != __import__("os").getpid() and process.poll() is None  # a child process

    def grid_point(trial, attr=None):
        return tuple(sorted((trial.system_attrs[attr] if attr else trial.params).items()))

    def running_trials():
        table = panel.trials_table
        return [r for r in range(table.rowCount()) if table.item(r, 1).text() == "running"]
    qtbot.waitUntil(lambda: len(running_trials()) == 2, timeout=120_000)  # live, while it runs
    assert panel.running
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert panel.status.text().startswith("Stopping")
    qtbot.waitUntil(lambda: not panel.running, timeout=120_000)
    assert process.returncode == 0 and panel.status.text().startswith("Sweep stopped")
    assert panel.start_button.isEnabled() and not panel.stop_button.isEnabled()

    storage = f"sqlite:///{tmp_path / 'tiny.sweep.sqlite'}"
    trials = load_study(storage, "tiny").get_trials()
    stopped = [t for t in trials if t.state.name == "FAIL"]
    waiting = [t for t in trials if t.state.name == "WAITING"]  # queued again with the same parameters
    assert len(stopped) == 2 and all("queued again" in t.user_attrs["error"] for t in stopped)
    assert all(read_run(t.user_attrs["run"])["status"] == "stopped" for t in stopped)  # recorded by the run
    assert sorted(map(grid_point, stopped)) == sorted(grid_point(t, "fixed_params") for t in waiting)

    doc = window.document  # continue quickly: one epoch per trial
    doc.push(SetSection(doc, "training", {**doc.project.training, "epochs": 1}, "epochs"))
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.running, timeout=300_000)
    assert panel.status.text().startswith("Sweep done")
    trials = load_study(storage, "tiny").get_trials()
    retried = [t for t in trials if "retry_of" in t.user_attrs]
    assert len(trials) == 6 and all(t.state.name == "COMPLETE" for t in retried)  # the stopped two, trained again
    assert sorted(map(grid_point, retried)) == sorted(map(grid_point, stopped))
    assert len(set(map(grid_point, trials))) == 4  # the whole grid, nothing twice

    qtbot.waitUntil(lambda: panel.trials_table.rowCount() == 6 and panel.best_button.isEnabled(), timeout=30_000)
    headers = [panel.trials_table.horizontalHeaderItem(i).text() for i in range(panel.trials_table.columnCount())]
    assert headers[:3] == ["number", "state", "value"] and {"learning_rate", "optimizer"} <= set(headers)
    states = [panel.trials_table.item(r, 1).text() for r in range(6)]
    assert states.count("fail") == 2 and states.count("complete") >= 2, states
    assert len(panel.parallel.lines) == states.count("complete")
    qtbot.waitUntil(lambda: set(panel.importance.shown) == {"learning_rate", "optimizer"}, timeout=30_000)
    runs = [panel.trials_table.item(r, headers.index("run")).text() for r in range(6)]
    assert all(Path(run).parent == window.runs_root() for run in runs)

    before = dict(doc.project.training)
    qtbot.mouseClick(panel.best_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: doc.project.training != before, timeout=30_000)
    assert doc.project.training["learning_rate"] in (0.001, 0.05)
    doc.undo_stack.undo()
    assert doc.project.training == before
