"""The Generate area: a generative run's sample grids epoch by epoch, its quality score, and
latent exploration (seeded samples, interpolation, the 2-D manifold and the latent scatter); a
second tab writes text with language-model runs (``studio.qt.generate.text``).

The grids are PNG files the training process writes each epoch (``samples`` events); the panel
follows the run's events.jsonl, so it updates live while training runs elsewhere (GUI or CLI).
Loading the model and drawing new samples happen on a worker thread (they need TensorFlow).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QFileSystemWatcher, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import (QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy,
                               QSlider, QSpinBox, QTabWidget, QVBoxLayout, QWidget)

from studio.core.training import RunWatcher
from studio.core.training.curves import RunCurves
from studio.qt.generate.text import TextGenerateView
from studio.qt.widgets.plots import CurvePlot
from studio.qt.widgets.plot_theme import series_color
from studio.qt.widgets.run_picker import RunPicker
from studio.qt.widgets.worker import TaskRunner

POLL_MS = 500
KIND_TITLES = {"generated": "Samples from the fixed latents", "reconstruction": "Input | reconstruction"}
INTERPOLATION_STEPS = 11
MANIFOLD_SIZE = 12
RELIST_MS = 500  # a new run folder is re-read once its files settle
QUALITY = ("fid", "diversity")  # plotted apart from the training values
NO_RUN = "No generative run to draw from: train a GAN, VAE or autoencoder (Model → Templates), then it appears here"


class PictureView(QWidget):
    """Paints one picture scaled to fit with sharp pixels, or a centred message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.message = ""
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)

    def set_image(self, image: QImage | None, message: str = "") -> None:
        self.image, self.message = (image if image is not None and not image.isNull() else None), message
        self.update()

    def set_pixels(self, pixels: np.ndarray) -> None:
        """Show a uint8 grey (H, W) or RGB (H, W, 3) picture."""
        pixels = np.ascontiguousarray(pixels, np.uint8)
        height, width = pixels.shape[:2]
        if pixels.ndim == 2:
            image = QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8)
        else:
            image = QImage(pixels.data, width, height, width * 3, QImage.Format.Format_RGB888)
        self.set_image(image.copy())

    def sizeHint(self) -> QSize:
        return QSize(360, 360)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self.image is None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        scale = min(self.width() / self.image.width(), self.height() / self.image.height())
        width, height = self.image.width() * scale, self.image.height() * scale
        target = QRectF((self.width() - width) / 2, (self.height() - height) / 2, width, height)
        painter.drawImage(target, self.image)  # no smooth transform: pixels stay crisp


class GeneratePanel(QWidget):
    """Run chooser, epoch slider over the sample grids, quality plot, latent exploration.

    ``runs_root`` returns the folder whose run folders are listed.
    """

    def __init__(self, runs_root: Callable[[], Path], parent=None) -> None:
        super().__init__(parent)
        self.runs_root = runs_root
        self.worker = TaskRunner(self)
        self.run_dir: Path | None = None
        self.grids: dict[str, dict[int, str]] = {}
        self.curves = RunCurves()  # per-epoch values: the series logs/<name>
        self.warnings: list[str] = []
        self.model: Any = None  # the run's loaded GAN/VAE, used on worker threads only
        self.busy = False
        self.watcher: RunWatcher | None = None  # the followed run
        self._interpolation: np.ndarray | None = None

        # a run that appears (started or finished in the Train area, or elsewhere) is shown at once
        self.run_combo = RunPicker(lambda: self.runs_root(), accept=lambda row: row.get("generates") == "images",
                                   follow_new=True)
        self.run_combo.chosen.connect(self.open_run)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh_runs)
        self.kind_combo = QComboBox()
        self.kind_combo.currentIndexChanged.connect(lambda _index: self._update_epochs(keep_last=False))
        self.epoch_slider = QSlider(Qt.Orientation.Horizontal)
        self.epoch_slider.setMinimum(1)
        self.epoch_slider.valueChanged.connect(self.show_epoch)
        self.epoch_label = QLabel()
        self.grid_view = PictureView()
        self.quality_label = QLabel()
        self.quality_label.setWordWrap(True)
        self.training_plot = CurvePlot("Training", "value")
        self.quality_plot = CurvePlot("Quality (Fréchet distance, lower is better)", "distance")
        for plot in (self.training_plot, self.quality_plot):
            plot.setMaximumHeight(200)

        self.explore_view = PictureView()
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 256)
        self.count_spin.setValue(36)
        self.label_spin = QSpinBox()
        self.label_spin.setRange(-1, 999)
        self.label_spin.setValue(-1)
        self.label_spin.setSpecialValueText("all classes")
        self.label_spin.setToolTip("Conditional GAN: the class to draw")
        self.sample_button = QPushButton("Sample")
        self.sample_button.clicked.connect(self.draw_samples)
        self.seed_b_spin = QSpinBox()
        self.seed_b_spin.setRange(0, 2**31 - 1)
        self.seed_b_spin.setValue(1)
        self.interpolate_button = QPushButton("Interpolate")
        self.interpolate_button.clicked.connect(self.interpolate)
        self.t_slider = QSlider(Qt.Orientation.Horizontal)
        self.t_slider.setRange(0, INTERPOLATION_STEPS - 1)
        self.t_slider.valueChanged.connect(self._show_interpolation)
        self.manifold_button = QPushButton("Latent manifold")
        self.manifold_button.setToolTip("VAE with a 2-D latent: decoded images over a grid of latent points")
        self.manifold_button.clicked.connect(self.draw_manifold)
        self.scatter_button = QPushButton("Latent scatter")
        self.scatter_button.setToolTip("VAE/autoencoder with a 2-D latent: test images' latent means by class")
        self.scatter_button.clicked.connect(self.draw_scatter)
        self.scatter_plot = CurvePlot("Latent means of the test split", "z[1]", x_label="z[0]")
        self.scatter_plot.setMinimumHeight(160)
        self.scatter_plot.hide()
        self.explore_status = QLabel()
        self.explore_status.setWordWrap(True)
        self._layout()

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        # New runs are listed by themselves: the runs folder is watched (and re-read when shown).
        self.folder_watcher = QFileSystemWatcher(self)
        self._relist = QTimer(self, singleShot=True, interval=RELIST_MS)
        self._relist.timeout.connect(self.refresh_runs)
        self.folder_watcher.directoryChanged.connect(lambda _path: self._relist.start())
        self.open_run(None)
        self.refresh_runs()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._relist.start()

    def _watch(self, root: Path) -> None:
        """Watch ``root`` (or, until it exists, the folder it will be made in)."""
        target = str(root if root.is_dir() else root.parent)
        if self.folder_watcher.directories() != [target]:
            if self.folder_watcher.directories():
                self.folder_watcher.removePaths(self.folder_watcher.directories())
            if Path(target).is_dir():
                self.folder_watcher.addPath(target)

    def _layout(self) -> None:
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.run_combo, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.kind_combo)
        slider = QHBoxLayout()
        slider.addWidget(self.epoch_label)
        slider.addWidget(self.epoch_slider, 1)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addLayout(slider)
        left.addWidget(self.grid_view, 1)
        left.addWidget(self.quality_label)
        plots = QHBoxLayout()
        plots.addWidget(self.training_plot)
        plots.addWidget(self.quality_plot)
        left.addLayout(plots)

        explore = QGroupBox("Explore the latent space")
        form = QFormLayout(explore)
        row = QHBoxLayout()
        for label, widget in (("seed", self.seed_spin), ("count", self.count_spin), ("class", self.label_spin)):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(self.sample_button)
        form.addRow(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("from seed"))
        row.addWidget(self.seed_b_spin)
        row.addWidget(QLabel("to seed"))
        row.addWidget(self.interpolate_button)
        form.addRow(row)
        form.addRow("position", self.t_slider)
        row = QHBoxLayout()
        row.addWidget(self.manifold_button)
        row.addWidget(self.scatter_button)
        form.addRow(row)
        right = QVBoxLayout()
        right.addWidget(explore)
        right.addWidget(self.explore_view, 1)
        right.addWidget(self.scatter_plot, 1)
        right.addWidget(self.explore_status)
        images = QWidget()
        row = QHBoxLayout(images)
        row.addLayout(left, 3)
        row.addLayout(right, 2)
        self.text = TextGenerateView(self.runs_root)
        self.modes = QTabWidget()
        self.modes.addTab(images, "Images (GAN, VAE, autoencoder)")
        self.modes.addTab(self.text, "Text (language models)")
        QVBoxLayout(self).addWidget(self.modes)

    # -- runs and their events ---------------------------------------------------------
    def refresh_runs(self) -> None:
        """List the generative (and language-model) runs under ``runs_root()``, newest first, on the
        pickers' workers; a run that was not listed before is shown at once, else the shown one stays."""
        self._watch(self.runs_root())
        self.run_combo.refresh()
        self.text.refresh_runs()

    def open_run(self, path: str | Path | None) -> None:
        """Follow the run at ``path`` (None: none); reads every event it has so far."""
        path = Path(path) if path else None
        if path is not None and path == self.run_dir:
            return
        self.run_dir, self.model, self._interpolation = path, None, None
        self.grids, self.curves, self.warnings = {}, RunCurves(), []
        self.watcher = RunWatcher.for_folder(path) if path else None
        self.explore_view.set_image(None, "Pick an action above to draw from the trained model.")
        self.scatter_plot.hide()
        self.explore_view.show()
        self.kind_combo.blockSignals(True)
        self.kind_combo.clear()
        self.kind_combo.blockSignals(False)
        self.poll()
        if not self.epochs():  # nothing drawn yet: say so, rather than keep the last run's grid
            self._update_epochs(keep_last=True)
        self._set_busy(self.busy)
        if path is None:
            self.grid_view.set_image(None, "No generative run yet: open a GAN, VAE or autoencoder template (Model → Templates) and train it.")

    def poll(self) -> None:
        """Take in the run's new events: grids, quality scores, warnings."""
        if self.watcher is None:
            return
        events = self.watcher.poll()
        changed = bool(self.curves.add(events))
        for event in events:
            if event["type"] == "samples":
                self.grids.setdefault(event.get("kind", "generated"), {})[int(event["epoch"])] = event["path"]
                changed = True
            elif event["type"] == "warning":
                self.warnings.append(event.get("message", ""))
                changed = True
        if changed:
            self._update_kinds()
            self._update_epochs(keep_last=True)
            self._update_plots()

    def _update_kinds(self) -> None:
        have = [self.kind_combo.itemData(i) for i in range(self.kind_combo.count())]
        for kind in sorted(self.grids):
            if kind not in have:
                self.kind_combo.addItem(KIND_TITLES.get(kind, kind), kind)

    def epochs(self) -> list[int]:
        """Epochs with a grid of the chosen kind."""
        return sorted(self.grids.get(self.kind_combo.currentData(), {}))

    def _update_epochs(self, keep_last: bool) -> None:
        epochs = self.epochs()
        if not epochs:
            self.grid_view.set_image(None, "Waiting for the first epoch's samples…")
            self.epoch_label.setText("no epoch yet")
            return
        at_end = self.epoch_slider.value() >= self.epoch_slider.maximum()
        self.epoch_slider.blockSignals(True)
        self.epoch_slider.setRange(epochs[0], epochs[-1])
        if at_end or not keep_last:
            self.epoch_slider.setValue(epochs[-1])  # follow the newest epoch unless scrubbing back
        self.epoch_slider.blockSignals(False)
        self.show_epoch(self.epoch_slider.value())

    def show_epoch(self, epoch: int) -> None:
        """Show the grid of ``epoch`` (or the nearest earlier one that has a grid)."""
        grids = self.grids.get(self.kind_combo.currentData(), {})
        shown = max((e for e in grids if e <= epoch), default=None)
        if shown is None or self.run_dir is None:
            return
        self.grid_view.set_image(QImage(str(self.run_dir / grids[shown])), "The grid file is missing.")
        self.epoch_label.setText(f"epoch {shown}")

    def _update_plots(self) -> None:
        """Per-epoch training values (losses, discriminator accuracies) and the quality score."""
        logged = {key[len("logs/"):]: series for key, series in self.curves.series.items() if key.startswith("logs/")}
        self.training_plot.clear_curves()
        for index, name in enumerate(sorted(set(logged) - set(QUALITY))):
            self.training_plot.curve(name, name, index, "val" if name.startswith("val_") else "epoch").setData(
                logged[name].x, logged[name].y)
        self.quality_plot.clear_curves()
        fid = logged.get("fid")
        if fid is not None:
            self.quality_plot.curve("fid", None, 0, "points").setData(fid.x, fid.y)
            best = int(fid.y.argmin())
            text = (f"Quality score {fid.y[-1]:.3g} at epoch {fid.x[-1]:.0f} "
                    f"(best {fid.y[best]:.3g} at epoch {fid.x[best]:.0f}).")
        else:
            text = "No quality score for this run."
        if self.warnings:
            text += "  ⚠ " + self.warnings[-1]
        self.quality_label.setText(text)

    # -- latent exploration (worker thread) ----------------------------------------------
    def _with_model(self, work: Callable[[Any], Any], done: Callable[[Any], None], what: str) -> None:
        """Run ``work(model)`` on a worker thread (loading the run's model first), then ``done``."""
        if self.run_dir is None or self.busy:
            return
        from studio.core.generative import load_generative_model

        run_dir, model = self.run_dir, self.model

        def job():
            loaded = model if model is not None else load_generative_model(run_dir)
            return loaded, work(loaded)

        def finished(result) -> None:
            self._set_busy(False)
            if run_dir == self.run_dir:
                self.model = result[0]
                self.explore_status.setText("")
                done(result[1])

        self._set_busy(True)
        self.explore_status.setText(f"{what}…")
        self.worker.submit("explore", job, finished, self._failed)

    def _failed(self, message: str) -> None:
        self._set_busy(False)
        self.explore_status.setText(message)

    def _set_busy(self, busy: bool) -> None:
        """Exploring needs a run and one request at a time; a disabled button says why."""
        self.busy = busy
        why = NO_RUN if self.run_dir is None else "Busy: wait for the drawing in progress" if busy else ""
        for button in (self.sample_button, self.interpolate_button, self.manifold_button, self.scatter_button):
            if not button.property("help"):
                button.setProperty("help", button.toolTip())
            button.setEnabled(not why)
            button.setToolTip(why or button.property("help"))

    def _label(self) -> int | None:
        return None if self.label_spin.value() < 0 else self.label_spin.value()

    def draw_samples(self) -> None:
        from studio.core.generative import sample, sample_grid

        seed, count, label = self.seed_spin.value(), self.count_spin.value(), self._label()
        self._with_model(lambda model: sample_grid(sample(model, count, seed, label)),
                         self._show_explored, "Drawing samples")

    def interpolate(self) -> None:
        from studio.core.generative import interpolation_images

        seeds, label = (self.seed_spin.value(), self.seed_b_spin.value()), self._label()

        def done(images) -> None:
            self._interpolation = images
            self._show_interpolation(self.t_slider.value())

        self._with_model(lambda model: interpolation_images(model, *seeds, INTERPOLATION_STEPS, label),
                         done, "Interpolating")

    def _show_interpolation(self, step: int) -> None:
        from studio.core.generative import sample_grid

        if self._interpolation is not None:
            self._show_explored(sample_grid(self._interpolation[step:step + 1]))
            self.explore_status.setText(f"{step / (INTERPOLATION_STEPS - 1):.0%} of the way")

    def draw_manifold(self) -> None:
        from studio.core.generative import manifold_grid, sample_grid

        self._with_model(lambda model: sample_grid(manifold_grid(model, MANIFOLD_SIZE), MANIFOLD_SIZE),
                         self._show_explored, "Decoding the latent grid")

    def draw_scatter(self) -> None:
        from studio.core.generative import latent_means
        from studio.core.generative.images import unit_range
        from studio.core.inspect.runs import load_run_dataset

        run_dir = self.run_dir

        def work(model):
            _project, dataset = load_run_dataset(run_dir)
            x, y = dataset.split("test")
            means = latent_means(model, unit_range(dataset)(x))
            if means.shape[1] != 2:
                raise ValueError(f"the latent has {means.shape[1]} dimensions; the scatter needs 2")
            return means, y, dataset.class_names

        self._with_model(work, self._show_scatter, "Encoding the test split")

    def _show_scatter(self, result) -> None:
        means, labels, names = result
        self.scatter_plot.clear()
        self.scatter_plot.getPlotItem().legend.clear()
        for index in np.unique(labels):
            points = means[labels == index]
            self.scatter_plot.plot(points[:, 0], points[:, 1], pen=None, symbol="o", symbolSize=5,
                                   symbolBrush=series_color(int(index)), symbolPen=None,
                                   name=names[index] if index < len(names) else str(index))
        self.explore_view.hide()
        self.scatter_plot.show()

    def _show_explored(self, pixels: np.ndarray) -> None:
        self.explore_view.set_pixels(pixels)
        self.explored = pixels
        self.scatter_plot.hide()
        self.explore_view.show()


def create_panel(window) -> GeneratePanel:
    """The Generate area of ``window``: runs are read from ``window.runs_root()``."""
    panel = GeneratePanel(window.runs_root)
    window.document.path_changed.connect(lambda _path: panel.refresh_runs())
    window.run_ended.connect(lambda _path: panel.refresh_runs())
    return panel
