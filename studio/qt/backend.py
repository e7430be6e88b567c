"""Load TensorFlow/Keras behind the window, then report versions and the compute device."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal


class BackendLoader(QObject):
    """Imports the heavy libraries on a daemon thread (never blocking start-up or exit).

    Signals:
        loaded(dict): ``{"tensorflow", "keras", "device", "gpus"}`` once the import finished.
        failed(str): the reason the libraries could not be loaded.
    """

    loaded = Signal(dict)
    failed = Signal(str)

    def start(self) -> None:
        threading.Thread(target=self._load, name="studio-backend-loader", daemon=True).start()

    def _load(self) -> None:
        try:
            import keras
            import tensorflow as tf

            from studio.core.training.devices import detect_gpus

            gpus = detect_gpus()
        except Exception as exc:  # any broken install must reach the status bar, not kill the app
            self.failed.emit(f"{type(exc).__name__}: {exc}")
            return
        device = ", ".join(g["name"] for g in gpus) if gpus else "CPU"
        self.loaded.emit({"tensorflow": tf.__version__, "keras": keras.__version__, "device": device, "gpus": gpus})
