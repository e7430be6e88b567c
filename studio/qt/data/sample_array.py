"""One image sample shown as the numbers it is: a zoomable table of its pixel values, one channel at a
time, each cell shaded by its value, beside the picture itself.

The values are the dataset's own (after the dataset's normalization), exactly what the model's Input
receives; nothing here computes more than a grey level per cell.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QEvent, QModelIndex, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPixmap
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QSizePolicy, QSlider, QTableView, QVBoxLayout,
                               QWidget)

from studio.core import formatting
from studio.qt.widgets.image_grid import to_qimage, to_uint8

CELL_SIZES = (12, 64)  # zoom range: pixels per cell
DEFAULT_CELL = 30
CELL_MARGIN = 8  # pixels of a cell the style keeps around its text
PICTURE_SIZE = 160
_RGB = ("red", "green", "blue", "alpha")


def value_text(value: float) -> str:
    """A pixel value in full: whole numbers as such, others to 3 significant digits."""
    return value_texts(value)[0]


def value_texts(value: float) -> list[str]:
    """The ways a cell may write ``value``, most precise first: 3, 2 then 1 significant digits, each
    also without the zero before the point (0.125, .125, 0.13, .13, 0.1, .1)."""
    if float(value).is_integer():
        return [str(int(value))]
    texts = []
    for digits in (3, 2, 1):
        text = f"{value:.{digits}g}"
        texts += [text, text.replace("0.", ".", 1) if text.lstrip("-").startswith("0.") else text]
    return list(dict.fromkeys(texts))


def channel_names(channels: int) -> list[str]:
    """What the channel picker offers: grey for one channel, red/green/blue(/alpha) for 3 or 4."""
    if channels == 1:
        return ["grey"]
    return list(_RGB[:channels]) if channels in (3, 4) else [f"channel {i}" for i in range(channels)]


class ChannelTable(QAbstractTableModel):
    """The rows and columns of one channel of an (H, W, C) image; a cell's background is its grey level.

    A cell writes its value as precisely as its width allows (never cut to "0..."), or nothing when
    not even one digit fits; its tooltip always has the value in full.
    """

    def __init__(self) -> None:
        super().__init__()
        self.values = np.zeros((0, 0), np.float32)
        self.levels = np.zeros((0, 0), np.uint8)
        self.metrics: QFontMetrics | None = None
        self.room = 0  # pixels of text a cell holds

    def set_room(self, metrics: QFontMetrics, room: int) -> None:
        """Write each value to fit ``room`` pixels in the font measured by ``metrics``."""
        self.metrics, self.room = metrics, room
        if self.values.size:
            self.dataChanged.emit(self.index(0, 0), self.index(*(n - 1 for n in self.values.shape)))

    def cell_text(self, value: float) -> str:
        texts = value_texts(value)
        if self.metrics is None:
            return texts[0]
        return next((text for text in texts if self.metrics.horizontalAdvance(text) <= self.room), "")

    def set_channel(self, values: np.ndarray, levels: np.ndarray) -> None:
        self.beginResetModel()
        self.values, self.levels = values, levels
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values.shape[0]

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else self.values.shape[1]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell_text(self.values[row, col])
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"row {row}, column {col}: {self.values[row, col]:.6g}"
        if role == Qt.ItemDataRole.BackgroundRole:
            level = int(self.levels[row, col])
            return QColor(level, level, level)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(Qt.GlobalColor.black if self.levels[row, col] > 127 else Qt.GlobalColor.white)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignCenter
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        return str(section) if role == Qt.ItemDataRole.DisplayRole else None


class SampleArrayView(QWidget):
    """The picked sample: its picture, a channel picker, a zoom slider and the table of its values."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: np.ndarray | None = None
        self._levels: np.ndarray | None = None
        self.title = QLabel(wordWrap=True)
        self.picture = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.channel_box = QComboBox(sizeAdjustPolicy=QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.channel_box.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)  # never cut
        self.channel_box.setToolTip("Which channel's values the table shows: a colour image is three "
                                    "tables of numbers, one per colour.")
        self.channel_box.currentIndexChanged.connect(self._show_channel)
        self.zoom = QSlider(Qt.Orientation.Horizontal, minimum=CELL_SIZES[0], maximum=CELL_SIZES[1],
                            value=DEFAULT_CELL)
        self.zoom.setToolTip("Cell size: zoom out to see the picture in the numbers, in to read them.")
        self.zoom.valueChanged.connect(self._set_cell_size)
        self.model = ChannelTable()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setCornerButtonEnabled(False)
        self.table.viewport().installEventFilter(self)

        self.controls = QWidget()
        controls = QHBoxLayout(self.controls)
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.channel_box)
        controls.addWidget(QLabel("Zoom"))
        controls.addWidget(self.zoom, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.picture)
        layout.addWidget(self.controls)
        layout.addWidget(self.table, 1)
        layout.addStretch()  # takes the room while the table is hidden
        self._set_cell_size(DEFAULT_CELL)
        self.clear()

    def clear(self) -> None:
        """Show only the hint until an image sample is picked."""
        self.image = None
        self.title.setText("Click an image to see it as the array of numbers the model reads.")
        self._show_parts(False)
        self.picture.clear()
        self.channel_box.clear()
        self.model.set_channel(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.uint8))

    def show_sample(self, image: np.ndarray, caption: str, value_range: tuple[float, float]) -> None:
        """Show one (H, W, C) sample; ``value_range`` maps its values to grey levels as the grid does."""
        self.image = np.asarray(image, np.float32)
        self._show_parts(True)
        self._levels = to_uint8(self.image[None], value_range)[0]
        self.title.setText(f"<b>{caption}</b> · an array of shape {formatting.shape(self.image.shape)}, values "
                           f"{value_text(self.image.min())} .. {value_text(self.image.max())}")
        height, width = self.image.shape[:2]
        scale = max(1, PICTURE_SIZE // max(height, width))
        shown = self._levels if self.image.shape[2] in (1, 3, 4) else self._levels[..., :1]
        self.picture.setPixmap(QPixmap.fromImage(to_qimage(shown)).scaled(
            width * scale, height * scale, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))
        picked = max(self.channel_box.currentIndex(), 0)
        self.channel_box.blockSignals(True)
        self.channel_box.clear()
        self.channel_box.addItems(channel_names(self.image.shape[2]))
        self.channel_box.setCurrentIndex(min(picked, self.image.shape[2] - 1))
        self.channel_box.blockSignals(False)
        self.channel_box.setEnabled(self.image.shape[2] > 1)
        self._show_channel()

    def _show_parts(self, shown: bool) -> None:
        for part in (self.picture, self.controls, self.table):
            part.setVisible(shown)

    def _show_channel(self) -> None:
        channel = self.channel_box.currentIndex()
        if self.image is not None and channel >= 0:
            self.model.set_channel(self.image[..., channel], self._levels[..., channel])

    def _set_cell_size(self, size: int) -> None:
        for header in (self.table.horizontalHeader(), self.table.verticalHeader()):
            header.setMinimumSectionSize(1)
            header.setDefaultSectionSize(size)
        font = self.table.font()
        font.setPointSizeF(max(5.0, size / 5))  # full zoom reads 0.125 whole
        self.table.setFont(font)
        self.model.set_room(QFontMetrics(font), size - CELL_MARGIN)

    def eventFilter(self, watched, event) -> bool:
        """Ctrl + wheel over the table zooms it, as in an image viewer."""
        if event.type() == QEvent.Type.Wheel and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom.setValue(self.zoom.value() + (2 if event.angleDelta().y() > 0 else -2))
            return True
        return super().eventFilter(watched, event)
