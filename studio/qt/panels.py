"""Work-area panels. Each area other than Model is a package ``studio/qt/<area>/`` (``data``,
``augment``, ``train``, ``experiments``, ``inspect``, ``generate``, ``export``) whose ``panel`` module exposes
``create_panel(window: MainWindow) -> QWidget``. The main window creates a panel the first time its
tab is shown (keeping start-up fast) and shows a placeholder while the module does not exist yet.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from studio.core.logs import log_file

logger = logging.getLogger(__name__)

PLACEHOLDERS = {
    "Data": "Choose and preview the dataset here.",
    "Augment": "Add data augmentation steps and preview them here.",
    "Train": "Configure training, start it and watch the curves here.",
    "Experiments": "Search hyperparameters with sweeps here.",
    "Inspect": "Look inside the trained model (activations, filters, saliency) here.",
    "Generate": "Sample from generative models (GAN, VAE) here.",
    "Export": "Export the model (.keras, SavedModel, TFLite, ONNX, Python) here.",
}


def module_name(area: str) -> str:
    return f"studio.qt.{area.lower()}.panel"


def has_panel(area: str) -> bool:
    return importlib.util.find_spec(module_name(area)) is not None


def create_panel(area: str, window):
    """The area's panel, or a placeholder label when its module is missing (or fails to load)."""
    if has_panel(area):
        try:
            return importlib.import_module(module_name(area)).create_panel(window)
        except Exception as exc:  # a broken panel must not take the whole window down
            logger.error("the %s panel could not be loaded", area, exc_info=exc)
            details = f"\nDetails: {log_file()}" if log_file() else ""
            return placeholder(f"The {area} panel could not be loaded:\n{type(exc).__name__}: {exc}{details}")
    return placeholder(PLACEHOLDERS.get(area, "") + "\n(This area is not built yet.)")


def placeholder(text: str) -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setObjectName("placeholder")
    return label
