"""The Train panel's backend list: which backends can train here, probed once, off the GUI thread."""

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QStyleOptionViewItem

from studio.core import backends
from studio.core.backends import BackendFacts
from studio.qt.widgets.param_editors import NOTE_ROLE


def test_backend_combo_disables_unusable_backends_and_says_why(window, qtbot, monkeypatch):
    probed_on = []

    def fake_probe_all():
        probed_on.append(threading.current_thread())
        return [BackendFacts("tensorflow", True, "2.21.0", True),
                BackendFacts("jax", True, "0.7.0", False, reason="jaxlib failed to load",
                             fix="pip install --force-reinstall jax"),
                BackendFacts("torch", False, reason="PyTorch is not installed", fix="pip install 'dl-studio[torch]'")]

    monkeypatch.setattr(backends, "probe_all", fake_probe_all)
    backends.forget_session_facts()
    window.show_area("Train")
    doc, box = window.document, window.area_widget("Train").form.editors["backend"].box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)  # opens the list: the probe starts
    qtbot.waitUntil(lambda: not box.model().item(box.findText("jax")).isEnabled(), timeout=5000)
    assert probed_on == [probed_on[0]] and probed_on[0] is not threading.main_thread()

    model = box.model()
    assert model.item(box.findText("tensorflow")).isEnabled() and model.item(box.findText("auto")).isEnabled()
    assert not model.item(box.findText("jax")).isEnabled()
    tips = {name: box.itemData(box.findText(name), Qt.ItemDataRole.ToolTipRole) for name in backends.BACKENDS}
    assert "jaxlib failed to load" in tips["jax"] and "pip install --force-reinstall jax" in tips["jax"]
    assert "PyTorch: not installed" in tips["torch"] and "dl-studio[torch]" in tips["torch"]
    assert "TensorFlow 2.21.0: usable" in tips["tensorflow"]
    notes = {name: box.itemData(box.findText(name), NOTE_ROLE) for name in backends.BACKENDS}
    assert notes == {"tensorflow": "", "jax": "not usable", "torch": "not installed"}

    box.hidePopup()
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)  # auto -> tensorflow
    assert doc.project.training.get("backend") == "tensorflow" and box.currentText() == "tensorflow"
    qtbot.keyClick(box, Qt.Key.Key_Down)  # jax and torch are disabled: the keys skip them
    qtbot.keyClick(box, Qt.Key.Key_End)
    assert box.currentText() == "tensorflow" and doc.project.training["backend"] == "tensorflow"
    doc.undo_stack.undo()
    assert box.currentText() == "auto"

    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)  # opened again: the session's facts are reused
    qtbot.wait(100)
    assert len(probed_on) == 1
    box.hidePopup()
    QApplication.processEvents()


def test_the_form_says_which_backend_auto_picks_and_why(window, qtbot, monkeypatch):
    monkeypatch.setattr(backends, "resolve", lambda choice, signature=None: (
        "jax", "auto: fastest measured on this machine (900 samples/s, studio doctor --bench)"))
    window.show_area("Train")
    form = window.area_widget("Train").form
    qtbot.waitUntil(lambda: form.auto_note.text().startswith("auto → jax"), timeout=5000)
    assert "fastest measured" in form.auto_note.text() and form.auto_note.isVisibleTo(form)
    box = form.editors["backend"].box
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)  # a backend chosen by name: nothing to explain
    assert window.document.project.training["backend"] != "auto" and not form.auto_note.isVisibleTo(form)


def test_a_backend_not_installed_is_marked_before_the_list_opens(window, qtbot, monkeypatch):
    def no_probe():
        raise AssertionError("probed before the list was opened")

    monkeypatch.setattr(backends, "installed", lambda name: name != "torch")
    monkeypatch.setattr(backends, "probe_all", no_probe)
    backends.forget_session_facts()
    window.show_area("Train")
    box = window.area_widget("Train").form.editors["backend"].box
    model, torch, jax = box.model(), box.findText("torch"), box.findText("jax")
    assert not model.item(torch).isEnabled() and model.item(jax).isEnabled()
    assert "PyTorch: not installed" in box.itemData(torch, Qt.ItemDataRole.ToolTipRole)
    assert "dl-studio[torch]" in box.itemData(torch, Qt.ItemDataRole.ToolTipRole)

    shown = {}
    for row in (torch, jax):  # the text the open list draws for each choice
        option = QStyleOptionViewItem()
        box.view().itemDelegate().initStyleOption(option, model.index(row, 0))
        shown[row] = option.text
    assert shown == {torch: "torch (not installed)", jax: "jax"}
    assert box.itemText(torch) == "torch"  # the choice itself is unchanged
