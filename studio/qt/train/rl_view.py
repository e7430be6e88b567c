"""The Train area's Reinforcement learning tab: DQN settings, Start/Stop/Resume, live plots of a
DQN run (episode return and its moving average, loss, epsilon) and "watch the agent": the cart and
pole drawn from the environment's state through one greedy episode, before or after training.

The Q-network is the project's graph (Model area) and the settings its ``rl`` section (those that
differ from their defaults): every edit in the form is an undoable ``SetSection`` through the document
(consecutive changes of one setting merge). The run is a core ``DQNRunner`` followed through a
``RunWatcher`` on a timer; starting a run and playing an episode happen on a worker thread.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QFormLayout, QGridLayout, QHBoxLayout, QLabel, QPushButton, QScrollArea,
                               QSplitter, QVBoxLayout, QWidget)

from studio.core.params import ParamError
from studio.core.rl import RLError
from studio.core.rl.curves import RLCurves
from studio.core.rl.env import cart_pole_frame
from studio.core.rl.runner import DQNRunner, is_dqn_run
from studio.core.rl.settings import RL_FIELDS, SPECS, changed_settings, check_settings
from studio.core.training import RunWatcher, new_run_dir
from studio.core.training.runs import RunFolder, run_name
from studio.qt.commands import SetSection
from studio.qt.widgets.param_editors import make_editor
from studio.qt.widgets.plots import TRAIN, VAL, CurvePlot
from studio.qt.widgets.worker import TaskRunner

POLL_MS = 200
FRAME_MS = 20  # CartPole-v1 advances 0.02 s per step: the episode plays in real time
WATCH_SEED = 123  # the same start state before and after training
GREEDY = 2  # colour of the greedy policy's score
# plot -> (series key, legend, colour, role)
PLOTTED = {
    "return": (("return", "episode", TRAIN, "batch"), ("return_average", "average of 100", VAL, "line"),
               ("greedy_return", "greedy (20 episodes)", GREEDY, "epoch")),
    "loss": (("loss", "loss", TRAIN, "line"),),
    "epsilon": (("epsilon", "epsilon", TRAIN, "line"),),
}


def _play(policy, environment: str):
    """Worker thread: one greedy episode of ``policy()``'s actions: (states, return)."""
    from studio.core.rl.agent import play_episode

    return play_episode(policy(), environment, WATCH_SEED)


class CartPoleView(QWidget):
    """The track, the cart and the pole of one CartPole-v1 state; ``play(states)`` animates an episode."""

    def __init__(self) -> None:
        super().__init__()
        self.setMinimumSize(320, 180)
        self.states: list = []
        self.index = 0
        self._timer = QTimer(self, interval=FRAME_MS)
        self._timer.timeout.connect(self._advance)

    @property
    def playing(self) -> bool:
        return self._timer.isActive()

    def play(self, states) -> None:
        self.states, self.index = list(states), 0
        self._timer.start()
        self.update()

    def _advance(self) -> None:
        if self.index + 1 >= len(self.states):
            self._timer.stop()
            return
        self.index += 1
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        width, height = self.width(), self.height()
        track_y, half = height * 0.75, width * 0.45
        ink = palette.text().color()
        painter.setPen(QPen(ink, 2))
        painter.drawLine(QPointF(width / 2 - half, track_y), QPointF(width / 2 + half, track_y))
        if not self.states:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Play an episode to watch the agent")
            return
        frame = cart_pole_frame(self.states[self.index])
        cart_x = width / 2 + frame.cart * half
        cart_w, cart_h, pole = width * 0.08, height * 0.08, height * 0.5
        painter.fillRect(QRectF(cart_x - cart_w / 2, track_y - cart_h / 2, cart_w, cart_h), ink)
        colour = QColor("#d93025") if frame.failed else QColor("#c77c02")
        painter.setPen(QPen(colour, max(4.0, width * 0.012), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        tip = QPointF(cart_x + pole * math.sin(frame.angle), track_y - pole * math.cos(frame.angle))
        painter.drawLine(QPointF(cart_x, track_y), tip)
        painter.setPen(ink)
        painter.drawText(QRectF(6, 4, width - 12, 20), Qt.AlignmentFlag.AlignLeft, f"step {self.index}")


class RLView(QWidget):
    """DQN settings and controls on the left; live plots and the watch view on the right."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.doc = window.document
        self.watcher: RunWatcher | None = None
        self.curves = RLCurves()
        self.worker = TaskRunner(self)

        form = QWidget()
        form_layout = QFormLayout(form)
        self.editors = {}
        for spec in RL_FIELDS:
            editor = self.editors[spec.name] = make_editor(
                spec, None, check=lambda value, name=spec.name: self._check(name, value))
            editor.setToolTip(spec.help)
            editor.edited.connect(lambda value, name=spec.name: self._edit(name, value))
            form_layout.addRow(spec.title, editor)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(form)
        form_scroll.setMinimumWidth(300)

        self.start_button = QPushButton("Start DQN")
        self.start_button.setToolTip("Train the model on the canvas as the Q-network of a DQN agent on CartPole-v1 "
                                     "(input 4, output 2: the q_network_cartpole template) in a separate process")
        self.stop_button = QPushButton("Stop")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the stopped run from its backup (weights, replay buffer, step)")
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(lambda: self.watcher.control("stop") if self.watcher else None)
        self.resume_button.clicked.connect(self.resume)
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        controls = QHBoxLayout()
        for button in (self.start_button, self.stop_button, self.resume_button):
            controls.addWidget(button)
        controls.addWidget(self.status, 1)

        self.plots = {"return": CurvePlot("Episode return", "return", x_label="environment step"),
                      "loss": CurvePlot("Loss (Huber, TD error)", "loss", x_label="environment step"),
                      "epsilon": CurvePlot("Epsilon (share of random actions)", "epsilon",
                                           x_label="environment step")}
        for name, curves in PLOTTED.items():
            for key, legend, colour, role in curves:
                self.plots[name].curve(key, legend, colour, role)

        self.cart_pole = CartPoleView()
        self.before_button = QPushButton("Before training")
        self.before_button.setToolTip("One greedy episode of the model on the canvas with fresh weights")
        self.after_button = QPushButton("After training")
        self.after_button.setToolTip("One greedy episode of the shown run's Q-network (its last save)")
        self.before_button.clicked.connect(self.watch_before)
        self.after_button.clicked.connect(self.watch_after)
        self.watch_label = QLabel("Watch the agent: the same start state, before and after training")
        self.watch_label.setWordWrap(True)
        watch = QWidget()
        watch_layout = QVBoxLayout(watch)
        watch_layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.before_button)
        buttons.addWidget(self.after_button)
        watch_layout.addLayout(buttons)
        watch_layout.addWidget(self.cart_pole, 1)
        watch_layout.addWidget(self.watch_label)

        grid = QGridLayout()
        grid.addWidget(self.plots["return"], 0, 0)
        grid.addWidget(self.plots["loss"], 0, 1)
        grid.addWidget(self.plots["epsilon"], 1, 0)
        grid.addWidget(watch, 1, 1)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(controls)
        right_layout.addLayout(grid, 1)
        splitter = QSplitter()
        splitter.addWidget(form_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._poll_timer = QTimer(self, interval=POLL_MS)
        self._poll_timer.timeout.connect(self.poll)
        self.doc.project_replaced.connect(self.refresh)
        self.doc.section_changed.connect(lambda name: self.refresh() if name == "rl" else None)
        self.refresh()
        self._draw_buttons()

    # -- settings (the project's rl section) ---------------------------------------------
    def settings(self) -> dict[str, Any]:
        """Every DQN setting: the project's, else its default."""
        return check_settings(self.doc.project.rl)

    def refresh(self) -> None:
        """Show the project's settings (after an edit, undo, or another project)."""
        for name, value in self.settings().items():
            self.editors[name].set_value(value)

    def _check(self, name: str, value: Any) -> Any:
        """``value`` as its spec cleans it, also refused when it clashes with the other settings."""
        value = SPECS[name].check(value)
        try:
            check_settings({**self.doc.project.rl, name: value})
        except RLError as exc:
            raise ParamError(str(exc)) from None
        return value

    def _edit(self, name: str, value: Any) -> None:
        section = changed_settings({**self.doc.project.rl, name: value})
        if section != self.doc.project.rl:
            self.doc.push(SetSection(self.doc, "rl", section, f"Set DQN {name}", merge_key=name))

    # -- runs ----------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return self.watcher is not None and not self.watcher.ended

    def start(self) -> None:
        if self.live:
            return
        project = self.doc.project.copy()
        try:
            settings = check_settings(project.rl)
            run_dir = new_run_dir(self.window.runs_root(), run_name(project, self.doc.path) + "-dqn")
        except (RLError, OSError) as exc:
            self._say(f"Cannot start: {exc}")
            return
        self._launch(DQNRunner(project, run_dir, settings))

    def resume(self) -> None:
        if self.watcher is not None and self.watcher.state in ("stopped", "killed", "crashed"):
            self._launch(DQNRunner(None, self.watcher.path, resume=True))

    def _launch(self, runner: DQNRunner) -> None:
        self._say("Checking the Q-network and starting the training process…")
        self.start_button.setEnabled(False)
        self.worker.submit("start", lambda: (runner.start(), runner)[1], self._started, self._start_failed)

    def _start_failed(self, message: str) -> None:
        self._say(f"Cannot start: {message}")
        self._draw_buttons()

    def _started(self, runner: DQNRunner) -> None:
        if not runner.resuming:
            self._reset()
        self.watcher = RunWatcher.for_runner(runner)
        self._say(f"Training in {runner.run_dir}")
        self._poll_timer.start()
        self._draw_buttons()

    def show_run(self, path: str) -> None:
        """Show a DQN run folder's curves and follow it while it trains."""
        if self.live and self.watcher.runner is not None:
            self._say("A run started here is still training: stop it before showing another run.")
            return
        self._reset()
        self.watcher = RunWatcher.for_folder(path)
        self._say(f"Run {Path(path).name}")
        self.poll()
        self._poll_timer.start()

    def _reset(self) -> None:
        self.curves = RLCurves()
        for plot in self.plots.values():
            for key in plot.curves:
                plot.set_data(key, [], [])

    def poll(self) -> None:
        if self.watcher is None:
            return
        changed = self.curves.add(self.watcher.poll())
        for name, curves in PLOTTED.items():
            for key, *_look in curves:
                if key in changed:
                    series = self.curves.series[key]
                    self.plots[name].set_data(key, series.x, series.y)
        if self.watcher.ended:
            self._poll_timer.stop()
            evaluation = self.curves.evaluation
            score = (f": mean return {evaluation['mean_return']:.1f} over {evaluation['episodes']} greedy episodes"
                     if evaluation else "")
            error = self.watcher.error
            self._say(f"{self.watcher.state.capitalize()}{score}" + (f": {error['message']}" if error else ""))
        elif self.curves.series["return_average"].size:
            series = self.curves.series["return_average"]
            self._say(f"{self.watcher.state.capitalize()}: step {int(series.x[-1])}, "
                      f"average return {series.y[-1]:.1f}")
        self._draw_buttons()

    def _draw_buttons(self) -> None:
        state = self.watcher.state if self.watcher is not None else None
        self.start_button.setEnabled(not self.live)
        self.stop_button.setEnabled(self.live)
        self.resume_button.setEnabled(state in ("stopped", "killed", "crashed"))
        self.after_button.setEnabled(self.watcher is not None)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    # -- watching ------------------------------------------------------------------------
    def watch_before(self) -> None:
        from studio.core.rl.agent import untrained_policy

        graph, seed = self.doc.project.graph.copy(), self.settings()["seed"]
        self._watch("before training", lambda: untrained_policy(graph, seed))

    def watch_after(self) -> None:
        from studio.core.rl.agent import trained_policy

        if self.watcher is not None:
            path = self.watcher.path
            self._watch("after training", lambda: trained_policy(path))

    def _watch(self, when: str, policy) -> None:
        info = RunFolder(self.watcher.path).info() if self.watcher is not None else {}
        environment = (info.get("environment") or {}).get("name") or self.settings()["environment"]
        self.watch_label.setText(f"Playing one episode {when}…")
        self.worker.submit("watch", lambda: _play(policy, environment),
                           lambda result: self._show_episode(when, *result),
                           lambda message: self.watch_label.setText(f"Cannot play: {message}"))

    def _show_episode(self, when: str, states, total: float) -> None:
        self.cart_pole.play(states)
        self.watch_label.setText(f"{when.capitalize()}: the pole stayed up for {len(states) - 1} steps "
                                 f"(return {total:.0f}; 500 is the most CartPole-v1 allows)")


def dqn_run(path: str) -> bool:
    """Whether the run folder at ``path`` is a DQN run (shown in the Reinforcement learning tab)."""
    return is_dqn_run(RunFolder(path).info())
