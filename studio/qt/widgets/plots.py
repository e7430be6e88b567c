"""Reusable pyqtgraph plots for training curves: themed, legends, fast with long curves.

Every curve clips to the visible range and down-samples to the pixel width (peak method, so
spikes stay visible), so a 100,000-point curve redraws as fast as a short one.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QPalette

from studio.qt.widgets.plot_theme import series_color, style_plot
from studio.qt.theme import is_dark

TRAIN, VAL = 0, 1  # series colour indexes
LEGEND_MAX_ROWS = 4  # a legend with more entries (one per layer, say) shows its first rows only
THEME_EVENTS = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
LEGEND_ROW_ABOVE, LEGEND_ROW_BELOW = 1, 4  # PlotItem layout rows: top axis (never shown), under the x axis


def _style(role: str, base: QColor) -> dict:
    """Pen and symbol options of a curve drawn in ``role``: batch (faint), smoothed/line (solid),
    epoch (solid with dots), val (dashed with squares), dashed, points (thin line with dots)."""
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
    if role == "points":  # sparse samples: each one visible even before a line joins them
        return {"pen": pg.mkPen(base, width=1.5), "symbol": "o", "symbolSize": 5,
                "symbolBrush": base, "symbolPen": None}
    return {"pen": pg.mkPen(base, width=2)}


class LogAxis(pg.AxisItem):
    """A log-scale axis that labels only 1, 2 and 5 of each decade (every other tick when less
    than a decade is in view): nine labels a decade crowd a short plot into an unreadable column."""

    LABELLED = (1, 2, 5)

    def logTickStrings(self, values, scale, spacing):
        strings = super().logTickStrings(values, scale, spacing)
        mantissas = [round(10 ** (v - np.floor(v))) for v in np.asarray(values, dtype=float)]
        kept = [text if mantissa in self.LABELLED or mantissa == 10 else ""
                for mantissa, text in zip(mantissas, strings)]
        if sum(map(bool, kept)) < 2 <= len(strings):  # less than a decade in view: every other tick
            kept = [text if index % 2 == 0 else "" for index, text in enumerate(strings)]
        return kept


class CurvePlot(pg.PlotWidget):
    """A titled plot of named curves, each under a key of the caller's choosing."""

    def __init__(self, title: str, y_label: str, x_label: str = "epoch", log_y: bool = False,
                 legend_at_bottom: bool = False, parent=None) -> None:
        """The legend sits in a row of its own, never over a curve: between the title and the
        data, or under the x axis with ``legend_at_bottom``; its columns follow the plot's width."""
        super().__init__(parent, axisItems={"left": LogAxis("left")})  # log or not, later too
        self.setMinimumSize(220, 160)
        self.plot_title, self.y_label, self.x_label = title, y_label, x_label
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._looks: dict[str, tuple[str, int]] = {}
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLogMode(y=log_y)
        item.setClipToView(True)
        item.setDownsampling(auto=True, mode="peak")
        for axis in ("left", "bottom"):  # "accuracy (x0.001)" reads worse than plain numbers
            item.getAxis(axis).enableAutoSIPrefix(False)
        self._add_legend(LEGEND_ROW_BELOW if legend_at_bottom else LEGEND_ROW_ABOVE)
        self._show_values(False)  # no numbers on the y axis until data comes
        self.apply_theme()

    def _add_legend(self, row: int) -> None:
        item = self.getPlotItem()
        if row == LEGEND_ROW_ABOVE:
            item.layout.removeItem(item.getAxis("top"))
        legend = pg.LegendItem(offset=None, labelTextSize="8pt")
        legend.layout.setContentsMargins(0, 0, 0, 0)
        legend.setFlag(legend.GraphicsItemFlag.ItemClipsChildrenToShape)  # rows past the maximum
        item.layout.addItem(legend, row, 1)
        item.legend = legend  # named curves added to the plot get an entry, as with addLegend

    def _fit_legend(self) -> None:
        """As many columns as the widest entry allows, at most ``LEGEND_MAX_ROWS`` rows shown."""
        item = self.getPlotItem()
        legend = item.legend if item is not None else None  # None while pyqtgraph builds the plot
        if legend is None:
            return
        if not legend.items:
            legend.setMaximumHeight(0)
            return
        widest = max(sample.boundingRect().width() + label.boundingRect().width() + 8
                     for sample, label in legend.items)
        room = self.width() - item.getAxis("left").width() - 8
        columns = max(1, min(len(legend.items), int(room // widest)))
        legend.setColumnCount(columns)
        row_height = max(label.boundingRect().height() for _sample, label in legend.items)
        rows = min(LEGEND_MAX_ROWS, -(-len(legend.items) // columns))
        legend.setMaximumHeight(rows * row_height)
        legend.setMinimumHeight(rows * row_height)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_legend()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() in THEME_EVENTS and self.getPlotItem() is not None:  # light/dark
            self.apply_theme()

    def curve(self, key: str, name: str | None, colour_index: int, role: str = "line") -> pg.PlotDataItem:
        """The curve for ``key``, created on first use (``name`` None: not in the legend)."""
        item = self.curves.get(key)
        if item is None:
            item = pg.PlotDataItem(name=name, **_style(role, series_color(colour_index)))
            item.setSkipFiniteCheck(True)  # the series hold finite values only
            self.addItem(item)  # takes the plot's clip-to-view and downsampling settings
            self.curves[key] = item
            self._looks[key] = (role, colour_index)
            if name is not None:
                self._fit_legend()
        elif name is not None and item.name() != name:  # e.g. "train" became "d_loss" once logged
            item.opts["name"] = name
            label = self.getPlotItem().legend.getLabel(item)
            if label is not None:
                label.setText(name)
                self._fit_legend()
        return item

    def set_labels(self, title: str, y_label: str) -> None:
        if (title, y_label) != (self.plot_title, self.y_label):
            self.plot_title, self.y_label = title, y_label
            self._draw_labels()

    def set_data(self, key: str, x: np.ndarray, y: np.ndarray) -> None:
        self.curves[key].setData(x, y)
        if len(x):
            self._show_values(True)

    def clear_curves(self) -> None:
        """Remove every curve and its legend entry; the axes forget their range and show no
        numbers until data comes (an empty log axis would show meaningless ticks)."""
        for item in self.curves.values():
            self.removeItem(item)
        self.getPlotItem().legend.clear()
        self.curves.clear()
        self._looks.clear()
        self._fit_legend()
        self.getPlotItem().enableAutoRange()  # with no data: back to 0..1, not the last run's range
        self._show_values(False)

    def _show_values(self, show: bool) -> None:
        axis = self.getPlotItem().getAxis("left")
        if axis.style["showValues"] != show:
            axis.setStyle(showValues=show)

    def apply_theme(self) -> None:
        """Background, axes, text and curve colours for the current light or dark scheme."""
        style_plot(self)
        self._draw_labels()
        item = self.getPlotItem()
        dark = is_dark()
        for key, (role, index) in self._looks.items():
            style = _style(role, series_color(index, dark))
            self.curves[key].setPen(style["pen"])
            if "symbolBrush" in style:
                self.curves[key].setSymbolBrush(style["symbolBrush"])
        text = self.palette().color(QPalette.ColorRole.Text).name()
        for _sample, label in item.legend.items:
            label.setText(label.text, color=text)

    def _draw_labels(self) -> None:
        text = self.palette().color(QPalette.ColorRole.Text).name()
        item = self.getPlotItem()
        item.setTitle(self.plot_title, color=text, size="10pt")
        item.setLabel("left", self.y_label, color=text)
        item.setLabel("bottom", self.x_label, color=text)
