"""Generate text with a language-model run: prompt -> text (temperature, top-k, seed) on a worker
thread, and the fixed-prompt samples the run writes each epoch, shown live with an epoch slider.

Runs are language-model runs (they hold ``vocabulary.json``); the view follows the chosen run's
events (``samples`` events of kind ``text``), so samples appear while it trains in the GUI or CLI.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit,
                               QPushButton, QSlider, QVBoxLayout, QWidget)

from studio.core.generative.text import GENERATION_FIELDS
from studio.core.training import RunWatcher
from studio.qt.widgets.param_editors import make_editor
from studio.qt.widgets.run_picker import RunPicker
from studio.qt.widgets.worker import TaskRunner

POLL_MS = 500
NO_RUN = "No language-model run yet: train the tiny_gpt template (Model → Templates), then it appears here."


class TextGenerateView(QWidget):
    """Run chooser, per-epoch sample texts with a slider, and a prompt form that writes new text."""

    def __init__(self, runs_root: Callable[[], Path], parent=None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.worker = TaskRunner(self)
        self.run_dir: Path | None = None
        self.samples: dict[int, str] = {}  # epoch -> sample file (relative to the run)
        self.model: Any = None  # loaded on the worker thread, used there only
        self.watcher: RunWatcher | None = None

        self.run_combo = RunPicker(lambda: self.runs_root(), accept=lambda row: row.get("generates") == "text")
        self.run_combo.chosen.connect(self.open_run)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.epoch_slider = QSlider(Qt.Orientation.Horizontal)
        self.epoch_slider.setMinimum(1)
        self.epoch_slider.valueChanged.connect(self.show_epoch)
        self.epoch_label = QLabel("no epoch yet")
        self.samples_text = QPlainTextEdit(readOnly=True)
        self.samples_text.setPlaceholderText("Text written from the fixed prompts at the end of each epoch.")

        self.prompt = QLineEdit()
        self.prompt.setPlaceholderText("Text to continue (empty: start from nothing)")
        self.prompt.returnPressed.connect(self.generate)
        self.editors = {spec.name: make_editor(spec, None) for spec in GENERATION_FIELDS}
        self.generate_button = QPushButton("Generate")
        self.generate_button.clicked.connect(self.generate)
        self.output = QPlainTextEdit(readOnly=True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self._layout()

        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        self.open_run(None)
        self.refresh_runs()

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.refresh_button)
        slider = QHBoxLayout()
        slider.addWidget(self.epoch_label)
        slider.addWidget(self.epoch_slider, 1)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(QLabel("Samples from the fixed prompts, by epoch:"))
        left.addLayout(slider)
        left.addWidget(self.samples_text, 1)

        box = QGroupBox("Write from a prompt")
        form = QFormLayout(box)
        form.addRow("Prompt", self.prompt)
        for spec in GENERATION_FIELDS:
            self.editors[spec.name].setToolTip(spec.help)
            form.addRow(spec.title, self.editors[spec.name])
        form.addRow(self.generate_button)
        right = QVBoxLayout()
        right.addWidget(box)
        right.addWidget(self.output, 1)
        right.addWidget(self.status)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 3)
        layout.addLayout(right, 2)

    # -- runs and their samples ---------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the language-model runs, newest first (on the picker's worker), keeping the shown one
        when it is still there."""
        self.run_combo.refresh()

    def open_run(self, path: str | Path | None) -> None:
        """Follow the run at ``path`` (None: none), reading every event it has so far."""
        path = Path(path) if path else None
        if path is not None and path == self.run_dir:
            return
        self.run_dir, self.model, self.samples = path, None, {}
        self.watcher = RunWatcher.for_folder(path) if path else None
        self.samples_text.setPlainText("")
        self.epoch_label.setText("no epoch yet")
        self.generate_button.setEnabled(path is not None)
        self.generate_button.setToolTip("" if path else NO_RUN)
        self.status.setText("" if path else NO_RUN)
        self.poll()

    def poll(self) -> None:
        if self.watcher is None:
            return
        new = {int(e["epoch"]): e["path"] for e in self.watcher.poll()
               if e["type"] == "samples" and e.get("kind") == "text"}
        if not new:
            return
        following = not self.samples or self.epoch_slider.value() >= max(self.samples)
        self.samples.update(new)
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(min(self.samples), max(self.samples))
        if following:
            self.epoch_slider.setValue(max(self.samples))  # follow the newest epoch unless scrubbing back
        self.epoch_slider.blockSignals(False)
        self.show_epoch(self.epoch_slider.value())

    def show_epoch(self, epoch: int) -> None:
        """Show the samples of ``epoch`` (or the nearest earlier epoch that has them)."""
        shown = max((e for e in self.samples if e <= epoch), default=None)
        if shown is None or self.run_dir is None:
            return
        try:
            text = (self.run_dir / self.samples[shown]).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            text = f"Cannot read the samples of epoch {shown}: {exc}"
        self.samples_text.setPlainText(text)
        self.epoch_label.setText(f"epoch {shown}")

    # -- generation (worker thread) -----------------------------------------------------
    def settings(self) -> dict:
        return {name: editor.current_value() for name, editor in self.editors.items()}

    def generate(self) -> None:
        """Continue the prompt with the run's model on the worker thread."""
        if self.run_dir is None or not self.generate_button.isEnabled():
            return
        from studio.core.generative.text import generate, load_language_model, run_vocabulary

        run_dir, model, prompt, settings = self.run_dir, self.model, self.prompt.text(), self.settings()

        def job():
            loaded = model if model is not None else load_language_model(run_dir)
            return loaded, generate(loaded, run_vocabulary(run_dir), prompt, settings["tokens"],
                                    settings["temperature"], settings["top_k"], settings["seed"])

        def done(result) -> None:
            self._set_busy(False)
            if run_dir == self.run_dir:
                self.model = result[0]
                self.output.setPlainText(result[1])
                self.status.setText(f"Wrote {settings['tokens']} tokens.")

        self._set_busy(True)
        self.worker.submit("generate", job, done, self._failed)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.status.setText(message)

    def _set_busy(self, busy: bool) -> None:
        self.generate_button.setEnabled(not busy)
        self.generate_button.setToolTip("Busy: wait for the text in progress" if busy else "")
        if busy:
            self.status.setText("Writing…")
