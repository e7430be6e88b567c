"""Reusable pyqtgraph plots for training curves: themed, legends, fast with long curves.

Every curve clips to the visible range and down-samples to the pixel width (peak method, so
spikes stay visible), so a 100,000-point curve redraws as fast as a short one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from studio.qt.plot_theme import series_color, style_plot
from studio.qt.theme import is_dark

TRAIN, VAL = 0, 1  # series colour indexes
ROLES = ("batch", "smoothed", "epoch", "val", "line", "dashed")


def _style(role: str, base: QColor) -> dict:
    """Pen and symbol options of a curve drawn in ``role`` (see ROLES)."""
    if role == "batch":
        faint = QColor(base)
        faint.setAlpha(90)
        return {"pen": pg.mkPen(faint, width=1)}
    if role == "epoch":
        return {"pen": pg.mkPen(base, width=1.5), "symbol": "o", "symbolSize": 7,
                "symbolBrush": base, "symbolPen": None}
    if role == "val":
        return {"pen": pg.mkPen(base, width=2, style=Qt.PenStyle.DashLine), "symbol": "s", "symbolSize": 7,
                "symbolBrush": base, "symbolPen": None}
    if role == "dashed":
        return {"pen": pg.mkPen(base, width=2, style=Qt.PenStyle.DashLine)}
    return {"pen": pg.mkPen(base, width=2)}


class CurvePlot(pg.PlotWidget):
    """A titled plot of named curves, each under a key of the caller's choosing."""

    def __init__(self, title: str, y_label: str, x_label: str = "epoch", log_y: bool = False,
                 legend_columns: int = 1, parent=None) -> None:
        super().__init__(parent)
        self.setMinimumSize(220, 160)
        self.plot_title, self.y_label, self.x_label = title, y_label, x_label
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._looks: dict[str, tuple[str, int]] = {}
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLogMode(y=log_y)
        item.addLegend(offset=(-8, 8), colCount=legend_columns, labelTextSize="8pt")
        self.apply_theme()

    def curve(self, key: str, name: str | None, colour_index: int, role: str = "line") -> pg.PlotDataItem:
        """The curve for ``key``, created on first use (``name`` None: not in the legend)."""
        item = self.curves.get(key)
        if item is None:
            item = pg.PlotDataItem(name=name, **_style(role, series_color(colour_index)))
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            item.setSkipFiniteCheck(True)  # the series hold finite values only
            self.addItem(item)
            self.curves[key] = item
            self._looks[key] = (role, colour_index)
        return item

    def set_data(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        self.curves[key].setData(x, y)

    def clear_curves(self) -> None:
        for item in self.curves.values():
            self.removeItem(item)
        self.getPlotItem().legend.clear()
        self.curves.clear()
        self._looks.clear()

    def apply_theme(self) -> None:
        """Background, axes, text and curve colours for the current light or dark scheme."""
        style_plot(self)
        text = self.palette().color(QPalette.ColorRole.Text).name()
        item = self.getPlotItem()
        item.setTitle(self.plot_title, color=text, size="10pt")
        item.setLabel("left", self.y_label, color=text)
        item.setLabel("bottom", self.x_label, color=text)
        dark = is_dark()
        for key, (role, index) in self._looks.items():
            style = _style(role, series_color(index, dark))
            self.curves[key].setPen(style["pen"])
            if "symbolBrush" in style:
                self.curves[key].setSymbolBrush(style["symbolBrush"])
        for _sample, label in item.legend.items:
            label.setText(label.text, color=text)
