"""The one run picker of Export, Inspect and Generate: filled from the runs folder's index on a worker
thread (never every events.jsonl on the GUI thread), filtered by what a run generates, picked with the keyboard."""

import os
import socket
import threading

import pytest
from PySide6.QtCore import Qt

from studio.core.experiments.index import RunIndex
from studio.core.training import RunFolder
from studio.qt.export.panel import ExportPanel
from studio.qt.generate.panel import GeneratePanel
from studio.qt.widgets.run_picker import RunPicker

WAIT_MS = 10_000


def _run(root, name, created, generates=None):
    folder = RunFolder(root / name)
    folder.path.mkdir(parents=True)
    if generates == "images":
        (folder.path / "samples").mkdir()
        (folder.path / "samples" / "fixed.npz").write_bytes(b"")
    elif generates == "text":
        (folder.path / "vocabulary.json").write_text("{}")
    folder.update_info(name=name, status="completed", created=created, pid=os.getpid(), host=socket.gethostname())
    folder.emit("epoch", epoch=1, logs={"loss": 1.0})
    return str(folder.path)


@pytest.fixture
def listing_threads(monkeypatch):
    """Where the index is read; reading a run's whole event log (``read_run``, what the old
    ``list_runs`` did for every run, on the GUI thread) fails the test."""
    def refuse(*_args, **_kwargs):
        raise AssertionError("a run picker parsed a whole event log")

    monkeypatch.setattr("studio.core.training.runs.read_run", refuse)
    threads = []
    real = RunIndex.rows
    monkeypatch.setattr(RunIndex, "rows", lambda self, *args: threads.append(threading.current_thread()) or
                        real(self, *args))
    return threads


def _pick(qtbot, combo, data):
    """Move the combo box to ``data`` with arrow keys, as a user would."""
    combo.setFocus()
    target = combo.findData(data)
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < target else Qt.Key.Key_Up)


def test_panels_list_runs_from_the_index_off_the_gui_thread(qtbot, tmp_path, listing_threads):
    root = tmp_path / "runs"
    plain = _run(root, "cnn", 100.0)
    gan = _run(root, "gan", 200.0, "images")
    older_gan = _run(root, "vae", 150.0, "images")
    gpt = _run(root, "gpt", 300.0, "text")

    export = ExportPanel(lambda: root)
    generate = GeneratePanel(lambda: root)
    for panel in (export, generate):
        qtbot.addWidget(panel)
        panel.show()
    qtbot.waitUntil(lambda: export.run_combo.count() == 4 and generate.run_dir is not None
                    and generate.text.run_dir is not None, timeout=WAIT_MS)
    assert [export.run_combo.itemData(i) for i in range(4)] == [gpt, gan, older_gan, plain]  # newest first
    assert export.run_combo.itemText(0) == "gpt (completed, 1 epoch)"
    assert [generate.run_combo.itemData(i) for i in range(generate.run_combo.count())] == [gan, older_gan]
    assert [generate.text.run_combo.itemData(i) for i in range(generate.text.run_combo.count())] == [gpt]
    assert listing_threads and threading.main_thread() not in listing_threads

    _pick(qtbot, generate.run_combo, older_gan)
    assert str(generate.run_dir) == older_gan
    _pick(qtbot, export.run_combo, plain)
    assert export.folder_edit.text() == os.path.join(plain, "exports")  # the folder follows the chosen run
    assert export.run_combo.currentData() == plain and export.export_button.isEnabled()


def test_the_choice_stays_on_its_run_unless_new_runs_are_followed(qtbot, tmp_path, listing_threads):
    root = tmp_path / "runs"
    _run(root, "a", 100.0)
    older = _run(root, "b", 50.0)
    kept, following = RunPicker(lambda: root), RunPicker(lambda: root, follow_new=True)
    chosen = []
    following.chosen.connect(chosen.append)
    for picker in (kept, following):
        qtbot.addWidget(picker)
        picker.show()
        with qtbot.waitSignal(picker.listed, timeout=WAIT_MS):
            picker.refresh()
        _pick(qtbot, picker, older)
    newest = _run(root, "c", 200.0)
    for picker in (kept, following):
        with qtbot.waitSignal(picker.listed, timeout=WAIT_MS):
            picker.refresh()
    assert kept.currentData() == older and kept.count() == 3
    assert following.currentData() == newest and chosen[-2:] == [older, newest]
    assert following.row(newest)["name"] == "c" and following.row(tmp_path / "elsewhere") is None
