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


def _labelled_mantissas(plot: CurvePlot) -> list[int]:
    """1..9 for each labelled tick of the log axis (2 for 0.02, 2, 200...)."""
    axis = plot.getPlotItem().getAxis("left")
    low, high = plot.getPlotItem().vb.viewRange()[1]
    labelled = []
    for spacing, values in axis.tickValues(low, high, axis.height()):
        labelled += [round(10 ** (value - np.floor(value))) % 10 or 1
                     for value, text in zip(values, axis.tickStrings(values, 1.0, spacing)) if text]
    return labelled


@pytest.mark.parametrize("low, high", [(1.0, 10.0), (0.3, 3.0), (1e-4, 1e-1)])
def test_a_log_axis_labels_one_two_five_of_each_decade_without_crowding(qtbot, low, high):
    plot = CurvePlot("Learning rate (log scale)", "learning rate", log_y=True)
    qtbot.addWidget(plot)
    plot.resize(400, 200)  # a short plot: nine labels a decade would overlap
    plot.show()
    qtbot.waitExposed(plot)
    plot.curve("lr", None, 0).setData(np.arange(10), np.geomspace(low, high, 10))
    plot.getPlotItem().vb.setYRange(np.log10(low), np.log10(high), padding=0)
    qtbot.wait(10)
    labelled = _labelled_mantissas(plot)
    assert labelled, "a log axis still says where it is"
    assert set(labelled) <= {1, 2, 5}, labelled


def test_a_log_axis_over_less_than_a_decade_still_labels_two_ticks(qtbot):
    plot = CurvePlot("Gradient norm per layer (log scale)", "gradient norm", log_y=True)
    qtbot.addWidget(plot)
    plot.resize(400, 200)
    plot.show()
    qtbot.waitExposed(plot)
    plot.curve("grad", None, 0).setData(np.arange(5), np.linspace(0.3, 0.8, 5))
    plot.getPlotItem().vb.setYRange(np.log10(0.3), np.log10(0.8), padding=0)
    qtbot.wait(10)
    labelled = _labelled_mantissas(plot)
    assert 2 <= len(labelled) <= 4, labelled  # readable, and still not crowded


def test_plots_follow_a_palette_switch(qtbot):
    from studio.qt.theme import dark_palette

    plot = CurvePlot("Loss", "loss")
    qtbot.addWidget(plot)
    plot.curve("train", "train", 0).setData(np.arange(5), np.arange(5.0))
    light_background = plot.backgroundBrush().color().lightness()
    plot.setPalette(dark_palette())  # what the window does when the theme turns dark
    assert plot.backgroundBrush().color().lightness() < 64 < light_background
    text = plot.getPlotItem().getAxis("left").textPen().color()
    assert text.lightness() > 160  # axis text readable on the dark background
