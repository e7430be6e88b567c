"""pyqtgraph plots that follow the window's light/dark palette, and series colours for both."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QPalette

from studio.qt.theme import is_dark

# Distinct hues that stay readable on white and on near-black backgrounds.
_LIGHT = ("#1a73e8", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12a4af", "#e52592", "#5f6368")
_DARK = ("#6ab0ff", "#ffa24d", "#5bd27a", "#ff6b6b", "#c58cff", "#4fd8e3", "#ff79c6", "#b0b5bd")


def series_color(index: int, dark: bool | None = None) -> QColor:
    """Colour of series ``index`` (train, val, test, ...) for the current or given theme."""
    colours = _DARK if (is_dark() if dark is None else dark) else _LIGHT
    return QColor(colours[index % len(colours)])


def style_plot(plot: pg.PlotWidget) -> None:
    """Give ``plot`` the palette's base colour as background and its text colour for axes."""
    palette = plot.palette()
    background = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    plot.setBackground(background)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(text))
        axis.setTextPen(pg.mkPen(text))
    if item.legend is not None:
        item.legend.setLabelTextColor(text)
        item.legend.setBrush(pg.mkBrush(background))
