"""Curves of several runs on one plot: any quantity the runs log, chosen per plot.

A run's series come from its cached curves (``load_curves``: batch-level loss and metric, learning
rate, gradient norms; a 100,000-batch run opens at once) and its history.json (one value per
epoch of every logged quantity: losses, metrics, GAN/VAE losses, FID...). Loading happens on a
worker thread (``load_overlay``); ``RunOverlay`` only draws.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.core import fileio
from studio.core.experiments.curve_cache import load_curves
from studio.core.training.curves import RunCurves
from studio.core.training.runs import HISTORY_FILE
from studio.qt.widgets.plots import CurvePlot

MAX_HISTORY_BYTES = 16 * 2**20
BATCHES = " (every batch)"
GRADIENTS = "gradient norms"
LEARNING_RATE = "learning rate"


@dataclass
class OverlayRun:
    """One run's plottable series: ``curves`` (batches, lr, gradients) and ``epochs``
    (``{quantity: (epochs, values)}`` from history.json)."""

    name: str
    curves: RunCurves
    epochs: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def _read_history(path: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    try:
        data = fileio.loads_json_bounded(fileio.read_bytes_capped(path / HISTORY_FILE, MAX_HISTORY_BYTES))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("epoch"), list):
        return {}
    series = {}
    for key, values in data.items():
        if key == "epoch" or not isinstance(values, list) or len(values) != len(data["epoch"]):
            continue
        points = [(e, v) for e, v in zip(data["epoch"], values)
                  if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)]
        if points:
            x, y = zip(*points)
            series[key] = (np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return series


def load_run(path: str, name: str) -> OverlayRun:
    """A run's series (worker thread). Runs without history.json fall back to the curves'
    epoch loss and metric."""
    curves = load_curves(path)
    epochs = _read_history(Path(path))
    if not epochs:
        for prefix, label in (("loss", "loss"), ("metric", curves.metric)):
            for kind, key in (("epoch", label), ("val", f"val_{label}")):
                series = curves.get(f"{prefix}/{kind}")
                if label and series is not None and len(series):
                    epochs[key] = (series.x.copy(), series.y.copy())
    return OverlayRun(name, curves, epochs)


def load_overlay(paths_and_names: list[tuple[str, str]]) -> list[OverlayRun]:
    return [load_run(path, name) for path, name in paths_and_names]


def quantities(runs: list[OverlayRun]) -> list[str]:
    """What can be plotted for these runs: each logged quantity (its val_ twin drawn with it),
    then batch-level loss/metric, learning rate and gradient norms when logged."""
    found: dict[str, None] = {}
    for run in runs:
        for key in run.epochs:
            base = key.removeprefix("val_")
            found[base if base in run.epochs or not key.startswith("val_") else key] = None
    for run in runs:
        if run.curves.get("loss/smoothed") is not None:
            found["loss" + BATCHES] = None
        if run.curves.metric and run.curves.get("metric/smoothed") is not None:
            found[run.curves.metric + BATCHES] = None
        if run.curves.get("lr") is not None:
            found[LEARNING_RATE] = None
        if any(key.startswith("grad/") for key in run.curves.series):
            found[GRADIENTS] = None
    return list(found)


class OverlayPlot(QWidget):
    """One plot of the selected runs with a chooser of the quantity it shows."""

    def __init__(self, plot: CurvePlot, preferred: tuple[str, ...], fallback: int, parent=None) -> None:
        """``preferred``: the quantities shown first when the runs log them; else the
        ``fallback``-th quantity (or the last)."""
        super().__init__(parent)
        self.plot, self.preferred, self.fallback = plot, preferred, fallback
        self.runs: list[OverlayRun] = []
        self.choice = QComboBox()
        self.choice.setToolTip("What this plot shows for the selected runs")
        self.choice.currentTextChanged.connect(lambda _text: self.draw())
        row = QHBoxLayout()
        row.addWidget(QLabel("Show:"))
        row.addWidget(self.choice, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(plot, 1)
        self.draw()  # no runs yet: the plot says how to choose some

    def set_runs(self, runs: list[OverlayRun]) -> None:
        self.runs = runs
        names = quantities(runs)
        current = self.choice.currentText()
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItems(names)
        keep = current if current in names else next((p for p in self.preferred if p in names), None)
        if keep is None and names:
            keep = names[min(len(names) - 1, self.fallback)]
        if keep:
            self.choice.setCurrentText(keep)
        self.choice.blockSignals(False)
        self.draw()

    def draw(self) -> None:
        plot, quantity = self.plot, self.choice.currentText()
        plot.clear_curves()
        self.choice.setEnabled(bool(self.runs))
        if not self.runs:
            plot.set_labels("Select runs in the table above to compare their curves", "")
            return
        log = quantity in (GRADIENTS, LEARNING_RATE)
        plot.getPlotItem().setLogMode(y=log)
        x_label = "epoch"
        for index, run in enumerate(self.runs):
            if quantity.endswith(BATCHES):
                prefix = "loss" if quantity == "loss" + BATCHES else "metric"
                self._put(f"{run.name}/{quantity}", run.name, index, "line", run.curves.get(f"{prefix}/smoothed"))
            elif quantity == LEARNING_RATE:
                self._put(f"{run.name}/lr", run.name, index, "line", run.curves.get("lr"))
            elif quantity == GRADIENTS:
                for key in (k for k in run.curves.series if k.startswith("grad/")):
                    self._put(f"{run.name}/{key}", f"{run.name} {key[5:]}", index, "points", run.curves.get(key))
            else:
                for key, label, role in ((quantity, run.name, "points"), (f"val_{quantity}", None, "val")):
                    if key in run.epochs:
                        plot.curve(f"{run.name}/{key}", label, index, role)
                        plot.set_data(f"{run.name}/{key}", *run.epochs[key])
        if quantity.endswith(BATCHES) or quantity in (GRADIENTS, LEARNING_RATE):
            x_label = "epoch (fractional: batches)"
        plot.x_label = x_label
        title = f"{quantity} of the selected runs" + ("" if log or BATCHES in quantity else
                                                       " (solid: train, dashed: validation)")
        plot.set_labels(title, quantity.replace(BATCHES, "") or "value")

    def _put(self, key, label, index, role, series) -> None:
        if series is not None and len(series):
            self.plot.curve(key, label, index, role)
            self.plot.set_data(key, series.x, series.y)
