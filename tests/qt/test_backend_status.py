"""The window loads whatever Keras backend is installed, shows it, and then checks the model against
the data; a run's device error is worded as the Train form's controls."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import backends
from studio.qt.train.training_form import fix_text

ROOT = Path(__file__).resolve().parents[2]

WINDOW_WITHOUT_TENSORFLOW = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx", "tf_keras", "tensorboard"):
            raise ImportError(f"{name} is blocked for this test")
sys.meta_path.insert(0, _NoTensorFlow())

import json, os, time
from PySide6.QtWidgets import QApplication
from studio.qt.main_window import MainWindow

app = QApplication([])
window = MainWindow()
ready = []
window.backend_ready.connect(ready.append)
window.start_backend_loading()
problems = window.model_area.problems
deadline = time.monotonic() + 150
while (not ready or problems.data_facts is None) and time.monotonic() < deadline:
    app.processEvents()
    time.sleep(0.02)
print(json.dumps({"label": window.backend_label.text(), "ready": bool(ready),
                  "checked": problems.data_facts is not None, "tensorflow": "tensorflow" in sys.modules}))
sys.stdout.flush()
os._exit(0)
"""


@pytest.mark.slow
@pytest.mark.skipif(not backends.installed("jax"), reason="jax is not installed")
def test_without_tensorflow_the_window_shows_jax_and_checks_the_model_against_the_data(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "KERAS_BACKEND"}
    env.update({"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
                "XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data"),
                "KERAS_HOME": str(tmp_path / "keras"), "STUDIO_CACHE_DIR": str(tmp_path / "cache")})
    done = subprocess.run([sys.executable, "-c", WINDOW_WITHOUT_TENSORFLOW], capture_output=True, text=True,
                          env=env, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    shown = json.loads(done.stdout.strip().splitlines()[-1])
    assert shown["ready"] and " · JAX " in shown["label"] and "TensorFlow" not in shown["label"]
    assert shown["checked"], "the model <-> data check never ran"
    assert not shown["tensorflow"]


def test_a_device_error_names_the_train_form_controls():
    assert fix_text([["devices", "cpu"], ["devices", "auto"]]) == \
        "Set Devices to cpu or auto under Hardware and logging."
    assert fix_text([["backend", "jax"], ["devices", "gpu"]]) == \
        "Set Backend to jax, or Devices to gpu, under Hardware and logging."
    assert fix_text([]) == ""


def test_the_train_panel_words_a_device_error_as_its_controls(window, tmp_path):
    from types import SimpleNamespace

    panel = window.area_widget("Train")
    panel.watcher = SimpleNamespace(ended=True, path=tmp_path, state="failed", error={
        "kind": "config", "message": "no GPU found", "fixes": [["devices", "cpu"], ["devices", "auto"]]})
    message = panel.failure_message()
    assert message.startswith("Training failed: no GPU found. Set Devices to cpu or auto under Hardware and logging.")
    assert "--devices" not in message
