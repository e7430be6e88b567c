"""Small pyqtgraph plots of the Inspect panel: bars (activations, probabilities), histograms, lines."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

BAR_COLOUR = "#3d7be0"
HIGHLIGHT_COLOUR = "#e8710a"


class Plot(pg.PlotWidget):
    """A plot with the window palette's colours and a title."""

    def __init__(self, title: str = "", x_label: str = "", y_label: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 140)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=False, y=True, alpha=0.25)
        for name, label in (("bottom", x_label), ("left", y_label)):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
            axis.enableAutoSIPrefix(False)  # probabilities read 0.2, not "200 (x0.001)"
            if label:
                item.setLabel(name, label, color=text.name())
        self.set_title(title)

    def set_title(self, title: str) -> None:
        self.getPlotItem().setTitle(title, color=self.palette().color(QPalette.ColorRole.Text).name(), size="9pt")


class BarPlot(Plot):
    """Vertical bars, optionally named on the x axis, with one bar highlighted."""

    def set_bars(self, values, names: list[str] | None = None, highlight: int | None = None) -> None:
        values = np.nan_to_num(np.asarray(values, dtype="float64").ravel())
        self.clear()
        brushes = [QColor(HIGHLIGHT_COLOUR if i == highlight else BAR_COLOUR) for i in range(len(values))]
        self.addItem(pg.BarGraphItem(x=np.arange(len(values)), height=values, width=0.8, brushes=brushes))
        axis = self.getPlotItem().getAxis("bottom")
        if names is not None and len(names) <= 40:
            axis.setTicks([[(i, str(name)[:12]) for i, name in enumerate(names)]])
        else:
            axis.setTicks(None)
        self.getPlotItem().enableAutoRange()
        self.bar_values = values


class HistogramPlot(Plot):
    """A histogram drawn from ``[counts, edges]`` (the engine's weights_hist format)."""

    def set_histogram(self, histogram) -> None:
        self.clear()
        counts, edges = (histogram or [[], []])[:2]
        if len(counts) and len(edges) == len(counts) + 1:
            self.plot(np.asarray(edges, "float64"), np.asarray(counts, "float64"), stepMode="center",
                      fillLevel=0, brush=QColor(BAR_COLOUR), pen=pg.mkPen(BAR_COLOUR))
        self.getPlotItem().enableAutoRange()
