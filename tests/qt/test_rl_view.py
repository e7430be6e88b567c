"""The Train area's Reinforcement learning tab: its settings as undoable project edits, a DQN run's
plots, the cart-pole view, Start/Stop and watching the agent before and after training."""

import json

import pytest
from PySide6.QtCore import Qt

from studio.core.graph.templates import load_template
from studio.core.project import default_project
from studio.core.rl.settings import check_settings
from studio.core.training.runs import RunFolder


def points(plot, key):
    x = plot.curves[key].getData()[0]
    return 0 if x is None else len(x)


def rl_tab(window):
    window.show_area("Train")
    panel = window.area_widget("Train")
    return panel, panel.rl_view


def type_into(qtbot, widget, text):
    """Click ``widget``, select its text and type ``text``, as a user would."""
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def test_dqn_settings_are_project_edits_undone_saved_and_reopened(window, qtbot, tmp_path):
    window.show_area("Model")
    window.area_widget("Model").open_template("q_network_cartpole")
    doc, path = window.document, tmp_path / "cartpole.dlstudio"
    assert doc.project.rl == {}  # the template brings the Q-network, no DQN setting
    assert window.save_project(path) and not doc.modified
    panel, view = rl_tab(window)
    panel.tabs.setCurrentWidget(view)
    gamma, seed, start = (view.editors[name].input for name in ("gamma", "seed", "epsilon_start"))
    assert gamma.text() == "0.99"
    steps = doc.undo_stack.count()
    type_into(qtbot, gamma, "0.95")
    type_into(qtbot, seed, "7")
    assert doc.project.rl == {"gamma": 0.95, "seed": 7} and doc.modified
    assert doc.undo_stack.count() == steps + 2  # one step per setting, however many keys
    type_into(qtbot, start, "0.01")  # below epsilon_end (0.02): refused, not stored
    assert "epsilon_start" not in doc.project.rl and "above epsilon_start" in start.toolTip()
    window.show_area("Model")  # Ctrl+Z anywhere: the Train area comes back for its edit
    qtbot.keyClick(window.model_area.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.current_area == "Train" and "in the Train area" in window.statusBar().currentMessage()
    assert doc.project.rl == {"gamma": 0.95} and seed.value() == 0
    qtbot.keyClick(view.cart_pole, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert doc.project.rl == {} and gamma.text() == "0.99" and not doc.modified
    doc.undo_stack.redo()
    doc.undo_stack.redo()
    assert window.save_project(path)
    assert json.loads(path.read_text())["rl"] == {"gamma": 0.95, "seed": 7}
    doc.set_project(default_project())
    assert gamma.text() == "0.99" and seed.value() == 0
    assert window.open_project(path)
    assert gamma.text() == "0.95" and seed.value() == 7
    assert view.settings()["gamma"] == 0.95  # what Start DQN trains with


def test_a_dqn_run_shown_from_the_runs_table_opens_its_plots(window, qtbot, tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.update_info(status="completed", config={"objective": "dqn", **check_settings({"total_steps": 200})})
    events = [{"type": "start", "time": 1, "steps_per_epoch": 1000},
              {"type": "episode", "time": 2, "episode": 1, "step": 20, "return": 20.0, "average": 20.0},
              {"type": "episode", "time": 3, "episode": 2, "step": 60, "return": 40.0, "average": 30.0},
              {"type": "batch", "time": 4, "epoch": 1, "step": 100, "steps": 1000, "global_step": 100,
               "logs": {"epsilon": 0.9, "loss": 0.5}},
              {"type": "evaluation", "time": 5, "episodes": 3, "mean_return": 42.0, "std_return": 1.0},
              {"type": "end", "time": 6, "status": "completed"}]
    folder.events_file.write_text("".join(json.dumps(event) + "\n" for event in events))
    panel, view = rl_tab(window)
    panel.show_run(str(folder.path))
    assert panel.tabs.currentWidget() is view
    assert points(view.plots["return"], "return") == 2 and points(view.plots["return"], "return_average") == 2
    assert points(view.plots["loss"], "loss") == 1 and points(view.plots["epsilon"], "epsilon") == 1
    assert "mean return 42.0 over 3" in view.status.text()
    assert view.after_button.isEnabled() and not view.resume_button.isEnabled()


def test_the_cart_pole_view_plays_an_episode_frame_by_frame(qtbot):
    from studio.qt.train.rl_view import CartPoleView

    view = CartPoleView()
    qtbot.addWidget(view)
    view.resize(400, 220)
    view.show()
    view.play([[0.0, 0, 0.0, 0], [0.5, 0, 0.05, 0], [1.0, 0, 0.3, 0]])
    assert view.playing
    qtbot.waitUntil(lambda: not view.playing, timeout=2000)
    assert view.index == 2
    assert not view.grab().toImage().isNull()


@pytest.mark.slow
def test_start_trains_and_the_agent_is_watched_before_and_after(window, qtbot, tmp_path):
    window.document.project.graph = load_template("q_network_cartpole").graph
    assert window.save_project(tmp_path / "cartpole.dlstudio")
    _panel, view = rl_tab(window)
    window.document.project.rl = {"total_steps": 600, "warmup_steps": 200, "eval_episodes": 3}
    view.refresh()
    qtbot.mouseClick(view.before_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Before training: the pole stayed up" in view.watch_label.text(), timeout=60_000)
    qtbot.mouseClick(view.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.watcher is not None and view.watcher.ended, timeout=180_000)
    assert view.watcher.state == "completed", view.status.text()
    assert points(view.plots["return"], "return") > 10 and points(view.plots["loss"], "loss") > 0
    assert "greedy episodes" in view.status.text()
    qtbot.mouseClick(view.after_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "After training: the pole stayed up" in view.watch_label.text(), timeout=60_000)
    assert view.cart_pole.states
