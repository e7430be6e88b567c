"""The Train area: settings form, run controls, progress and live curves, and the Runs view.

Training runs in the engine's child process; this panel only reads its events. A QTimer polls
the events (merging whatever arrived), plots redraw from a second timer at most 30 times a
second, and everything slow (preparing a run, listing run folders) happens on worker threads,
so the window never waits on training.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStandardPaths, Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton,
                               QScrollArea, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from studio.core.formatting import format_duration
from studio.core.training import EventTail, Runner, RunFolder, TrainingError, new_run_dir, send_control
from studio.core.training.runs import FINAL_STATUSES, pid_alive
from studio.qt.widgets.plot_theme import series_color
from studio.qt.widgets.plots import TRAIN, VAL, CurvePlot
from studio.core.training.curves import RunCurves
from studio.qt.train.runs_table import RunsView
from studio.qt.widgets.worker import run_in_background
from studio.qt.train.training_form import TrainingForm

POLL_MS = 100
REDRAW_MS = 34  # at most ~30 redraws a second
PLOT_INTERVAL_S = 0.5  # and each plot at most twice a second
LIVENESS_S = 1.0  # how often a followed run's process is checked

ERROR_STYLE = ("QLabel { background-color: rgba(217, 48, 37, 40); border: 1px solid #d93025; "
               "border-radius: 4px; padding: 6px; }")
KEEP_NOTE = "The project and earlier runs are unchanged."
SELF_EXPLAINED = ("nan", "oom", "disk_full", "unwritable", "config", "data")

PRESET_CURVES = ("loss/batch", "loss/smoothed", "loss/epoch", "loss/val", "metric/batch", "metric/smoothed",
                 "metric/epoch", "metric/val", "lr")
# key suffix -> (legend label, colour index, role)
CURVE_LOOKS = {
    "batch": ("train (batches)", TRAIN, "batch"),
    "smoothed": ("train (smoothed)", TRAIN, "smoothed"),
    "epoch": ("train (epoch)", TRAIN, "epoch"),
    "val": ("validation", VAL, "val"),
}


def app_runs_root() -> Path:
    """Where runs of a project that was never saved go (the per-user app data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base) / "runs"


def runs_root(project_path: Path | None) -> Path:
    """``<project folder>/runs`` for a saved project, else the app data runs folder."""
    return project_path.parent / "runs" if project_path else app_runs_root()


class LocalRun:
    """A run this window started: events from the Runner; stop, pause, resume and kill."""

    can_kill = True

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.path = runner.run_dir
        self.killed_by_user = False

    def poll(self) -> list[dict[str, Any]]:
        return self.runner.poll()

    def control(self, command: str) -> None:
        {"stop": self.runner.stop, "pause": self.runner.pause, "run": self.runner.resume}[command]()

    def kill(self) -> None:
        self.killed_by_user = True
        self.runner.kill()

    def exit_code(self) -> int | None:
        return self.runner.exitcode


class FollowedRun:
    """A run from a folder (e.g. started with ``studio train``): tails its events.jsonl; controls
    go through the run's control file. A process gone without an ``end`` event ends it as crashed."""

    can_kill = False
    killed_by_user = False

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.folder = RunFolder(self.path)
        self.tail = EventTail(self.path)
        self._checked = 0.0

    def poll(self) -> list[dict[str, Any]]:
        events = self.tail.read()
        now = time.monotonic()
        if events or now - self._checked < LIVENESS_S:
            return events
        self._checked = now
        info = self.folder.info()
        local = info.get("host", socket.gethostname()) == socket.gethostname()
        if info.get("status") in FINAL_STATUSES or (local and info.get("pid") and not pid_alive(info["pid"])):
            events = self.tail.read()  # the end event may have been written just now
            if not any(event["type"] == "end" for event in events):
                status = info.get("status") if info.get("status") in FINAL_STATUSES else "crashed"
                events.append({"type": "end", "time": time.time(), "status": status})
        return events

    def control(self, command: str) -> None:
        send_control(self.path, command)

    def exit_code(self) -> None:
        return None


class TrainPanel(QWidget):
    """Settings on the left; controls, progress, live plots and the Runs view on the right."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.doc = window.document
        self.source: LocalRun | FollowedRun | None = None
        self.state = "idle"  # idle, starting, running, paused, stopping, ended
        self.curves = RunCurves()
        self.run_info: dict[str, Any] = {}
        self._error: dict | None = None
        self._dirty: set[str] = set()
        self._drawn_at: dict[CurvePlot, float] = {}  # when each plot was last redrawn (monotonic s)

        self.form = TrainingForm(self.doc)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        form_scroll.setMinimumWidth(340)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train the current model on the current dataset in a separate process")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Finish the current batch, save a checkpoint and stop")
        self.kill_button = QPushButton("Kill")
        self.kill_button.setToolTip("End the training process at once (when Stop does not respond)")
        self.status = QLabel("Ready")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        # Texts that change with every event must not re-lay out (and so repaint) the whole panel.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(lambda: self._control("pause", "paused"))
        self.resume_button.clicked.connect(lambda: self._control("run", "running"))
        self.stop_button.clicked.connect(self.stop)
        self.kill_button.clicked.connect(self.kill)
        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button, self.stop_button,
                       self.kill_button):
            controls.addWidget(button)
        controls.addSpacing(12)
        controls.addWidget(self.status, 1)

        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("No run yet")
        self.progress.setValue(0)
        self.rate = QLabel("")
        self.rate.setFixedWidth(240)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.rate)
        self.device = QLabel("Device: detecting…")
        self.run_label = QLabel()
        self.run_label.setTextFormat(Qt.TextFormat.RichText)
        self.run_label.linkActivated.connect(lambda link: QDesktopServices.openUrl(QUrl.fromLocalFile(link)))
        self.run_label.setWordWrap(True)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.hide()
        self.error_banner = QLabel()
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(ERROR_STYLE)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.hide()

        self.plots = {
            "loss": CurvePlot("Loss", "loss"),
            "metric": CurvePlot("Accuracy", "accuracy", legend_at_bottom=True),
            "lr": CurvePlot("Learning rate (log scale)", "learning rate", log_y=True),
            "grad": CurvePlot("Gradient norm per layer (log scale)", "gradient norm", log_y=True, legend_columns=2),
        }
        live = QWidget()
        grid = QGridLayout(live)
        grid.setContentsMargins(0, 0, 0, 0)
        for index, plot in enumerate(self.plots.values()):
            grid.addWidget(plot, index // 2, index % 2)
        self.runs_view = RunsView()
        self.runs_view.show_requested.connect(self.show_run)
        self.tabs = QTabWidget()
        self.tabs.addTab(live, "Live")
        self.tabs.addTab(self.runs_view, "Runs")

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addLayout(controls)
        right_layout.addLayout(progress_row)
        right_layout.addWidget(self.device)
        right_layout.addWidget(self.run_label)
        right_layout.addWidget(self.notes)
        right_layout.addWidget(self.error_banner)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter()
        splitter.addWidget(form_scroll)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([360, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._poll_timer = QTimer(self, interval=POLL_MS)
        self._poll_timer.timeout.connect(self.poll)
        self._redraw_timer = QTimer(self, interval=REDRAW_MS, singleShot=True)
        self._redraw_timer.timeout.connect(self.redraw)
        self.doc.path_changed.connect(lambda _path: self._update_runs_root())
        self.doc.project_replaced.connect(self._update_runs_root)
        window.backend_ready.connect(self._on_backend)
        if window.backend:
            self._on_backend(window.backend)
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply_theme())
        self._update_runs_root()
        self._set_state("idle")

    # -- where runs go -------------------------------------------------------------------
    @property
    def runs_root(self) -> Path:
        return runs_root(self.doc.path)

    def _update_runs_root(self) -> None:
        root = self.runs_root
        if self.doc.path:
            where = f"Runs of this project are saved in {root}"
        else:
            where = (f"This project is not saved yet, so its runs are saved in {root}. "
                     "Save the project to keep new runs in a runs folder next to it.")
        self.runs_view.set_root(root, where)
        if self.source is None:
            self.run_label.setText(where)

    # -- starting ------------------------------------------------------------------------
    def start_problems(self) -> list[str]:
        """Why the current project cannot train (graph errors name their layer), or []."""
        problems = [problem.message for problem in self.doc.analysis.problems]
        problems += [f"training setting: {problem}" for problem in self.form.config().validate()]
        return problems

    def start(self) -> None:
        if self.state in ("starting", "running", "paused", "stopping") and isinstance(self.source, LocalRun):
            return
        problems = self.start_problems()
        if problems:
            self.show_error("Cannot start training: " + "; ".join(problems[:5])
                            + ". Fix this (Model area or settings on the left), then press Start again.")
            return
        project = self.doc.project.copy()
        try:
            run_dir = new_run_dir(self.runs_root, project.name)
        except OSError as exc:
            self.show_error(f"Cannot create a run folder in {self.runs_root}: {exc}")
            return
        runner = Runner(project, run_dir)
        self._detach()
        self._reset_view()
        self._set_state("starting", "Checking the project and starting the training process…")
        run_in_background(runner.start, lambda _result: self._started(runner), self._start_failed, self)

    def _start_failed(self, exc: Exception) -> None:
        self._set_state("idle", "Not started")
        if isinstance(exc, TrainingError):
            self.show_error(f"Cannot start training: {exc}")
        else:
            self.show_error(f"Cannot start training: {type(exc).__name__}: {exc}. {KEEP_NOTE}")

    def _started(self, runner: Runner) -> None:
        self.source = LocalRun(runner)
        adaptations = runner.plan.adaptations if runner.plan else []
        if adaptations:
            self._show_notes(["The model was adapted to the dataset: " + "; ".join(adaptations)])
        self._show_run_folder(runner.run_dir)
        self._set_state("starting", "Training process started; loading TensorFlow…")
        self._poll_timer.start()
        self.runs_view.refresh()

    # -- following a run folder ----------------------------------------------------------
    def show_run(self, path: str) -> None:
        """Show a run folder's curves in the live view and follow it while it trains."""
        if isinstance(self.source, LocalRun) and self.state != "ended":
            QMessageBox.warning(self, "Training in progress",
                                "A run started here is still training: stop it before showing another run.")
            return
        self._detach()
        self._reset_view()
        self.source = FollowedRun(path)
        self._show_run_folder(Path(path))
        self._set_state("running", "Following the run…")
        self.tabs.setCurrentIndex(0)
        self.poll()
        if self.state != "ended":
            self._poll_timer.start()

    # -- controls ------------------------------------------------------------------------
    def _control(self, command: str, state: str) -> None:
        if self.source is None:
            return
        try:
            self.source.control(command)
        except OSError as exc:
            self.show_error(f"Cannot reach the run folder: {exc}")
            return
        self._set_state(state, {"paused": "Pausing after this batch…", "running": "Resuming…"}[state])

    def stop(self) -> None:
        if self.source is None:
            return
        try:
            self.source.control("stop")
        except OSError as exc:
            self.show_error(f"Cannot reach the run folder: {exc}")
            return
        self._set_state("stopping", "Stopping: finishing the batch and saving a checkpoint…")

    def kill(self) -> None:
        if isinstance(self.source, LocalRun):
            self.source.kill()
            self.poll()

    # -- events --------------------------------------------------------------------------
    def poll(self) -> None:
        """Merge the new events: curves, progress, state. Never waits for the training process."""
        if self.source is None:
            return
        events = self.source.poll()
        if not events:
            return
        self._dirty |= self.curves.add(events)
        for event in events:
            self._handle(event)
        if self._dirty and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event["type"]
        if kind == "start":
            self.run_info = event
            self._show_device(event.get("device") or {}, event.get("compile_mode"))
            self._show_notes(event.get("notes") or [])
            self._set_state("running", "Training")
        elif kind == "batch":
            self._show_progress(event)
            if self.state == "starting":
                self._set_state("running", "Training")
        elif kind == "epoch":
            logs = "  ".join(f"{key} {value:.4g}" for key, value in event.get("logs", {}).items())
            self.status.setText(f"Epoch {event['epoch']} done: {logs}")
        elif kind == "pause":
            self._set_state("paused", f"Paused at epoch {event['epoch']}, batch {event['step']}")
        elif kind == "resume":
            self._set_state("running", "Training")
        elif kind == "stop":
            reason = "early stopping" if event.get("reason") == "early_stopping" else "stop requested"
            self._set_state("stopping", f"Stopping ({reason}) at epoch {event['epoch']}…")
        elif kind == "error":
            self._error = event
        elif kind == "end":
            self._finish(event.get("status", "crashed"))

    def _finish(self, status: str) -> None:
        self._poll_timer.stop()
        self._set_state("ended", {"completed": "Completed", "stopped": "Stopped: checkpoint saved",
                                  "failed": "Failed", "killed": "Killed", "crashed": "Crashed"}.get(status, status))
        message = self.failure_message(status)
        if message:
            self.show_error(message)
        self.redraw(everything=True)
        self.runs_view.refresh()

    def failure_message(self, status: str) -> str | None:
        """What went wrong and what to do, for a run that ended with ``status``."""
        folder = self.source.path if self.source else ""
        if self._error is not None:
            kind, message = self._error.get("kind"), self._error.get("message", "")
            # The engine's messages for NaN, out of memory, full disk, ... already say what to do.
            advice = "" if kind in SELF_EXPLAINED else f" The details are in log.txt in the run folder ({folder})."
            return f"Training failed: {message}.{advice} {KEEP_NOTE}"
        if status == "killed":
            if self.source is not None and self.source.killed_by_user:
                return f"Training was killed. The last finished epoch's checkpoint is in {folder}. {KEEP_NOTE}"
            return (f"The training process was killed from outside (exit code {self.source.exit_code()}), "
                    "often by the system when memory runs out. Lower the batch size or the model size, "
                    f"then start again. {KEEP_NOTE}")
        if status == "crashed":
            code = self.source.exit_code() if self.source else None
            return (f"The training process ended unexpectedly{f' (exit code {code})' if code is not None else ''}. "
                    f"See log.txt in the run folder ({folder}), then start again. {KEEP_NOTE}")
        return None

    # -- drawing -------------------------------------------------------------------------
    def redraw(self, everything: bool = False) -> None:
        """Push changed series into their curves: one plot per call, so each repaint stays short,
        and each plot at most every PLOT_INTERVAL_S, so training keeps the CPU; the timer comes
        back for the rest. Clip-to-view and downsampling keep long curves cheap to draw."""
        now = time.monotonic()
        pending = {self._look(key)[0] for key in self._dirty}
        ready = [plot for plot in pending if everything or now - self._drawn_at.get(plot, -1e9) >= PLOT_INTERVAL_S]
        turn = min(ready, key=lambda plot: self._drawn_at.get(plot, -1e9), default=None)  # waited longest
        for key in sorted(self._dirty):
            plot, name, colour_index, role = self._look(key)
            if plot is turn or everything:
                series = self.curves.get(key)
                plot.curve(key, name, colour_index, role)
                plot.set_data(key, series.x, series.y)
                self._dirty.discard(key)
                self._drawn_at[plot] = now
        if self.curves.metric:
            name = self.curves.metric.replace("_", " ").capitalize()
            self.plots["metric"].set_labels(name, name.lower())
        if self._dirty:
            left = [PLOT_INTERVAL_S - (now - self._drawn_at.get(self._look(key)[0], -1e9)) for key in self._dirty]
            self._redraw_timer.start(max(REDRAW_MS, int(min(left) * 1000)))

    def _look(self, key: str) -> tuple[CurvePlot, str | None, int, str]:
        prefix, _, rest = key.partition("/")
        if prefix in ("loss", "metric"):
            name, colour_index, role = CURVE_LOOKS[rest]
            return self.plots[prefix], name, colour_index, role
        if prefix == "lr":
            return self.plots["lr"], None, 2, "line"
        layers = [k for k in self.curves.series if k.startswith("grad/")]
        return self.plots["grad"], rest, layers.index(key), "points"

    def apply_theme(self) -> None:
        for plot in list(self.plots.values()) + [self.runs_view.loss_plot, self.runs_view.metric_plot]:
            plot.apply_theme()

    # -- display helpers -----------------------------------------------------------------
    def _reset_view(self) -> None:
        self._poll_timer.stop()
        self._redraw_timer.stop()
        self.curves = RunCurves()
        self._dirty.clear()
        self._error = None
        self.run_info = {}
        for plot in self.plots.values():
            plot.clear_curves()
        for key in PRESET_CURVES:  # made now so the first points do not re-lay out the legends
            self._look(key)[0].curve(key, *self._look(key)[1:])
        self.error_banner.hide()
        self.notes.hide()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Waiting for the first batch…")
        self.rate.setText("")

    def _detach(self) -> None:
        self._poll_timer.stop()
        self.source = None

    def _set_state(self, state: str, text: str | None = None) -> None:
        self.state = state
        if text:
            self.status.setText(text)
        live = state in ("running", "paused", "stopping") and self.source is not None
        local = isinstance(self.source, LocalRun)
        busy_here = local and state != "ended"
        self.start_button.setEnabled(not busy_here and state != "starting")
        self.pause_button.setEnabled(live and state == "running")
        self.resume_button.setEnabled(live and state == "paused")
        self.stop_button.setEnabled(live and state in ("running", "paused"))
        self.kill_button.setEnabled(local and state in ("running", "paused", "stopping", "starting"))

    def _show_progress(self, event: dict[str, Any]) -> None:
        epochs = int(self.run_info.get("epochs") or event["epoch"])
        steps = max(1, int(event.get("steps") or 1))
        self.progress.setRange(0, epochs * steps)
        self.progress.setValue((event["epoch"] - 1) * steps + event["step"])
        self.progress.setFormat(f"Epoch {event['epoch']}/{epochs} · batch {event['step']}/{steps}")
        self.rate.setText(f"{event.get('samples_per_s', 0):,.0f} samples/s · "
                          f"ETA {format_duration(event.get('eta_s', 0))}")

    def _show_device(self, device: dict, compile_mode: str | None) -> None:
        gpus = ", ".join(gpu.get("name", "GPU") for gpu in device.get("gpus", []))
        where = gpus or "CPU"
        if device.get("replicas", 1) > 1:
            where += f" ({device['replicas']} replicas, {device.get('strategy')})"
        extras = [compile_mode and f"{compile_mode} mode", device.get("mixed_precision") and "mixed precision"]
        self.device.setText(f"Training on: {where}" + "".join(f" · {e}" for e in extras if e))

    def _on_backend(self, info: dict) -> None:
        if not self.run_info:
            self.device.setText(f"Device available: {info.get('device', 'CPU')} "
                                "(the run's device shows here once it starts)")

    def _show_notes(self, notes: list[str]) -> None:
        if notes:
            self.notes.setText("\n".join(f"Note: {note}" for note in notes))
            self.notes.show()

    def _show_run_folder(self, path: Path) -> None:
        link = series_color(TRAIN).name()  # the palette's link blue is unreadable on dark backgrounds
        self.run_label.setText(f'Run folder: <a href="{path}" style="color: {link}">{path}</a>')

    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()


def create_panel(window) -> TrainPanel:
    return TrainPanel(window)
