"""Regenerate the app's icon set from ``assets/icons/studio.svg`` (run: ``python tools/build_icons.py``).

Writes ``assets/icons/studio-<N>.png`` for each size in SIZES (window, taskbar, launcher and the
freedesktop hicolor theme), ``studio.ico`` (Windows) and ``studio.icns`` (macOS). Rendered with Qt's
SVG renderer, packed with Pillow.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.fileio import atomic_write_bytes  # noqa: E402

ICONS = Path(__file__).resolve().parents[1] / "assets" / "icons"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(size: int) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    QSvgRenderer(str(ICONS / "studio.svg")).render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data)


def main() -> None:
    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 - QImage painting needs it
    pictures = {}
    for size in SIZES:
        pictures[size] = render(size)
        atomic_write_bytes(ICONS / f"studio-{size}.png", pictures[size])
    largest = Image.open(io.BytesIO(pictures[max(SIZES)]))
    for suffix, sizes in ((".ico", [(s, s) for s in SIZES if s <= 256]), (".icns", None)):
        out = io.BytesIO()
        largest.save(out, format=suffix[1:].upper(), **({"sizes": sizes} if sizes else {}))
        atomic_write_bytes(ICONS / f"studio{suffix}", out.getvalue())
    print(f"wrote {len(SIZES)} PNGs, studio.ico and studio.icns to {ICONS}")


if __name__ == "__main__":
    main()
