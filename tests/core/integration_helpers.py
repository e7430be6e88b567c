"""A trained run folder with real per-epoch events, for the report and TensorBoard tests."""

from __future__ import annotations

from pathlib import Path

from export_helpers import make_run, small_cnn

from studio.core.training.runs import RunFolder

EPOCHS = 4


def epoch_logs(epoch: int) -> dict:
    return {"loss": 2.0 / epoch, "val_loss": 2.2 / epoch, "accuracy": 0.5 + epoch / 20,
            "val_accuracy": 0.45 + epoch / 20}


def make_logged_run(run_dir: Path) -> Path:
    """A small CNN trained on 8x8 digits whose events hold EPOCHS epochs of logs and learning rates."""
    folder = RunFolder(make_run(run_dir, small_cnn(), epochs=2))
    folder.events_file.write_text("", encoding="utf-8")
    for epoch in range(1, EPOCHS + 1):
        folder.emit("epoch", epoch=epoch, logs=epoch_logs(epoch), lr=0.01 / epoch)
    folder.emit("epoch", epoch=EPOCHS + 1, logs={"loss": 9.0}, partial=True)  # a stop mid-epoch: left out
    return folder.path
