"""CurvePlot legends: in a row of their own (never over the data), columns fitted to the width,
text in the palette's colour."""

import numpy as np
import pytest
from PySide6.QtGui import QColor, QPalette

from studio.qt.widgets.plots import LEGEND_MAX_ROWS, CurvePlot


@pytest.mark.parametrize("at_bottom", [False, True])
@pytest.mark.parametrize("count", [1, 4, 30])
def test_the_legend_never_covers_the_data_and_reads_in_the_text_colour(qtbot, at_bottom, count):
    plot = CurvePlot("Gradient norm per layer", "norm", log_y=True, legend_at_bottom=at_bottom)
    qtbot.addWidget(plot)
    plot.resize(480, 320)
    plot.show()
    qtbot.waitExposed(plot)
    for index in range(count):
        plot.curve(f"grad/{index}", f"layer_{index}", index).setData(np.arange(20), np.linspace(1, 2, 20) + index)
    qtbot.wait(10)
    item = plot.getPlotItem()
    data, legend = item.vb.sceneBoundingRect(), item.legend.sceneBoundingRect()
    assert legend.height() > 0 and not data.intersects(legend)
    assert (legend.bottom() <= data.top()) != at_bottom  # above the data, or under it
    assert plot.rect().contains(legend.toAlignedRect())  # and inside the widget
    assert data.height() > 0.45 * plot.height()  # the data keeps most of the room
    columns = item.legend.columnCount
    assert 1 < columns <= count or count == 1
    rows = -(-count // columns)
    row = legend.height() / min(rows, LEGEND_MAX_ROWS)
    assert row > 8  # whole rows, at most LEGEND_MAX_ROWS of them
    text = plot.palette().color(QPalette.ColorRole.Text)
    for _sample, label in item.legend.items:
        assert QColor(label.opts["color"]).name() == text.name()
