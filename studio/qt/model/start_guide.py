"""The first-run guide shown in the Model area's side panel while no layer is selected."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QLabel

GUIDE = (
    "<p><b>Where to start</b></p><ol>"
    "<li><a href='Data'>Data</a>: pick a built-in dataset, or drop an image folder or CSV file.</li>"
    "<li><b>Model</b> (here): open a template (<a href='templates'>Model ▸ Templates…</a>, Ctrl+T) or "
    "drag layers from the palette; <i>Problems</i> below says what stops it training.</li>"
    "<li><a href='Train'>Train</a>: press Start and watch the curves; then Inspect, Generate "
    "or Export the result.</li></ol>"
)  # "Select a layer…" is the Properties panel's own line, not repeated here


class StartGuide(QLabel):
    """Data → Model → Train in three lines, with links. Signals: link_activated(str) gives an area
    name (``Data``, ``Train``) or ``templates``."""

    link_activated = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(GUIDE, parent)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        self.linkActivated.connect(self.link_activated)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # links take the palette's colour when set
            self.clear()  # setText of the same text would keep the old link colour
            self.setText(GUIDE)
