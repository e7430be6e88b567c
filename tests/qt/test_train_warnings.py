"""The Train panel shows a run's divergence warning (issue 25) where it shows run notes."""


def test_a_diverged_run_shows_its_warning_in_the_train_panel(window, qtbot, tmp_path):
    from studio.core.training import RunFolder

    folder = RunFolder(tmp_path / "runs" / "diverged")
    folder.path.mkdir(parents=True)
    folder.update_info(name="diverged", status="completed", created=1.0)
    folder.emit("start", steps_per_epoch=1)
    folder.emit("epoch", epoch=1, logs={"loss": 3.3e21, "accuracy": 0.1})
    folder.emit("warning", kind="divergence", epoch=1,
                message="the loss diverged: 3.3e+21 at epoch 1, over 100 times its start (2.31)")
    folder.emit("end", status="completed")
    panel = window.area_widget("Train")
    panel.show_run(str(folder.path))
    qtbot.waitUntil(lambda: panel.watcher.ended, timeout=5000)
    panel.redraw(everything=True)
    assert "epoch 1: the loss diverged: 3.3e+21" in panel.notes.text() and not panel.notes.isHidden()
