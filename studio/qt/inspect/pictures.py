"""Show the inspect module's uint8 pictures: scaled to fit, sharp pixels, tiles that react to the mouse."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from studio.core.pictures import normalize01

GAP = 2  # pixels between tiles in pictures.tile_grid (studio.core) pictures


def to_qimage(pixels: np.ndarray) -> QImage:
    """A uint8 grey (H, W) or RGB (H, W, 3) array as a QImage that owns its pixels."""
    pixels = np.ascontiguousarray(pixels, dtype="uint8")
    height, width = pixels.shape[:2]
    if pixels.ndim == 2:
        return QImage(pixels.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    rgb = np.ascontiguousarray(pixels[..., :3])
    return QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888).copy()


def sample_picture(sample) -> np.ndarray | None:
    """One model input as a uint8 picture, or None when it is not an image (tabular data)."""
    sample = np.asarray(sample)
    if sample.ndim == 3 and sample.shape[2] in (1, 3, 4):
        pixels = (normalize01(sample) * 255).round().astype("uint8")
        return pixels[..., 0] if sample.shape[2] == 1 else pixels[..., :3]
    if sample.ndim == 2 and min(sample.shape) > 1:
        return (normalize01(sample) * 255).round().astype("uint8")
    return None


class PictureView(QWidget):
    """A picture scaled to fit (nearest neighbour), or a centred message.

    With ``set_picture(..., tiles=(count, columns))`` the picture is a pictures.tile_grid (studio.core) grid:
    hovering a tile emits ``tile_hovered(index)`` and shows ``tile_tooltip(index)``; clicking emits
    ``tile_clicked(index)``.
    """

    tile_hovered = Signal(int)
    tile_clicked = Signal(int)

    def __init__(self, message: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.message = message
        self.tiles: tuple[int, int] | None = None
        self.tile_tooltip = None  # callable(index) -> str
        self.setMouseTracking(True)
        self.setMinimumSize(96, 96)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(360, 300)

    def set_picture(self, pixels: np.ndarray, tiles: tuple[int, int] | None = None) -> None:
        self.image, self.tiles, self.message = to_qimage(pixels), tiles, ""
        self.update()

    def show_message(self, text: str) -> None:
        self.image, self.tiles, self.message = None, None, text
        self.update()

    def target_rect(self) -> QRect:
        """Where the picture is drawn: as large as fits, aspect kept, centred."""
        if self.image is None:
            return QRect()
        area = self.rect().adjusted(4, 4, -4, -4)
        scale = min(area.width() / self.image.width(), area.height() / self.image.height())
        width, height = max(1, int(self.image.width() * scale)), max(1, int(self.image.height() * scale))
        return QRect(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2, width, height)

    def tile_rect(self, index: int) -> QRect:
        """Widget coordinates of tile ``index`` (an empty rect without tiles)."""
        if self.tiles is None or self.image is None or not 0 <= index < self.tiles[0]:
            return QRect()
        count, columns = self.tiles
        rows = math.ceil(count / columns)
        tile_w = (self.image.width() + GAP) / columns - GAP
        tile_h = (self.image.height() + GAP) / rows - GAP
        target = self.target_rect()
        scale = target.width() / self.image.width()
        row, column = divmod(index, columns)
        return QRect(int(target.x() + column * (tile_w + GAP) * scale), int(target.y() + row * (tile_h + GAP) * scale),
                     max(1, int(tile_w * scale)), max(1, int(tile_h * scale)))

    def tile_at(self, point: QPoint) -> int | None:
        if self.tiles is None:
            return None
        for index in range(self.tiles[0]):
            if self.tile_rect(index).contains(point):
                return index
        return None

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        if self.image is None:
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        painter.drawImage(self.target_rect(), self.image)

    def mouseMoveEvent(self, event) -> None:
        index = self.tile_at(event.position().toPoint())
        if index is not None:
            self.tile_hovered.emit(index)
            if self.tile_tooltip is not None:
                QToolTip.showText(event.globalPosition().toPoint(), self.tile_tooltip(index), self)
        super().mouseMoveEvent(event)

    def mousePressEvent(self, event) -> None:
        index = self.tile_at(event.position().toPoint())
        if index is not None and event.button() == Qt.MouseButton.LeftButton:
            self.tile_clicked.emit(index)
        super().mousePressEvent(event)
