"""The Generate area's text tab: a language-model run's per-epoch samples show live (the slider
scrubs) and the Generate button writes seeded text from a prompt on a worker thread."""

import os
import socket
import time

from PySide6.QtCore import Qt

from studio.core import fileio
from studio.core.data.tokenize import PAD, UNKNOWN, Vocabulary
from studio.core.generative.text import generate, save_vocabulary
from studio.core.training import RunFolder
from studio.qt.generate.panel import GeneratePanel

LEFT = Qt.MouseButton.LeftButton
VOCAB = Vocabulary([PAD, UNKNOWN, *"abcdefghijklmnopqrstuvwxyz .,!"], "char")


def _language_model_run(root):
    """A tiny GPT run as training leaves it (untrained weights: all the view needs)."""
    import keras

    from studio.core.graph.keras_io import to_keras
    from studio.core.graph.templates import load_template

    folder = RunFolder(root / "runs" / "gpt")
    (folder.path / "samples").mkdir(parents=True)
    save_vocabulary(folder.path, VOCAB)
    keras.utils.set_random_seed(0)
    fileio.atomic_replace_with(folder.model_file, to_keras(load_template("tiny_gpt").graph).save)
    folder.update_info(name="gpt", status="running", pid=os.getpid(), host=socket.gethostname(), created=time.time())
    return folder


def _samples(folder, epoch, text):
    relative = f"samples/epoch_{epoch:03d}.txt"
    fileio.atomic_write_text(folder.path / relative, text)
    folder.emit("samples", epoch=epoch, path=relative, kind="text")


def test_epoch_samples_follow_live_and_generate_writes_seeded_text(qtbot, tmp_path):
    folder = _language_model_run(tmp_path)
    panel = GeneratePanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    panel.show()
    bar = panel.modes.tabBar()
    qtbot.mouseClick(bar, LEFT, pos=bar.tabRect(1).center())
    view = panel.text
    qtbot.waitUntil(lambda: view.run_dir == folder.path, timeout=5000)
    assert panel.modes.currentWidget() is view and view.run_combo.count() == 1 and panel.run_combo.count() == 0

    _samples(folder, 1, "the cat aaaa")
    qtbot.waitUntil(lambda: view.epoch_label.text() == "epoch 1", timeout=5000)
    assert view.samples_text.toPlainText() == "the cat aaaa"
    _samples(folder, 2, "the cat sat")
    qtbot.waitUntil(lambda: view.epoch_label.text() == "epoch 2", timeout=5000)  # follows the newest
    assert view.samples_text.toPlainText() == "the cat sat"
    view.epoch_slider.setFocus()
    qtbot.keyClick(view.epoch_slider, Qt.Key.Key_Left)
    assert view.epoch_label.text() == "epoch 1" and view.samples_text.toPlainText() == "the cat aaaa"

    qtbot.mouseClick(view.prompt, LEFT)
    qtbot.keyClicks(view.prompt, "the dog")
    view.editors["tokens"].set_value(12)
    view.editors["seed"].set_value(3)
    qtbot.mouseClick(view.generate_button, LEFT)
    qtbot.waitUntil(lambda: view.output.toPlainText() != "", timeout=60_000)
    from studio.core.generative.text import load_language_model

    expected = generate(load_language_model(folder.path), VOCAB, "the dog", 12, 0.8, 5, 3)
    assert view.output.toPlainText() == expected and expected.startswith("the dog") and len(expected) == 19
    assert view.generate_button.isEnabled() and "12 tokens" in view.status.text()


def test_without_a_language_model_run_generate_is_disabled_with_the_reason(qtbot, tmp_path):
    (tmp_path / "runs").mkdir()
    panel = GeneratePanel(lambda: tmp_path / "runs")
    qtbot.addWidget(panel)
    view = panel.text
    assert view.run_combo.count() == 0 and not view.generate_button.isEnabled()
    assert "tiny_gpt" in view.generate_button.toolTip()
