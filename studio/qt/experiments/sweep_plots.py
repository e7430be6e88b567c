"""Sweep result plots (pyqtgraph): parallel coordinates of the finished trials and the parameters'
importances as bars."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from studio.qt.widgets.plot_theme import style_plot


def axis_positions(values: list[Any], log: bool = False) -> tuple[np.ndarray, list[str]]:
    """Each value placed in [0, 1] on its axis (numbers by size, log when asked; other values in
    order of first appearance) and the labels of the axis ends."""
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
    if numeric and len(set(values)) > 1:
        data = np.log10(np.asarray(values, dtype=float)) if log and min(values) > 0 else np.asarray(values, dtype=float)
        low, high = data.min(), data.max()
        return (data - low) / (high - low), [f"{min(values):.3g}", f"{max(values):.3g}"]
    order = list(dict.fromkeys(map(str, values)))
    if len(order) == 1:
        return np.full(len(values), 0.5), [order[0], order[0]]
    return np.asarray([order.index(str(v)) / (len(order) - 1) for v in values]), [order[0], order[-1]]


class ParallelCoordinates(pg.PlotWidget):
    """One line per finished trial across an axis per parameter and the objective; the better the
    value, the stronger the line."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(260, 180)
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.hideAxis("left")
        item.hideAxis("bottom")
        self.setMouseEnabled(x=False, y=False)
        self.lines: list[pg.PlotDataItem] = []
        style_plot(self)
        self.show_trials([], [], [], True, {})

    def show_trials(self, axes: list[str], columns: list[list[Any]], values: list[float], maximize: bool,
                    logs: dict[str, bool]) -> None:
        """``columns[i]`` holds axis ``axes[i]``'s value for every trial; ``values`` the objective."""
        self.clear()
        self.lines = []
        if not values:  # say what will show here
            note = pg.TextItem("Each finished trial draws a line here,\nacross its settings and the objective.",
                               anchor=(0.5, 0.5), color=(128, 128, 128))
            self.addItem(note)
            self.setXRange(-1, 1)
            self.setYRange(-1, 1)
            return
        placed = [axis_positions(column, logs.get(name, False)) for name, column in zip(axes, columns)]
        placed.append(axis_positions(values))
        names = axes + ["objective"]
        quality = placed[-1][0] if maximize else 1 - placed[-1][0]
        order = np.argsort(quality)  # best drawn last, on top
        x = np.arange(len(names), dtype=float)
        for trial in order:
            colour = QColor.fromHsvF(0.6 - 0.6 * float(quality[trial]), 0.8, 0.85, 0.35 + 0.6 * float(quality[trial]))
            line = pg.PlotDataItem(x, [p[0][trial] for p in placed], pen=pg.mkPen(colour, width=2))
            self.addItem(line)
            self.lines.append(line)
        for index, (name, (_positions, (low, high))) in enumerate(zip(names, placed)):
            self.addItem(pg.InfiniteLine(pos=index, angle=90, pen=pg.mkPen((128, 128, 128), width=1)))
            for text, y, anchor in ((name, -0.12, (0.5, 0)), (low, 0.0, (0, 0.5)), (high, 1.0, (0, 0.5))):
                label = pg.TextItem(str(text), anchor=anchor, color=(128, 128, 128))
                label.setPos(index, y)
                self.addItem(label)
        self.setXRange(-0.3, len(names) - 0.5)
        self.setYRange(-0.2, 1.05)


class ImportanceBars(pg.PlotWidget):
    """Horizontal bars: how much each parameter explains of the objective (Optuna's fANOVA)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 140)
        self.getPlotItem().setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.bars: pg.BarGraphItem | None = None
        self.shown: dict[str, float] = {}
        style_plot(self)
        self.getPlotItem().setTitle("Parameter importance")

    def show_importances(self, importances: dict[str, float]) -> None:
        self.clear()
        self.shown = dict(importances)
        names = list(importances)[::-1]  # most important on top
        if not names:
            self.getPlotItem().setTitle("Parameter importance (after two varied, finished trials)")
            return
        widths = [max(0.0, float(importances[n])) if math.isfinite(importances[n]) else 0.0 for n in names]
        self.bars = pg.BarGraphItem(x0=0, y=np.arange(len(names)), height=0.6, width=widths, brush=(66, 133, 244))
        self.addItem(self.bars)
        self.getPlotItem().getAxis("left").setTicks([[(i, name) for i, name in enumerate(names)]])
        self.getPlotItem().setTitle("Parameter importance")
        self.setXRange(0, max(widths + [0.01]) * 1.05)
        self.setYRange(-0.6, len(names) - 0.4)
