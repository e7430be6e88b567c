"""A widget that tiles small images with a caption under each (samples, previews, activations).

Tiles grow with the widget and keep sharp pixels (nearest-neighbour), so 8x8 digits stay
readable; captions use the widget's font and palette, so they read well in light and dark themes.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QEvent, QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

GAP = 6
MAX_TILE = 160


def to_uint8(images: np.ndarray, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """NHWC float images mapped from ``value_range`` (default: their own min..max) to uint8."""
    images = np.asarray(images, np.float32)
    low, high = value_range if value_range is not None else (float(images.min()), float(images.max()))
    return np.clip((images - low) / ((high - low) or 1.0) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def to_qimage(pixels: np.ndarray) -> QImage:
    """One (H, W, 1|3|4) uint8 image as a QImage that owns its data."""
    height, width, channels = pixels.shape
    if channels == 1:
        image = QImage(np.ascontiguousarray(pixels[..., 0]).data, width, height, width, QImage.Format.Format_Grayscale8)
    else:
        rgb = np.ascontiguousarray(pixels[..., :3])
        image = QImage(rgb.data, width, height, width * 3, QImage.Format.Format_RGB888)
    return image.copy()


class ImageGrid(QWidget):
    """Shows NHWC images as a grid of tiles with optional captions, or a centred message;
    ``tile_clicked(index)`` when the user clicks an image. A tile's tooltip is its whole caption
    (a long one is cut under the tile)."""

    tile_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._images: list[QImage] = []
        self._captions: list[str] = []
        self._message = ""
        self.pixels: np.ndarray | None = None  # the uint8 tiles shown, (N, H, W, C)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    def set_images(self, images: np.ndarray, captions: list[str] | None = None,
                   value_range: tuple[float, float] | None = None) -> None:
        """Show ``images`` (NHWC floats, values mapped from ``value_range``) with ``captions``."""
        self.pixels = to_uint8(images, value_range)
        self._images = [to_qimage(p) for p in self.pixels]
        self._captions = [str(c) for c in captions] if captions is not None else []
        self._message = ""
        self.update()

    def show_message(self, text: str) -> None:
        """Replace the tiles by a message (e.g. "Loading…" or why there is nothing to show)."""
        self.pixels = None
        self._images, self._captions, self._message = [], [], text
        self.update()

    @property
    def count(self) -> int:
        return len(self._images)

    @property
    def captions(self) -> list[str]:
        return list(self._captions)

    def sizeHint(self) -> QSize:
        return QSize(480, 360)

    def tile_rects(self) -> list[QRect]:
        """Where each image is drawn (the caption goes under it)."""
        if not self._images:
            return []
        caption = self.fontMetrics().height() + 2 if self._captions else 0
        aspect = self._images[0].height() / self._images[0].width()
        best = (0, 1)
        for cols in range(1, len(self._images) + 1):
            rows = math.ceil(len(self._images) / cols)
            width = min((self.width() - GAP) / cols - GAP, (self.height() - GAP) / rows - GAP - caption) / max(aspect, 1e-6)
            width = min(width, MAX_TILE / max(aspect, 1.0), MAX_TILE)
            if width > best[0]:
                best = (width, cols)
        width, cols = max(int(best[0]), 4), best[1]
        height = max(int(width * aspect), 4)
        rows = math.ceil(len(self._images) / cols)
        left = (self.width() - cols * (width + GAP) + GAP) // 2
        top = (self.height() - rows * (height + caption + GAP) + GAP) // 2
        return [QRect(left + (i % cols) * (width + GAP), top + (i // cols) * (height + caption + GAP), width, height)
                for i in range(len(self._images))]

    def tile_at(self, point) -> int | None:
        """The index of the tile (image and caption) at ``point``, or None."""
        caption = self.fontMetrics().height() + 2 if self._captions else 0
        return next((i for i, rect in enumerate(self.tile_rects()) if rect.adjusted(0, 0, 0, caption).contains(point)),
                    None)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            hit = self.tile_at(event.pos())
            if hit is not None and hit < len(self._captions):
                QToolTip.showText(event.globalPos(), self._captions[hit], self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def mousePressEvent(self, event) -> None:
        hit = self.tile_at(event.position().toPoint())
        if hit is None:
            super().mousePressEvent(event)
        else:
            self.tile_clicked.emit(hit)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        if not self._images:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect().adjusted(12, 12, -12, -12),
                             Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        metrics = self.fontMetrics()
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        for i, rect in enumerate(self.tile_rects()):
            painter.drawImage(rect, self._images[i])
            if i < len(self._captions):
                text = metrics.elidedText(self._captions[i], Qt.TextElideMode.ElideRight, rect.width() + GAP)
                caption = QRect(rect.left() - GAP // 2, rect.bottom() + 2, rect.width() + GAP, metrics.height())
                painter.drawText(caption, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, text)
