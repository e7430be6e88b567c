"""Light/dark colours that follow the system colour scheme (Qt style hints) or View > Theme."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from studio.qt.settings import theme_choice

CATEGORY_HUES = {
    "Core": 210, "Convolution": 25, "Pooling": 45, "Reshape": 280, "Normalization": 160,
    "Regularization": 330, "Activation": 0, "Merge": 190, "Recurrent": 120, "Attention": 300,
    "Generative": 260,
}


@dataclass(frozen=True)
class CanvasColors:
    background: QColor
    grid: QColor
    node: QColor
    text: QColor
    muted_text: QColor
    border: QColor
    selected: QColor
    error: QColor
    edge: QColor
    port: QColor
    dark: bool

    def category(self, name: str) -> QColor:
        """Header colour of a node of palette category ``name``."""
        return QColor.fromHsl(CATEGORY_HUES.get(name, 210), 120 if self.dark else 150, 75 if self.dark else 200)


def is_dark() -> bool:
    """True when the app draws dark: the View > Theme choice, else the system's scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    choice = theme_choice()
    if choice != "system":
        return choice == "dark"
    scheme = app.styleHints().colorScheme()
    if scheme == Qt.ColorScheme.Unknown:
        return app.palette().color(QPalette.ColorRole.Window).lightness() < 128
    return scheme == Qt.ColorScheme.Dark


def canvas_colors(dark: bool | None = None) -> CanvasColors:
    dark = is_dark() if dark is None else dark
    if dark:
        return CanvasColors(QColor("#1e1f22"), QColor("#2a2c30"), QColor("#2f3136"), QColor("#e6e6e6"),
                            QColor("#a0a4ab"), QColor("#55595f"), QColor("#4c9dff"), QColor("#ff5555"),
                            QColor("#8a8f98"), QColor("#c8ccd2"), True)
    return CanvasColors(QColor("#f6f7f9"), QColor("#e6e8ec"), QColor("#ffffff"), QColor("#1d1f23"),
                        QColor("#5f6670"), QColor("#b5bac2"), QColor("#1a73e8"), QColor("#d93025"),
                        QColor("#7d8590"), QColor("#3c4043"), False)


def dark_palette() -> QPalette:
    """A dark Fusion palette, for platforms whose theme says "dark" without providing one."""
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2d31", QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#2b2d31",
        QPalette.ColorRole.Text: "#e6e6e6", QPalette.ColorRole.Button: "#35373c",
        QPalette.ColorRole.ButtonText: "#e6e6e6", QPalette.ColorRole.Highlight: "#4c9dff",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#35373c",
        QPalette.ColorRole.ToolTipText: "#e6e6e6", QPalette.ColorRole.PlaceholderText: "#8a8f98",
        QPalette.ColorRole.Link: "#6ab0ff", QPalette.ColorRole.LinkVisited: "#c58cff",  # Qt's are navy
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b6f76"))
    return palette
