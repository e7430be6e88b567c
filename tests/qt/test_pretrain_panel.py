"""Train area: self-supervised pretraining chosen in the form, run through the same Start, followed
live, and its encoder put under a new head with "Use as backbone" (one undo step)."""

import pytest

from PySide6.QtCore import Qt

from studio.core.training import RunFolder, read_run
from studio.core.transfer import backbone_layers

from test_train_panel import ended, points, train_panel


def choose_contrastive(panel, qtbot) -> None:
    """Pick the contrastive objective in the form's combo with the keyboard, as a user would."""
    box = panel.form.editors["objective"].box
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert box.currentText() == "contrastive"


def test_the_objective_combo_shows_the_pretraining_settings_and_renames_start(window, qtbot, tmp_path):
    panel = train_panel(window, tmp_path)
    form, doc = panel.form, window.document
    row = lambda name: form.rows[name][0].isRowVisible(form.rows[name][1])  # noqa: E731
    assert panel.start_button.text() == "Start" and row("loss") and not row("temperature")
    choose_contrastive(panel, qtbot)
    assert doc.project.training["objective"] == "contrastive"
    assert panel.start_button.text() == "Start pretraining" and row("temperature") and not row("loss")
    assert [box.title() for box, _names in form.boxes if box.isHidden()] == ["Loss and metrics"]
    doc.undo_stack.undo()
    assert panel.start_button.text() == "Start" and form.editors["objective"].box.currentText() == "supervised"
    assert not any(box.isHidden() for box, _names in form.boxes)


def test_a_finished_pretraining_run_offers_use_as_backbone_and_others_do_not(window, qtbot, tmp_path):
    window.show_area("Train")
    panel = window.area_widget("Train")
    for name, objective in (("pretrain", "contrastive"), ("plain", "supervised")):
        folder = RunFolder(tmp_path / "runs" / name)
        folder.path.mkdir(parents=True)
        folder.update_info(name=name, status="completed", created=1.0, config={"objective": objective})
        folder.emit("start", steps_per_epoch=1)
        folder.emit("epoch", epoch=1, logs={"loss": 3.1, "contrastive_accuracy": 0.2})
        folder.emit("end", status="completed")
        panel.show_run(str(folder.path))
        qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
        assert panel.backbone_button.isVisible() == (objective == "contrastive")
        assert ("contrastive" in panel.plots["grad"].plot_title) == (objective == "contrastive")


@pytest.mark.slow
def test_pretrain_from_the_train_area_then_use_the_encoder_as_backbone(window, qtbot, tmp_path):
    panel = train_panel(window, tmp_path, epochs=1, batch_size=32)
    doc = window.document
    choose_contrastive(panel, qtbot)
    qtbot.mouseClick(panel.start_button, Qt.MouseButton.LeftButton)
    assert not panel.start_button.isEnabled()
    qtbot.waitUntil(lambda: ended(panel), timeout=180_000)
    run = read_run(panel.watcher.path)
    assert run["status"] == "completed" and run["config"]["objective"] == "contrastive", run.get("error")
    panel.redraw(everything=True)
    assert points(panel.plots["loss"], "loss/epoch") == 1 and points(panel.plots["loss"], "loss/batch") >= 1
    assert panel.plots["metric"].plot_title == "Contrastive accuracy"
    assert panel.status.text() == "Completed" and not panel.error_banner.isVisible()

    assert panel.backbone_button.isVisible()
    qtbot.mouseClick(panel.backbone_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(backbone_layers(doc.graph)), timeout=60_000)
    assert doc.project.training["backbone"] == str(panel.watcher.path)
    assert doc.project.training["objective"] == "supervised" and panel.start_button.text() == "Start"
    assert doc.graph.by_name("backbone_conv1").params["trainable"] is False and doc.graph.by_name("head")
    doc.undo_stack.undo()  # graph and settings come back in one step
    assert not backbone_layers(doc.graph) and doc.project.training["objective"] == "contrastive"
