"""Inspect tab for attention models: each head's map for the sample, with token labels, and the
tokens' saliency (``studio.core.inspect.attention``), computed on the Inspect worker."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.core.data.tokenize import dataset_vocabulary
from studio.core.inspect.attention import attention_layers, attention_maps, explained_position, token_saliency
from studio.core.inspect.render import colormap
from studio.qt.inspect.views import InspectTab, set_items

LABEL_SPACE = 18  # pixels for the token labels left of and above each map
GAP = 12


def token_labels(tokens: np.ndarray, vocabulary) -> list[str]:
    """Short printable labels of token ids (a visible mark for spaces, the id when unknown)."""
    words = vocabulary.tokens if vocabulary else []
    labels = [words[i] if 0 <= i < len(words) else str(i) for i in map(int, tokens)]
    return [label.replace(" ", "·")[:6] or "·" for label in labels]


class AttentionMapsView(QWidget):
    """Heads side by side (rows: queries, columns: keys, bright = attended), token labels on the
    axes, and a saliency strip of the tokens under each map."""

    def __init__(self) -> None:
        super().__init__()
        self.scores: np.ndarray | None = None  # (heads, steps, steps) shown
        self.labels: tuple[list[str], list[str]] = ([], [])  # query and key labels
        self.saliency: np.ndarray | None = None
        self.setMinimumHeight(200)
        self.setMouseTracking(True)

    def show_maps(self, scores: np.ndarray, labels: tuple[list[str], list[str]], saliency: np.ndarray | None) -> None:
        self.scores, self.labels, self.saliency = scores, labels, saliency
        self._images = [self._image(colormap(head)) for head in scores]
        self._strip = None if saliency is None else self._image(colormap(saliency[None]))
        self.update()

    def clear(self) -> None:
        self.scores = None
        self.update()

    @staticmethod
    def _image(pixels: np.ndarray) -> QImage:
        pixels = np.ascontiguousarray(pixels)
        height, width = pixels.shape[:2]
        return QImage(pixels.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()

    def head_rect(self, head: int) -> QRectF:
        """Where head ``head``'s map is drawn (labels excluded)."""
        heads = len(self.scores)
        columns = min(heads, max(1, int(self.width() // 260)))
        rows = math.ceil(heads / columns)
        cell_w = (self.width() - GAP) / columns
        cell_h = (self.height() - GAP) / rows
        side = max(10.0, min(cell_w, cell_h - 2 * LABEL_SPACE) - LABEL_SPACE - GAP)
        row, column = divmod(head, columns)
        return QRectF(column * cell_w + LABEL_SPACE + GAP, row * cell_h + LABEL_SPACE + GAP, side, side)

    def cell_at(self, point) -> tuple[int, int, int] | None:
        """(head, query, key) under a widget point, or None."""
        if self.scores is None:
            return None
        steps = self.scores.shape[1]
        for head in range(len(self.scores)):
            rect = self.head_rect(head)
            if rect.contains(point):
                return (head, min(steps - 1, int((point.y() - rect.top()) / rect.height() * steps)),
                        min(steps - 1, int((point.x() - rect.left()) / rect.width() * steps)))
        return None

    def mouseMoveEvent(self, event) -> None:
        cell = self.cell_at(event.position())
        if cell is None:
            self.setToolTip("")
            return
        head, query, key = cell
        self.setToolTip(f"head {head + 1}: {self.labels[0][query]}@{query} looks at {self.labels[1][key]}@{key} "
                        f"with weight {self.scores[head, query, key]:.3f}")

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if self.scores is None:
            return
        steps = self.scores.shape[1]
        font = painter.font()
        for head, image in enumerate(self._images):
            rect = self.head_rect(head)
            step = rect.width() / steps
            painter.drawImage(rect, image)
            if self._strip is not None:
                painter.drawImage(QRectF(rect.left(), rect.bottom() + 3, rect.width(), max(4.0, step)), self._strip)
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(rect.left(), rect.top() - LABEL_SPACE - GAP, rect.width(), GAP + 4),
                             Qt.AlignmentFlag.AlignLeft, f"head {head + 1}")
            font.setPixelSize(max(6, min(11, int(step))))
            painter.setFont(font)
            if step >= 6:  # labels only when they can be read
                for i, label in enumerate(self.labels[0]):
                    painter.drawText(QRectF(rect.left() - LABEL_SPACE, rect.top() + i * step, LABEL_SPACE - 2, step),
                                     Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
                for i, label in enumerate(self.labels[1]):
                    painter.drawText(QRectF(rect.left() + i * step, rect.top() - LABEL_SPACE, step, LABEL_SPACE),
                                     Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, label)
        painter.end()


class AttentionTab(InspectTab):
    """Per-head attention maps of an attention layer and token saliency for the sample."""

    title = "Attention"

    def __init__(self, host) -> None:
        super().__init__(host)
        self.layer = QComboBox()
        self.layer.currentTextChanged.connect(lambda _name: self.refresh())
        self.view = AttentionMapsView()
        self.maps = None  # the last AttentionMaps shown
        top = QHBoxLayout()
        top.addWidget(QLabel("Attention layer:"))
        top.addWidget(self.layer, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addWidget(self.view, 1)

    def source_changed(self) -> None:
        set_items(self.layer, attention_layers(self.host.source.model))

    def refresh(self) -> None:
        source, sample = self.host.source, self.host.sample
        if source is None or sample is None:
            return
        if not self.layer.count():
            self.view.clear()
            self.say("This model has no attention layer (try the tiny_gpt or seq2seq_attention template).")
            return
        model, layer, vocabulary = source.model, self.layer.currentText(), dataset_vocabulary(source.dataset)

        def compute():
            maps = attention_maps(model, sample, layer)
            saliency, target = token_saliency(model, sample)
            return maps, saliency, target

        self.host.worker.submit("attention", compute, lambda result: self._show(result, vocabulary), self._failed)

    def _failed(self, message: str) -> None:
        self.view.clear()
        self.say(message)

    def _show(self, result, vocabulary) -> None:
        maps, saliency, target = result
        self.maps = maps
        explained = token_labels(np.array([target]), vocabulary)[0]
        if maps.scores.shape[1:] == (len(maps.tokens),) * 2:  # self-attention over the input tokens
            shown = explained_position(maps.tokens) + 1
            labels = token_labels(maps.tokens[:shown], vocabulary)
            self.view.show_maps(maps.scores[:, :shown, :shown], (labels, labels), saliency[:shown])
            self.say(f"{maps.layer}: {len(maps.scores)} heads over the first {shown} tokens (padding hidden). "
                     f"Strip under each map: how much each token moved the prediction {explained!r} "
                     "(gradient × embedding). Hover a cell for its weight.")
            return
        queries, keys = (list(map(str, range(n))) for n in maps.scores.shape[1:])
        self.view.show_maps(maps.scores, (queries, keys), None)
        self.say(f"{maps.layer}: {len(maps.scores)} heads, {len(queries)} query steps × {len(keys)} key steps. "
                 "Hover a cell for its weight.")
