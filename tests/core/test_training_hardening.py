"""Training faults (issue 25): a diverged loss is warned about, a full disk is found before training
with a margin sized to the model and told truthfully, a backend that cannot start is refused before
a run folder exists, a read-only folder is named, a killed run shows how to resume, and an export
that falls back to a checkpoint says so."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from studio.cli import main
from studio.cli.train_cmds import Progress, end_text
from studio.core import backends, fileio
from studio.core.training import TrainingError, diskspace
from studio.core.training.divergence import DivergenceCheck
from studio.core.training.errors import DiskFull, describe_failure
from studio.core.training.runs import RunFolder


# -- divergence ---------------------------------------------------------------------------------------
def test_a_loss_far_above_its_start_is_warned_once():
    check = DivergenceCheck()
    check.see_first({"loss": 2.31, "accuracy": 0.1})
    check.see_first({"loss": 9e20})  # later batches do not move the start
    warning = check.check_epoch(1, {"loss": 3.3e21, "accuracy": 0.1, "val_loss": 5.0})
    assert warning.startswith("the loss diverged: 3.3e+21 at epoch 1, over 100 times its start (2.31)")
    assert warning.endswith(": lower the learning rate or add gradient clipping (clipnorm)") and "\n" not in warning
    assert check.check_epoch(2, {"loss": 1.1e6}) is None  # once a run


def test_a_healthy_or_noisy_run_gets_no_warning():
    check = DivergenceCheck()
    check.see_first({"loss": 2.3, "g_loss": 0.7, "d_loss": 0.69})
    for epoch, logs in enumerate([{"loss": 1.2, "g_loss": 3.0, "d_loss": 0.3},
                                  {"loss": 0.4, "g_loss": 9.0, "d_loss": 0.1},
                                  {"loss": 0.5, "g_loss": 6.0, "d_loss": 0.2, "val_loss": 900.0}], start=1):
        assert check.check_epoch(epoch, logs) is None
    tiny = DivergenceCheck()
    tiny.see_first({"loss": 1e-6})
    assert tiny.check_epoch(1, {"loss": 1e-4}) is None  # small losses compare from a floor


def test_a_loss_exploding_after_learning_is_warned():
    check = DivergenceCheck()
    check.see_first({"loss": 50.0})
    assert check.check_epoch(1, {"loss": 0.02}) is None
    assert check.check_epoch(2, {"loss": 40.0}).startswith("the loss exploded: 40 at epoch 2, up from 0.02")


def test_the_monitor_writes_a_divergence_warning_event(tmp_path):
    import keras

    from studio.core.training.callbacks import Monitor, RunState
    from studio.core.training.runs import read_events

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e6), "mse")
    monitor = Monitor(RunFolder(tmp_path), RunState(), 4, 2, 1, {}, throttle_s=0)
    monitor.set_model(model)
    for epoch, loss in enumerate([3.3e21, 1.1e6]):
        monitor.on_epoch_begin(epoch)
        monitor.on_train_batch_end(0, {"loss": 2.3 if epoch == 0 else loss})
        monitor.on_epoch_end(epoch, {"loss": loss})
    warnings = [event for event in read_events(tmp_path) if event["type"] == "warning"]
    assert [(w["kind"], w["epoch"]) for w in warnings] == [("divergence", 1)]
    assert warnings[0]["message"].startswith("the loss diverged: 3.3e+21 at epoch 1")


@pytest.mark.slow
def test_a_real_diverged_run_warns_in_its_events_and_the_cli(tmp_path):
    """Trained in this process by the engine a training process runs, its events shown as `studio train`
    shows them (`studio train` starting its process: test_same_seed_same_first_epoch_loss_and_cli)."""
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import read_events

    project = default_project()
    project.graph = load_template("mlp_one_hidden").graph
    project.dataset = {"source": "toy", "seed": 0}
    project.training = {**project.training, "optimizer": "adam", "learning_rate": 1e6, "epochs": 2,
                        "batch_size": 32, "seed": 0}
    assert train_run(prepare_run_folder(plan_run(project), tmp_path / "run")) == "completed"
    events = read_events(tmp_path / "run")
    warnings = [e for e in events if e["type"] == "warning"]
    assert [w["kind"] for w in warnings] == ["divergence"]
    stream = io.StringIO()
    progress = Progress(stream)
    for event in events:
        progress.show(event)
    assert "warning: epoch 1: the loss diverged" in stream.getvalue()
    assert end_text("completed", progress.warnings, "run") == "completed with 1 warning (see above): run"


def test_the_cli_prints_warnings_and_a_completed_run_that_warned_says_so():
    stream = io.StringIO()
    progress = Progress(stream)
    progress.show({"type": "warning", "kind": "divergence", "epoch": 1, "message": "the loss diverged: ..."})
    assert stream.getvalue() == "warning: epoch 1: the loss diverged: ...\n"
    assert end_text("completed", progress.warnings, "runs/a") == "completed with 1 warning (see above): runs/a"
    assert end_text("completed", 0, "runs/a") == "completed: runs/a"


def test_a_killed_run_shows_how_to_resume_it():
    assert end_text("killed", 0, "runs/my run") == "killed: runs/my run\ncontinue it with: studio train --resume 'runs/my run'"
    assert end_text("crashed", 0, "r").endswith("studio train --resume r")
    assert "--resume" not in end_text("stopped", 0, "r") + end_text("failed", 1, "r")


# -- full disk ----------------------------------------------------------------------------------------
def _free(monkeypatch, free: int) -> None:
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 0, free))


def test_the_margin_is_sized_to_the_model(tmp_path, monkeypatch):
    checkpoint = 450_000  # the 0.45 MB checkpoint of the issue
    _free(monkeypatch, 3 * 2**20)
    diskspace.ensure_free_space(tmp_path, checkpoint)  # the old fixed 16 MB margin refused this
    _free(monkeypatch, 2 * 2**20)
    with pytest.raises(DiskFull, match="needs about 2 MB, 2 MB free"):
        diskspace.ensure_free_space(tmp_path, checkpoint)
    assert diskspace.with_margin(400 * 2**20) == 500 * 2**20  # big models keep a quarter more


def test_a_full_disk_message_says_what_was_kept(tmp_path):
    run = RunFolder(tmp_path)
    error = DiskFull(tmp_path, 3 * 2**20, 2**20)
    kind, message = describe_failure(error, 32, diskspace.kept_files(run))
    assert kind == "disk_full" and "earlier checkpoints are intact" not in message
    assert message.endswith("free some space, then resume the run; no checkpoint was saved yet "
                            "(one is saved at the end of each epoch)")
    run.checkpoints.mkdir()
    run.last_checkpoint.write_bytes(b"x")
    assert describe_failure(error, 32, diskspace.kept_files(run))[1].endswith(
        "checkpoints/last.keras from the last saved epoch is intact")


@pytest.mark.slow
def test_a_disk_too_full_for_one_checkpoint_stops_the_run_before_its_first_epoch(tmp_path, monkeypatch):
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import read_events

    project = default_project()
    project.graph = load_template("mlp_one_hidden").graph
    project.dataset = {"source": "toy", "seed": 0}
    folder = prepare_run_folder(plan_run(project), tmp_path / "run")
    _free(monkeypatch, 2**20)
    assert train_run(folder) == "failed"
    events = read_events(folder.path)
    assert not [e for e in events if e["type"] in ("start", "batch", "epoch")]
    error = next(e for e in events if e["type"] == "error")
    assert error["kind"] == "disk_full" and error["message"].endswith("no checkpoint was saved yet "
                                                                       "(one is saved at the end of each epoch)")


# -- read-only folders ------------------------------------------------------------------------------
def test_a_read_only_file_system_is_not_called_permission_denied(tmp_path, monkeypatch):
    kind, message = describe_failure(OSError(errno.EROFS, "Read-only file system", str(tmp_path)), 8)
    assert kind == "unwritable" and "it is on a read-only file system" in message
    assert "permission denied" in describe_failure(OSError(errno.EACCES, "Permission denied", "x"), 8)[1]
    if not hasattr(os, "statvfs"):
        return
    monkeypatch.setattr(fileio.os, "access", lambda path, mode: False)
    read_only = os.statvfs_result((4096,) * 8 + (os.ST_RDONLY, 255))
    monkeypatch.setattr(fileio.os, "statvfs", lambda path: read_only)
    assert fileio.unwritable_reason(tmp_path) == "it is on a read-only file system"
    monkeypatch.setattr(fileio.os, "statvfs", lambda path: os.statvfs_result((4096,) * 8 + (0, 255)))
    assert fileio.unwritable_reason(tmp_path) == "permission denied"


# -- a backend that cannot start ----------------------------------------------------------------------
def test_a_backend_that_fails_to_import_is_refused_before_the_run_folder_exists(tmp_path, monkeypatch, capsys):
    fake = tmp_path / "site"
    (fake / "jax").mkdir(parents=True)
    (fake / "jax" / "__init__.py").write_text('raise ImportError("boom")\n')
    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(fake), root]))
    monkeypatch.syspath_prepend(str(fake))
    monkeypatch.delitem(sys.modules, "jax", raising=False)
    backends.forget_session_facts()
    run_dir = tmp_path / "runs" / "r1"
    killed = RunFolder(tmp_path / "runs" / "killed")  # a run of that backend, to resume
    killed.path.mkdir(parents=True)
    killed.update_info(name="killed", status="killed", backend="jax", config={})
    try:
        code = main(["train", "mlp_xor", "--data", "toy", "--backend", "jax", "--epochs", "1",
                     "--run-dir", str(run_dir)])
        resumed = main(["train", "--resume", str(killed.path)])
    finally:
        backends.forget_session_facts()
    err = capsys.readouterr().err
    assert code == 2 and not run_dir.exists()
    fix = "the JAX backend cannot start (ImportError: boom); fix: pip install --force-reinstall jax"
    assert err.count(fix) == 2 and resumed == 2 and killed.info()["status"] == "killed"


# -- export from a run without its final model ------------------------------------------------------
def test_export_of_a_run_without_model_keras_says_which_checkpoint_it_used(tmp_path, capsys):
    from export_helpers import make_run, small_cnn
    from studio.core.export import meta_path

    run = make_run(tmp_path / "run", small_cnn(), epochs=0)
    (run / "checkpoints").mkdir()
    (run / "model.keras").rename(run / "checkpoints" / "best.keras")
    out = tmp_path / "m.keras"
    assert main(["export", str(run), "--format", "keras", "-o", str(out)]) == 0
    warning = "the run has no final model.keras: exported checkpoints/best.keras instead"
    assert f"warning: {warning}" in capsys.readouterr().err
    meta = json.loads(meta_path(out).read_text())
    assert meta["source"]["model_file"] == "checkpoints/best.keras" and warning in meta["warnings"]
