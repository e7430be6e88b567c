"""Help -> Devices shows the doctor's facts, probed off the GUI thread."""

import threading

from PySide6.QtWidgets import QApplication

from studio.core import backends
from studio.core.backends import BackendFacts
from studio.qt.train.devices_dialog import DevicesDialog


def test_devices_dialog_shows_each_backend_with_its_gpus_and_fixes(qtbot, monkeypatch, window):
    probed_on = []

    def fake_probe_all():
        probed_on.append(threading.current_thread())
        return [BackendFacts("tensorflow", True, "2.21.0", True, fix=backends.gpu_limitation("tensorflow", "Windows")),
                BackendFacts("jax", True, "0.7.0", True, gpus=[{"id": "0", "name": "NVIDIA H200", "memory_mb": 143771}]),
                BackendFacts("torch", False, reason="PyTorch is not installed", fix="pip install 'dl-studio[torch]'")]

    monkeypatch.setattr(backends, "probe_all", fake_probe_all)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    action = next(a for a in menu.actions() if a.text() == "&Devices…")
    monkeypatch.setattr(DevicesDialog, "exec", lambda self: self.show())
    action.trigger()
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, DevicesDialog))
    qtbot.waitUntil(lambda: "NVIDIA H200" in dialog.text.toPlainText(), timeout=5000)
    text = dialog.text.toPlainText()
    assert probed_on and probed_on[0] is not threading.main_thread()
    assert "TensorFlow >= 2.11 has no GPU on native Windows: pip install 'dl-studio[torch]'" in text
    assert "GPU 0: NVIDIA H200, 143,771 MB" in text and "PyTorch: not installed" in text
    dialog.close()
