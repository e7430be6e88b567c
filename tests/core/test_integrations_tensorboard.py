"""``studio runs export RUN... --tensorboard DIR``: read back with TensorBoard's own event reader."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from integration_helpers import EPOCHS, epoch_logs, make_logged_run

from studio.cli import main
from studio.core.integrations.errors import IntegrationError
from studio.core.integrations.tensorboard import export_tensorboard
from studio.core.training.runs import RunFolder

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                        reason="the tensorboard extra is not installed")

NORMS = [(3, {"conv2d": 0.5, "classes": 1.25}), (6, {"conv2d": 0.25, "classes": 0.75})]
HISTOGRAM = [[1, 4, 2], [-0.5, -0.1, 0.2, 0.6]]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from studio.core.inspect.render import save_png

    folder = RunFolder(make_logged_run(tmp_path_factory.mktemp("runs") / "run-a"))
    for step, norms in NORMS:
        folder.emit("grad_norms", epoch=1, step=step, global_step=step, norms=norms)
    folder.emit("weights_hist", epoch=2, layers={"classes": {"weights": HISTOGRAM, "grads": [[], []]}})
    (folder.path / "samples").mkdir()
    save_png(folder.path / "samples" / "epoch_002.png", np.full((12, 16, 3), 90, "uint8"))
    folder.emit("samples", epoch=2, path="samples/epoch_002.png", kind="generated")
    return folder.path


def read(folder):
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance={
        event_accumulator.SCALARS: 0, event_accumulator.HISTOGRAMS: 0, event_accumulator.IMAGES: 0})
    return accumulator.Reload()


def test_the_event_files_hold_our_values(tmp_path, run_dir):
    assert export_tensorboard([run_dir], tmp_path / "tb") == [tmp_path / "tb" / "run-a"]
    train, validation = read(tmp_path / "tb" / "run-a" / "train"), read(tmp_path / "tb" / "run-a" / "validation")
    for reader, prefix in ((train, ""), (validation, "val_")):
        for metric in ("loss", "accuracy"):
            points = reader.Scalars(f"epoch_{metric}")
            assert [p.step for p in points] == list(range(1, EPOCHS + 1))  # the partial epoch is left out
            expected = [epoch_logs(epoch)[prefix + metric] for epoch in range(1, EPOCHS + 1)]
            assert [p.value for p in points] == pytest.approx(expected, rel=1e-6)
    assert [p.value for p in train.Scalars("epoch_learning_rate")] == pytest.approx(
        [0.01 / epoch for epoch in range(1, EPOCHS + 1)], rel=1e-6)
    assert "epoch_learning_rate" not in validation.Tags()["scalars"]
    for layer in ("conv2d", "classes"):
        points = train.Scalars(f"gradient_norm/{layer}")
        assert [(p.step, p.value) for p in points] == [(step, norms[layer]) for step, norms in NORMS]
    (weights,) = train.Histograms("weights/classes")
    assert weights.step == 2 and list(weights.histogram_value.bucket) == [0, *HISTOGRAM[0]]
    assert list(weights.histogram_value.bucket_limit) == pytest.approx(HISTOGRAM[1])
    assert weights.histogram_value.num == 7 and "gradients/classes" not in train.Tags()["histograms"]
    (image,) = train.Images("samples/generated")
    assert (image.step, image.width, image.height) == (2, 16, 12)
    assert image.encoded_image_string == (run_dir / "samples" / "epoch_002.png").read_bytes()


def test_exporting_again_replaces_the_runs_files(tmp_path, run_dir):
    export_tensorboard([run_dir], tmp_path / "tb")
    export_tensorboard([run_dir], tmp_path / "tb")
    assert len(list((tmp_path / "tb" / "run-a" / "train").iterdir())) == 1
    assert len(read(tmp_path / "tb" / "run-a" / "train").Scalars("epoch_loss")) == EPOCHS


def test_the_cli_exports_several_runs_and_refuses_bad_input(tmp_path, run_dir, capsys):
    other = tmp_path / "run-b"
    shutil.copytree(run_dir, other)
    assert main(["runs", "export", str(run_dir), str(other), "--tensorboard", str(tmp_path / "tb")]) == 0
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == ["run-a", "run-b"]
    assert "tensorboard --logdir" in capsys.readouterr().out
    assert main(["runs", "export", str(run_dir)]) == 2
    assert "usage: studio runs export" in capsys.readouterr().err
    assert main(["runs", "export", str(tmp_path / "none"), "--tensorboard", str(tmp_path / "tb")]) == 2
    assert "is not a run folder" in capsys.readouterr().err


def test_a_missing_tensorboard_says_what_to_install(tmp_path, run_dir, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "tensorboard.summary.writer.event_file_writer", None)
    with pytest.raises(IntegrationError, match=r"pip install \"dl-studio\[tensorboard\]\""):
        export_tensorboard([run_dir], tmp_path / "tb")
