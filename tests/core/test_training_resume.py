"""Resume without training: changed settings applied or refused, the atomic step-exact backup,
a full disk while backing up, and what a silent death is called."""

import errno
import json

import numpy as np
import pytest

from studio.core.project import default_project, save_project
from studio.core.training import RunFolder, TrainingError
from studio.core.training import diskspace
from studio.core.training.backup import BackupState, read_backup, restore_backup, write_backup
from studio.core.training.callbacks import Backup, Checkpoints, Monitor, RunState
from studio.core.training.errors import describe_failure
from studio.core.training.resume import apply_changes, reopen_for_resume, setting_changes
from studio.core.training.runs import read_events, send_control


def _model(learning_rate=0.01):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(keras.layers.Dense(8)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", jit_compile=False)
    return model


def _data(n=32):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    return tf.data.Dataset.from_tensor_slices(
        (rng.normal(size=(n, 4)).astype("float32"), rng.integers(0, 3, n))).batch(4).repeat()


def _stopped_run(tmp_path, **config):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    save_project(default_project(), folder.project_file)
    folder.update_info(status="stopped", config={"learning_rate": 0.01, "epochs": 4, **config}, resumes=0)
    return folder


def test_safe_changes_are_applied_and_recorded(tmp_path):
    folder = _stopped_run(tmp_path)
    reopen_for_resume(folder.path, {"learning_rate": 1e6, "epochs": 6, "devices": "cpu"})
    info = folder.info()
    assert info["resume_changes"] == {"learning_rate": [0.01, 1e6], "epochs": [4, 6], "devices": ["auto", "cpu"]}
    assert info["config"]["learning_rate"] == 1e6 and info["resumes"] == 1

    model = _model(learning_rate=0.01)  # as restored from the backup: the old rate
    notes = apply_changes(model, folder_config(info), info["resume_changes"])
    assert float(model.optimizer.learning_rate) == pytest.approx(1e6)
    assert "resumed with learning_rate 0.01 -> 1000000.0" in notes


def folder_config(info):
    from studio.core.training import TrainingConfig

    return TrainingConfig.from_dict(info["config"])


def test_changes_that_make_another_training_are_refused_by_name(tmp_path):
    folder = _stopped_run(tmp_path)
    before = folder.run_json.read_text()
    with pytest.raises(TrainingError) as info:
        reopen_for_resume(folder.path, {"optimizer": "sgd", "batch_size": 64, "learning_rate": 0.1})
    message = str(info.value)
    assert "optimizer 'adam' -> 'sgd'" in message and "batch_size 32 -> 64" in message
    assert "learning_rate" not in message and "\n" not in message
    assert folder.run_json.read_text() == before  # nothing changed
    assert set(setting_changes({"learning_rate": 0.01}, {"learning_rate": 0.01})) == set()


def test_fewer_epochs_than_already_trained_are_refused(tmp_path):
    folder = _stopped_run(tmp_path)
    write_backup(folder, _model(), BackupState(epoch=3, step=0, global_step=24))
    with pytest.raises(TrainingError, match="epochs 3 is not above the 3 epochs"):
        reopen_for_resume(folder.path, {"epochs": 3})
    reopen_for_resume(folder.path, {"epochs": 5})


def test_backup_round_trip_replaces_old_states_and_temp_files(tmp_path):
    folder = RunFolder(tmp_path)
    model = _model()
    model.fit(_data(), steps_per_epoch=3, shuffle=False, verbose=0)
    write_backup(folder, model, BackupState(epoch=1, step=2, global_step=10))
    (folder.backup_dir / ".state-1.abc.weights.h5").write_bytes(b"left by a killed save")
    expected = [w.copy() for w in model.get_weights()]
    model.fit(_data(), steps_per_epoch=2, shuffle=False, verbose=0)
    write_backup(folder, model, BackupState(epoch=1, step=4, global_step=12))
    saved = read_backup(folder)
    assert (saved.epoch, saved.step, saved.global_step) == (1, 4, 12)
    assert sorted(p.name for p in folder.backup_dir.iterdir()) == sorted([saved.weights, "training_metadata.json"])

    fresh = _model(learning_rate=0.5)
    restore_backup(folder, fresh, saved)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), model.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(fresh.get_weights(), expected))
    assert int(fresh.optimizer.iterations) == 5 and float(fresh.optimizer.learning_rate) == pytest.approx(0.01)


def test_full_disk_while_backing_up_keeps_the_previous_backup(tmp_path, monkeypatch):
    import keras

    folder = RunFolder(tmp_path)
    model = _model()
    write_backup(folder, model, BackupState(epoch=1, global_step=8))
    before = read_backup(folder)
    files = sorted(folder.backup_dir.iterdir())

    # The free-space check refuses before writing anything.
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda path: type("U", (), {"free": 1 << 20})())
    with pytest.raises(OSError) as info:
        write_backup(folder, model, BackupState(epoch=2, global_step=16))
    kind, message = describe_failure(info.value, 32)
    assert kind == "disk_full" and "needs about" in message and "1 MB free" in message
    assert read_backup(folder) == before and sorted(folder.backup_dir.iterdir()) == files
    checkpoints = Checkpoints(folder, RunState(), "loss")  # checkpoints are checked the same way
    checkpoints.set_model(model)
    with pytest.raises(OSError, match="needs about"):
        checkpoints.on_epoch_end(0, {"loss": 1.0})
    assert not folder.last_checkpoint.exists()
    monkeypatch.undo()

    # A write that fails with ENOSPC anyway (the check cannot see other writers).
    def full_disk(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half an h5")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(keras.Model, "save_weights", full_disk)
    with pytest.raises(OSError) as info:
        write_backup(folder, model, BackupState(epoch=2, global_step=16))
    assert describe_failure(info.value, 32)[0] == "disk_full"
    assert read_backup(folder) == before and sorted(folder.backup_dir.iterdir()) == files
    restore_backup(folder, _model(), before)  # still loadable


@pytest.mark.slow
def test_backups_every_n_steps_and_where_a_stop_ends_the_epoch(tmp_path):
    folder = RunFolder(tmp_path)
    state = RunState()
    seen = []

    class Spy:  # reads the committed backup after each batch (after Backup's hook)
        def __getattr__(self, name):
            return lambda *args, **kwargs: None

        def on_train_batch_end(self, batch, logs=None):
            seen.append(json.loads((folder.backup_dir / "training_metadata.json").read_text())["global_step"]
                        if folder.backup_dir.exists() else None)

    callbacks = [Monitor(folder, state, 4, 2, 8, {}), Backup(folder, state, 8, every_steps=3), Spy()]
    model = _model()
    model.fit(_data(), epochs=2, steps_per_epoch=8, callbacks=callbacks, shuffle=False, verbose=0)
    assert seen[:8] == [None, None, 3, 3, 3, 6, 6, 6]  # step 8 is left to the epoch end
    assert seen[8:11] == [8, 8, 11]
    assert read_backup(folder) == BackupState(2, 0, 16, read_backup(folder).weights)

    stopped = RunFolder(tmp_path / "stopped")
    stopped.path.mkdir()
    state = RunState()
    send_control(stopped.path, "stop")  # read at the first batch end: stop at epoch 1, step 1
    callbacks = [Monitor(stopped, state, 4, 2, 8, {}), Backup(stopped, state, 8)]
    _model().fit(_data(), epochs=2, steps_per_epoch=8, callbacks=callbacks, shuffle=False, verbose=0)
    epoch = [event for event in read_events(stopped.path) if event["type"] == "epoch"]
    assert [(event["epoch"], event.get("partial")) for event in epoch] == [(1, True)]
    saved = read_backup(stopped)
    assert (saved.epoch, saved.step, saved.global_step) == (0, 1, 1)  # resume at epoch 1, step 2


def test_nan_in_the_first_epoch_says_no_checkpoint_exists(tmp_path):
    import tensorflow as tf

    folder = RunFolder(tmp_path)
    state = RunState()
    x = np.ones((32, 4), "float32")
    x[9] = np.nan  # step 3 (batches of 4)
    data = tf.data.Dataset.from_tensor_slices((x, np.zeros(32, "int64"))).batch(4)
    callbacks = [Monitor(folder, state, 4, 1, 8, {}, throttle_s=0), Backup(folder, state, 8, every_steps=1)]
    _model().fit(data, epochs=1, steps_per_epoch=8, callbacks=callbacks, shuffle=False, verbose=0)
    kind, message = state.failure
    assert kind == "nan" and "epoch 1, step 3" in message
    assert "no checkpoint was saved yet" in message and "is kept" not in message
    assert read_backup(folder).global_step == 2  # the backup stops at the last good step


def test_a_silent_death_on_a_full_disk_is_called_disk_full(tmp_path, monkeypatch):
    folder = RunFolder(tmp_path)
    folder.backup_dir.mkdir()
    (folder.backup_dir / "state.weights.h5").write_bytes(b"x" * 1000)
    assert diskspace.crash_cause(tmp_path, -11)[0] == "crash"
    monkeypatch.setattr(diskspace.shutil, "disk_usage", lambda path: type("U", (), {"free": 4096})())
    kind, message = diskspace.crash_cause(tmp_path, -11)
    assert kind == "disk_full" and "exit code -11" in message and "free some space" in message


def test_a_backup_never_keeps_weights_a_nan_has_reached(tmp_path):
    """Batch logs are read by time (no per-batch device sync): a backup due meanwhile checks them."""
    import tensorflow as tf

    folder, state = RunFolder(tmp_path), RunState()
    x = np.ones((32, 4), "float32")
    x[9] = np.nan  # step 3 (batches of 4)
    data = tf.data.Dataset.from_tensor_slices((x, np.zeros(32, "int64"))).batch(4)
    callbacks = [Monitor(folder, state, 4, 1, 8, {}, throttle_s=3600), Backup(folder, state, 8, every_steps=1)]
    _model().fit(data, epochs=1, steps_per_epoch=8, callbacks=callbacks, shuffle=False, verbose=0)
    assert state.failure[0] == "nan" and "by epoch 1, step" in state.failure[1]
    assert read_backup(folder).global_step == 2
