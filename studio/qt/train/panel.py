"""The Train area: settings form, run controls, progress and live curves, and the Runs view.

Training runs in the engine's child process; this panel only reads its events. A QTimer polls
the events (merging whatever arrived), plots redraw from a second timer at most 30 times a
second, and everything slow (preparing a run, listing run folders) happens on worker threads,
so the window never waits on training. A completed pretraining run (objective contrastive) offers
"Use as backbone": its encoder under a new head, through the Model menu's backbone feature.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QLabel, QMessageBox, QProgressBar, QPushButton,
                               QScrollArea, QSizePolicy, QSplitter, QTabWidget, QVBoxLayout, QWidget)

from studio.core.formatting import format_duration
from studio.core.training import Runner, RunWatcher, new_run_dir
from studio.core.training.curves import RunCurves
from studio.core.training.runs import RunFolder, run_name
from studio.core.training.watch import STAGES
from studio.qt.train.rl_view import RLView, dqn_run
from studio.qt.train.runs_table import RunsView
from studio.qt.train.starting import start_runner
from studio.qt.train.training_form import TrainingForm, fix_text
from studio.qt.widgets.plot_theme import series_color
from studio.qt.widgets.plots import TRAIN, VAL, CurvePlot
from studio.qt.widgets.worker import TaskRunner

POLL_MS = 100
REDRAW_MS = 34  # at most ~30 redraws a second
PLOT_INTERVAL_S = 0.5  # and each plot at most twice a second

ERROR_STYLE = ("QLabel { background-color: rgba(217, 48, 37, 40); border: 1px solid #d93025; "
               "border-radius: 4px; padding: 6px; }")
KEEP_NOTE = "The project and earlier runs are unchanged."
SELF_EXPLAINED = ("nan", "oom", "disk_full", "unwritable", "config", "data")
CONTROL_TEXTS = {"pause": "Pausing after this batch…", "run": "Resuming…",
                 "stop": "Stopping: finishing the batch and saving a checkpoint…"}
STOP_STARTING_TEXT = "Stopping before training starts…"
END_TEXTS = {"completed": "Completed", "stopped": "Stopped: checkpoint saved", "failed": "Failed",
             "killed": "Killed", "crashed": "Crashed"}
STOPPED_UNTRAINED_TEXT = "Stopped before the first batch: nothing was trained"
PARTIAL_TEXT = "epoch {epoch} was stopped part-way (a partial epoch: not counted)"

GENERATIVE_LOSSES = ("d_loss", "g_loss", "reconstruction_loss", "kl_loss")
PRESET_CURVES = ("loss/batch", "loss/smoothed", "loss/epoch", "loss/val", "metric/batch", "metric/smoothed",
                 "metric/epoch", "metric/val", "lr")
# key suffix -> (legend label, colour index, role)
CURVE_LOOKS = {
    "batch": ("train (batches)", TRAIN, "batch"),
    "smoothed": ("train (smoothed)", TRAIN, "smoothed"),
    "epoch": ("train (epoch)", TRAIN, "epoch"),
    "val": ("validation", VAL, "val"),
}


class TrainPanel(QWidget):
    """Settings on the left; controls, progress, live plots and the Runs view on the right."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.doc = window.document
        self.watcher: RunWatcher | None = None  # the run shown; None before any
        self._starting: Runner | None = None  # the run being started on a worker thread
        self._in_startup = True  # the shown run has not reported a batch yet
        self._objective: str | None = None  # the shown run's training objective
        self.worker = TaskRunner(self)
        self.curves = RunCurves()
        self._named_for: list[str] = []  # the losses the legend names follow
        self._dirty: set[str] = set()
        self._drawn_at: dict[CurvePlot, float] = {}  # when each plot was last redrawn (monotonic s)

        self.form = TrainingForm(self.doc)
        form_scroll = QScrollArea()
        form_scroll.setWidgetResizable(True)
        form_scroll.setWidget(self.form)
        form_scroll.setMinimumWidth(340)

        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.pause_button.setToolTip("Pause after the current batch (once training has started)")
        self.resume_button = QPushButton("Resume")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Finish the current batch, save a checkpoint and stop "
                                    "(during start-up: stop before training)")
        self.kill_button = QPushButton("Kill")
        self.kill_button.setToolTip("End the training process at once (when Stop does not respond)")
        self.backbone_button = QPushButton("Use as backbone")
        self.backbone_button.setToolTip("Replace the model with this pretrained encoder (frozen) and a new head "
                                        "for the dataset, ready for supervised training (one undo step)")
        self.backbone_button.hide()
        self.status = QLabel("Ready")
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        # Texts that change with every event must not re-lay out (and so repaint) the whole panel.
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.start_button.clicked.connect(self.start)
        self.pause_button.clicked.connect(lambda: self._control("pause"))
        self.resume_button.clicked.connect(lambda: self._control("run"))
        self.stop_button.clicked.connect(lambda: self._control("stop"))
        self.kill_button.clicked.connect(self.kill)
        self.backbone_button.clicked.connect(self.use_as_backbone)
        controls = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button, self.stop_button,
                       self.kill_button, self.backbone_button):
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
        self.notes.setMinimumHeight(self.notes.fontMetrics().height())  # a note appearing moves nothing
        self.error_banner = QLabel()
        self.error_banner.setWordWrap(True)
        self.error_banner.setStyleSheet(ERROR_STYLE)
        self.error_banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_banner.hide()

        self.plots = {
            "loss": CurvePlot("Loss", "loss"),
            "metric": CurvePlot("Accuracy", "accuracy"),
            "lr": CurvePlot("Learning rate (log scale)", "learning rate", log_y=True),
            "grad": CurvePlot("Gradient norm per layer (log scale)", "gradient norm", log_y=True),
        }
        for key in PRESET_CURVES:  # legends from the start: the first run does not re-lay out the plots
            self._look(key)[0].curve(key, *self._look(key)[1:])
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
        self.rl_view = RLView(window)
        self.tabs.addTab(self.rl_view, "Reinforcement learning")

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
        self.doc.project_replaced.connect(self._name_start)
        self.doc.section_changed.connect(lambda name: self._name_start() if name == "training" else None)
        window.backend_ready.connect(self._on_backend)
        if window.backend:
            self._on_backend(window.backend)
        QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _scheme: self.apply_theme())
        self._update_runs_root()
        self._name_start()
        self._draw_state()

    # -- where runs go -------------------------------------------------------------------
    @property
    def runs_root(self) -> Path:
        return self.window.runs_root()

    def _update_runs_root(self) -> None:
        root = self.runs_root
        if self.doc.path:
            where = f"Runs of this project are saved in {root}"
        else:
            where = (f"This project is not saved yet, so its runs are saved in {root}. "
                     "Save the project to keep new runs in a runs folder next to it.")
        self.runs_view.set_root(root, where)
        if self.watcher is None:
            self.run_label.setText(where)
        elif self.watcher.ended and not self.watcher.path.exists() and (root / self.watcher.path.name).is_dir():
            tab = self.tabs.currentIndex()  # the first save moved the shown run: show it from there
            self.show_run(str(root / self.watcher.path.name))
            self.tabs.setCurrentIndex(tab)

    # -- starting ------------------------------------------------------------------------
    def _name_start(self) -> None:
        """Start says what the run will do: train, or pretrain without labels (the objective setting)."""
        contrastive = self.form.config().objective == "contrastive"
        self.start_button.setText("Start pretraining" if contrastive else "Start")
        self.start_button.setToolTip(
            "Pretrain the model's feature layers without labels (contrastive) in a separate process; when it "
            "completes, Use as backbone puts the encoder under a new head" if contrastive else
            "Train the current model on the current dataset in a separate process")

    def start_problems(self) -> list[str]:
        """Why the current project cannot train (graph errors name their layer), or []."""
        problems = [problem.message for problem in self.doc.analysis.problems]
        problems += [f"training setting: {problem}" for problem in self.form.config().validate()]
        return problems

    @property
    def training_here(self) -> bool:
        """A run started from this window is still going (or being started)."""
        return self._starting is not None or (
            self.watcher is not None and self.watcher.runner is not None and self.watcher.live)

    def start(self) -> None:
        if self.training_here:
            return
        problems = self.start_problems()
        if problems:
            self.show_error("Cannot start training: " + "; ".join(problems[:5])
                            + ". Fix this (Model area or settings on the left), then press Start again.")
            return
        project = self.doc.project.copy()
        try:
            run_dir = new_run_dir(self.runs_root, run_name(project, self.doc.path))
        except OSError as exc:
            self.show_error(f"Cannot create a run folder in {self.runs_root}: {exc}")
            return
        self._detach()
        self._reset_view()
        runner = self._starting = Runner(project, run_dir)
        self._draw_state("Checking the project and starting the training process…")
        self.worker.submit("start", lambda: start_runner(runner), self._started, self._start_failed)

    def _start_failed(self, message: str) -> None:
        self._starting = None
        self.progress.setFormat("Not started")
        self._draw_state("Not started")
        self.show_error(f"Cannot start training: {message.rstrip('.')}. {KEEP_NOTE}")

    def _started(self, runner: Runner) -> None:
        self._starting = None
        self.watcher = RunWatcher.for_runner(runner)  # "stopping" when Stop came during the start
        self._objective = runner.plan.config.objective if runner.plan else None
        adaptations = runner.plan.adaptations if runner.plan else []
        if adaptations:
            self._show_notes(["The model was adapted to the dataset: " + "; ".join(adaptations)])
        self._show_run_folder(runner.run_dir)
        self._draw_state(STOP_STARTING_TEXT if self.watcher.state == "stopping" else "Starting the training process…")
        self._poll_timer.start()
        self.runs_view.refresh()

    # -- following a run folder ----------------------------------------------------------
    def show_run(self, path: str) -> None:
        """Show a run folder's curves in the live view and follow it while it trains."""
        if self.training_here:
            QMessageBox.warning(self, "Training in progress",
                                "A run started here is still training: stop it before showing another run.")
            return
        if dqn_run(path):
            self.rl_view.show_run(path)
            self.tabs.setCurrentWidget(self.rl_view)
            return
        self._detach()
        self._reset_view()
        self.watcher = RunWatcher.for_folder(path)
        self._objective = RunFolder(path).info().get("config", {}).get("objective")
        self._show_run_folder(Path(path))
        self._draw_state("Following the run…")
        self.tabs.setCurrentIndex(0)
        self.poll()
        if not self.watcher.ended:
            self._poll_timer.start()

    # -- controls ------------------------------------------------------------------------
    def _control(self, command: str) -> None:
        if self.watcher is None:
            if self._starting is not None and command == "stop":  # the Runner sends it once it can
                self._starting.stop()
                self._draw_state(STOP_STARTING_TEXT)
            return
        starting = self.watcher.state == "starting"
        try:
            self.watcher.control(command)
        except OSError as exc:
            self.show_error(f"Cannot reach the run folder: {exc}")
            return
        if command != "run":
            self.rate.setText("")  # no ETA for a run about to pause or stop
        self._draw_state(STOP_STARTING_TEXT if command == "stop" and starting else CONTROL_TEXTS[command])

    def use_as_backbone(self) -> None:
        """The shown pretraining run's encoder under a new head for the dataset, through the Model
        menu's backbone feature (a worker thread builds it; one undo step applies it)."""
        if self.watcher is not None and self.watcher.state == "completed":
            self.window.backbones.attach(str(self.watcher.path), "all")

    def kill(self) -> None:
        if self.watcher is not None and self.watcher.can_kill:
            self.watcher.kill()
            self.poll()

    # -- events --------------------------------------------------------------------------
    def poll(self) -> None:
        """Merge the new events: curves, progress, state. Never waits for the training process."""
        if self.watcher is None:
            return
        events = self.watcher.poll()
        if not events:
            return
        self._dirty |= {key for key in self.curves.add(events) if not key.startswith("logs/")}  # not plotted here
        for event in events:
            self._show_event(event)
        self._draw_state()
        if self.watcher.ended:
            self._finish()
        elif self._dirty and not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def _show_event(self, event: dict[str, Any]) -> None:
        """What one event changes on screen (the watcher has already applied it to the state)."""
        kind = event["type"]
        if kind == "start":
            self._show_device(event.get("device") or {}, event.get("compile_mode"))
            self._show_notes(event.get("notes") or [])
        elif kind == "stage":
            self._show_stage(event.get("stage"))
        elif kind == "batch":
            self._show_progress(event)
            if self._in_startup:
                self._in_startup = False
                if self.watcher.state == "running":
                    self.status.setText("Training")
        elif kind == "epoch" and event.get("partial"):
            self.status.setText(PARTIAL_TEXT.format(epoch=event["epoch"]))
        elif kind == "epoch":
            logs = "  ".join(f"{key} {value:.4g}" for key, value in event.get("logs", {}).items())
            self.status.setText(f"Epoch {event['epoch']} done: {logs}")
        elif kind == "pause":
            self._show_position(event["epoch"], event["step"])
            self.rate.setText("")
            self.status.setText(f"Paused at epoch {event['epoch']}, batch {event['step']}")
        elif kind == "resume":
            self.status.setText("Training")
        elif kind == "stop":
            self.rate.setText("")
            if not event.get("epoch"):
                self.status.setText(STOP_STARTING_TEXT)
                return
            reason = "early stopping" if event.get("reason") == "early_stopping" else "stop requested"
            self.status.setText(f"Stopping ({reason}) at epoch {event['epoch']}…")
        elif kind == "end":
            self.rate.setText("")
            if self._in_startup:  # ended before its first batch
                self.progress.setFormat("Not trained")
            state = self.watcher.state
            text = STOPPED_UNTRAINED_TEXT if self._in_startup and state == "stopped" else END_TEXTS.get(state, state)
            if self.curves.partial_epoch and not self._in_startup:
                text += " · " + PARTIAL_TEXT.format(epoch=self.curves.partial_epoch)
            self.status.setText(text)
        elif kind == "warning":  # e.g. a GAN's mode collapse: shown here as on the Generate tab
            self._show_notes([f"⚠ epoch {event.get('epoch')}: {event.get('message', '')}"])

    def _finish(self) -> None:
        self._poll_timer.stop()
        self.backbone_button.setVisible(self._objective == "contrastive" and self.watcher.state == "completed")
        message = self.failure_message()
        if message:
            self.show_error(message)
        self.redraw(everything=True)
        self.runs_view.refresh()
        self.window.run_ended.emit(str(self.watcher.path))

    def failure_message(self) -> str | None:
        """What went wrong and what to do, for the shown run once it ended."""
        watcher = self.watcher
        if watcher is None or not watcher.ended:
            return None
        folder, status = watcher.path, watcher.state
        if watcher.error is not None:
            kind, message = watcher.error.get("kind"), watcher.error.get("message", "")
            # The engine's messages for NaN, out of memory, full disk, ... already say what to do;
            # a device error lists the settings that would work, worded as the form's controls.
            advice = "" if kind in SELF_EXPLAINED else f" The details are in log.txt in the run folder ({folder})."
            if watcher.error.get("fixes"):
                advice = f" {fix_text(watcher.error['fixes'])}"
            return f"Training failed: {message}.{advice} {KEEP_NOTE}"
        if status == "killed":
            if watcher.killed_by_user:
                return f"Training was killed. The last finished epoch's checkpoint is in {folder}. {KEEP_NOTE}"
            return (f"The training process was killed from outside (exit code {watcher.exit_code}), "
                    "often by the system when memory runs out. Lower the batch size or the model size, "
                    f"then start again. {KEEP_NOTE}")
        if status == "crashed":
            code = watcher.exit_code
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
        self._label_plots()
        if self._dirty:
            left = [PLOT_INTERVAL_S - (now - self._drawn_at.get(self._look(key)[0], -1e9)) for key in self._dirty]
            self._redraw_timer.start(max(REDRAW_MS, int(min(left) * 1000)))

    def _look(self, key: str) -> tuple[CurvePlot, str | None, int, str]:
        prefix, _, rest = key.partition("/")
        if prefix in ("loss", "metric"):
            look, _, loss = rest.partition("/")  # "smoothed/g_loss": another loss of the run
            name, colour_index, role = CURVE_LOOKS[look]
            if loss:  # one colour per loss, its validation dashed (colours 0 and 1: the main loss)
                colour_index = 1 + self.curves.losses.index(loss) if loss in self.curves.losses else 5
                return self.plots[prefix], f"{loss} ({name.split(' ')[0]})", colour_index, role
            if prefix == "loss" and (len(self.curves.losses) > 1 or self.curves.losses[:1] not in ([], ["loss"])):
                name = f"{self.curves.losses[0]} {name.partition(' ')[2] or '(' + name + ')'}".strip()
            return self.plots[prefix], name, colour_index, role
        if prefix == "lr":
            return self.plots["lr"], None, 2, "line"
        layers = [k for k in self.curves.series if k.startswith("grad/")]
        return self.plots["grad"], rest, layers.index(key), "points"

    def _label_plots(self) -> None:
        """Plots follow what the run logs: its metric (or none), and gradient norms only where the
        run records them (GAN, VAE and autoencoder runs train with their own step: none)."""
        if not self.curves.losses:
            return
        if self._named_for != self.curves.losses:  # the curves made before the run's names were known
            self._named_for = list(self.curves.losses)
            for plot in (self.plots["loss"], self.plots["metric"]):
                for key in list(plot.curves):
                    plot.curve(key, *self._look(key)[1:])
        if self.curves.metric:
            name = self.curves.metric.replace("_", " ").capitalize()
            self.plots["metric"].set_labels(name, name.lower())
        else:
            self._show_empty("metric", "No metric: this run logs only losses")
        if any(name in GENERATIVE_LOSSES for name in self.curves.losses):
            self._show_empty("grad", "Gradient norms: not recorded for GAN, VAE and autoencoder runs")
        elif self._objective == "contrastive":
            self._show_empty("grad", "Gradient norms: not recorded for contrastive pretraining runs")

    def _show_empty(self, plot: str, title: str) -> None:
        """A plot this run has nothing for: its title says why; no legend, no old curves or ranges."""
        if self.plots[plot].curves:
            self.plots[plot].clear_curves()
        self.plots[plot].set_labels(title, "")

    def apply_theme(self) -> None:
        for plot in list(self.plots.values()) + [self.runs_view.loss_plot, self.runs_view.metric_plot]:
            plot.apply_theme()

    # -- display helpers -----------------------------------------------------------------
    def _reset_view(self) -> None:
        self._poll_timer.stop()
        self._redraw_timer.stop()
        self.curves = RunCurves()
        self._named_for = []
        self._dirty.clear()
        for plot in self.plots.values():
            plot.clear_curves()
        self.plots["metric"].set_labels("Accuracy", "accuracy")
        self.plots["grad"].set_labels("Gradient norm per layer (log scale)", "gradient norm")
        for key in PRESET_CURVES:  # made now so the first points do not re-lay out the legends
            self._look(key)[0].curve(key, *self._look(key)[1:])
        self.error_banner.hide()
        self.notes.clear()
        self.backbone_button.hide()
        self._objective = None
        self._in_startup = True
        self.progress.setRange(0, len(STAGES))
        self.progress.setValue(0)
        self.progress.setFormat("Starting up…")
        self.rate.setText("")

    def _detach(self) -> None:
        self._poll_timer.stop()
        self.watcher = None

    def _draw_state(self, text: str | None = None) -> None:
        """Enable the controls that fit the shown run's state (and set the status text)."""
        if text:
            self.status.setText(text)
        state = self.watcher.state if self.watcher is not None else None
        here = self.watcher is not None and self.watcher.runner is not None
        self.start_button.setEnabled(not self.training_here)
        self.pause_button.setEnabled(state == "running")
        self.resume_button.setEnabled(state == "paused")
        starting_here = self._starting is not None and not self._starting.stop_requested
        self.stop_button.setEnabled(state in ("starting", "running", "paused") or starting_here)
        self.kill_button.setEnabled(here and self.watcher.live)

    def _show_stage(self, stage: str | None) -> None:
        """Start-up, before the first batch: which stage of how many, on the bar and in the status."""
        index = list(STAGES).index(stage) + 1 if stage in STAGES else 1
        self.progress.setRange(0, len(STAGES))
        self.progress.setValue(index - 1)
        self.progress.setFormat(f"Starting up: step {index} of {len(STAGES)}")
        if self.watcher.state in ("starting", "running"):  # a requested stop keeps its text
            self.status.setText(f"{STAGES.get(stage, stage)}…")

    def _show_position(self, epoch: int, step: int) -> None:
        epochs = int(self.watcher.start.get("epochs") or epoch)
        steps = max(1, int(self.watcher.start.get("steps_per_epoch") or step))
        self.progress.setRange(0, epochs * steps)
        self.progress.setValue((epoch - 1) * steps + step)
        self.progress.setFormat(f"Epoch {epoch}/{epochs} · batch {step}/{steps}")

    def _show_progress(self, event: dict[str, Any]) -> None:
        self._show_position(event["epoch"], event["step"])
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
        if self.watcher is None or not self.watcher.start:
            self.device.setText(f"Device available: {info.get('device', 'CPU')} "
                                "(the run's device shows here once it starts)")

    def _show_notes(self, notes: list[str]) -> None:
        if notes:
            self.notes.setText("\n".join(f"Note: {note}" for note in notes))

    def _show_run_folder(self, path: Path) -> None:
        link = series_color(TRAIN).name()  # the palette's link blue is unreadable on dark backgrounds
        self.run_label.setText(f'Run folder: <a href="{path}" style="color: {link}">{path}</a>')

    def show_error(self, message: str) -> None:
        self.error_banner.setText(message)
        self.error_banner.show()


def create_panel(window) -> TrainPanel:
    return TrainPanel(window)
