"""The engine's callbacks in-process on a tiny model: NaN keeps the last good checkpoint, a full
disk leaves the previous checkpoint intact, gradient norms do not touch the model's state."""

import errno
import json

import numpy as np
import pytest

from studio.core.training.callbacks import Backup, Checkpoints, GradientProbe, Monitor, RunState
from studio.core.training.diskspace import kept_files
from studio.core.training.errors import describe_failure
from studio.core.training.runs import RunFolder, read_events


def _model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.BatchNormalization(name="norm")(keras.layers.Dense(8, name="hidden")(inputs))
    outputs = keras.layers.Dense(3, activation="softmax", name="out")(hidden)
    model = keras.Model(inputs, outputs)
    loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile("sgd", loss, jit_compile=False)
    return model, loss


def _batches(x, y, batch=4):
    import tensorflow as tf

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch)


@pytest.mark.slow
def test_nan_in_epoch_two_keeps_epoch_one_checkpoints(tmp_path):
    model, _ = _model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, 32)
    x[20] = np.nan  # step 2 of epoch 2 (16 samples per epoch, batches of 4)
    folder = RunFolder(tmp_path)
    state, history = RunState(), {}
    callbacks = [Monitor(folder, state, 4, 2, 4, history), Checkpoints(folder, state, "loss"),
                 Backup(folder, state, 4)]
    model.fit(_batches(x, y), epochs=2, steps_per_epoch=4, callbacks=callbacks, shuffle=False, verbose=0)

    assert state.failure[0] == "nan" and "epoch 2, step " in state.failure[1]  # seen at the next check
    assert [event["epoch"] for event in read_events(tmp_path) if event["type"] == "epoch"] == [1]
    assert sorted(history) == [1]
    import keras

    last = keras.models.load_model(folder.last_checkpoint, safe_mode=True, compile=False)
    assert all(np.isfinite(w).all() for w in last.get_weights())
    assert folder.best_checkpoint.is_file() and folder.info()["best"]["epoch"] == 1
    assert json.loads((folder.backup_dir / "training_metadata.json").read_text())["epoch"] == 1


def test_full_disk_leaves_the_previous_checkpoint_intact(tmp_path, monkeypatch):
    import keras

    model, _ = _model()
    folder = RunFolder(tmp_path)
    checkpoints = Checkpoints(folder, RunState(), "loss")
    checkpoints.set_model(model)
    checkpoints.on_epoch_end(0, {"loss": 1.0})
    saved = folder.last_checkpoint.read_bytes()

    def full_disk(self, path, *args, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"half a zip")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(keras.Model, "save", full_disk)
    with pytest.raises(OSError) as info:
        checkpoints.on_epoch_end(1, {"loss": 0.5})
    assert folder.last_checkpoint.read_bytes() == saved
    assert sorted(p.name for p in folder.checkpoints.iterdir()) == ["best.keras", "last.keras"]
    kind, message = describe_failure(info.value, 32, kept_files(folder))
    assert kind == "disk_full" and "checkpoints/last.keras from the last saved epoch is intact" in message


def test_gradient_norms_leave_weights_and_statistics_alone(tmp_path):
    model, loss = _model()
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.integers(0, 3, 8)
    folder, state = RunFolder(tmp_path), RunState(global_step=2)
    probe = GradientProbe(folder, state, loss, _batches(x, y).repeat(), every=3)
    probe.set_model(model)
    probe.on_train_begin()
    probe.on_epoch_begin(0)
    before = [np.array(w) for w in model.get_weights()]
    state.global_step = 3  # as Monitor counts the step before the probe sees it
    probe.on_train_batch_end(2)
    probe.on_epoch_end(0)
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    norms = next(e for e in read_events(tmp_path) if e["type"] == "grad_norms")["norms"]
    assert set(norms) == {"hidden", "norm", "out"} and norms["out"] > 0
    hist = next(e for e in read_events(tmp_path) if e["type"] == "weights_hist")["layers"]
    assert sum(hist["hidden"]["weights"][0]) == 4 * 8 + 8


def test_optimizers_schedules_and_metrics():
    import keras

    from studio.core.training.build import make_learning_rate, make_metrics, make_optimizer, wants_one_hot
    from studio.core.training.config import OPTIMIZERS, TrainingConfig

    for name in OPTIMIZERS:
        optimizer = make_optimizer(TrainingConfig(optimizer=name, clipnorm=1.0, weight_decay=1e-4), 10)
        assert optimizer.clipnorm == 1.0
    assert make_optimizer(TrainingConfig(optimizer="nesterov"), 10).nesterov

    def rate(schedule, step):
        return float(schedule(step))

    step = make_learning_rate(TrainingConfig(schedule="step", decay_epochs=2, decay_rate=0.5), 10)
    assert rate(step, 19) == pytest.approx(1e-3) and rate(step, 20) == pytest.approx(5e-4)
    warmup = make_learning_rate(TrainingConfig(schedule="warmup", warmup_epochs=1, epochs=4), 10)
    assert rate(warmup, 0) == pytest.approx(0.0) and rate(warmup, 10) == pytest.approx(1e-3)
    assert rate(warmup, 39) < 1e-4
    cosine = make_learning_rate(TrainingConfig(schedule="cosine", epochs=2, min_learning_rate=1e-4), 10)
    assert rate(cosine, 20) == pytest.approx(1e-4)
    assert make_learning_rate(TrainingConfig(schedule="reduce_on_plateau"), 10) == 1e-3

    metrics, notes = make_metrics(TrainingConfig(metrics=["accuracy", "mae"]), "regression", "mse", 0, False)
    assert metrics == ["mae"] and "accuracy" in notes[0]
    metrics, notes = make_metrics(TrainingConfig(metrics=["auc", "top_k"], top_k=5), "binary",
                                  "binary_crossentropy", 2, False)
    assert isinstance(metrics[0], keras.metrics.AUC) and "top_k" in notes[0]
    config = TrainingConfig(metrics=["accuracy", "precision", "recall"])
    assert wants_one_hot(config, "classification", "sparse_categorical_crossentropy")
    assert not wants_one_hot(TrainingConfig(), "classification", "sparse_categorical_crossentropy")
    metrics, notes = make_metrics(config, "classification", "categorical_crossentropy", 10, False)
    assert isinstance(metrics[1], keras.metrics.Precision) and notes == []
    metrics, notes = make_metrics(config, "classification", "categorical_crossentropy", 10, True)
    assert metrics == ["accuracy"] and "on logits" in notes[0]


def test_any_named_loss_going_nan_stops_the_run(tmp_path):
    model, _ = _model()
    folder = RunFolder(tmp_path)
    state = RunState()
    monitor = Monitor(folder, state, 4, 2, 4, {}, throttle_s=0)  # check at every batch
    monitor.set_model(model)
    monitor.on_epoch_begin(0)
    monitor.on_train_batch_end(0, {"d_loss": 0.7, "g_loss": 0.9})  # a GAN logs no plain "loss"
    assert state.failure is None
    monitor.on_train_batch_end(1, {"d_loss": 0.7, "g_loss": float("nan")})
    assert state.failure[0] == "nan" and "g_loss became NaN by epoch 1, step 2" in state.failure[1]
    assert model.stop_training


def test_embedding_sparse_gradients_give_numeric_norms_and_histograms(tmp_path):
    """An Embedding's gradient is IndexedSlices: the probe densifies it (repeated tokens add up)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((5,), dtype="int32")
    pooled = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(20, 4, name="embed")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="out")(pooled))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("sgd", loss, jit_compile=False)
    x = np.array([[1, 1, 1, 2, 0]] * 4 + [[3, 4, 5, 6, 7]] * 4, dtype="int32")
    y = np.array([0] * 4 + [1] * 4)
    folder, state = RunFolder(tmp_path), RunState()
    callbacks = [Monitor(folder, state, 4, 1, 2, {}),
                 GradientProbe(folder, state, loss, _batches(x, y, 8).repeat(), every=1)]
    model.fit(_batches(x, y), epochs=1, steps_per_epoch=2, callbacks=callbacks, shuffle=False, verbose=0)

    norms = [e for e in read_events(tmp_path) if e["type"] == "grad_norms"][-1]["norms"]
    probe = callbacks[1]
    dense = probe._gradients()[0]
    assert dense.shape == (20, 4) and dense.dtype == np.float32
    assert norms["embed"] == pytest.approx(float(np.linalg.norm(dense)), rel=1e-5) and norms["embed"] > 0
    assert not dense[8:].any()  # tokens never seen get no gradient
    hist = next(e for e in read_events(tmp_path) if e["type"] == "weights_hist")["layers"]
    assert sum(hist["embed"]["grads"][0]) == 20 * 4


def test_engine_callbacks_leave_batch_logs_on_the_device_for_our_hooks():
    """Our hooks read a batch's logs only when they report (a host sync); Keras callbacks still
    get floats; hooks left as they are keep Keras' off-thread batch-end dispatch."""
    import keras

    from studio.core.training.callbacks import Hooks, engine_callbacks

    model, _ = _model()
    seen = {}

    class Ours(Hooks):
        def on_train_batch_end(self, batch, logs=None):
            seen["ours"] = logs["loss"]

    class Theirs(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen["theirs"] = logs["loss"]

    x, y = np.ones((8, 4), "float32"), np.zeros(8, "int64")
    callbacks = engine_callbacks([Ours(), Theirs()], model, epochs=1, steps=2)
    history = model.fit(x, y, batch_size=4, epochs=1, callbacks=callbacks, verbose=0)
    assert not isinstance(seen["ours"], float) and isinstance(seen["theirs"], float)
    assert float(seen["ours"]) == pytest.approx(seen["theirs"])
    assert history.history["loss"]  # fit's History is part of the list
    # Keras' "default" marker on the hooks we leave alone
    assert getattr(Ours().on_test_batch_end, "_is_default", False)
    assert not getattr(Ours().on_train_batch_end, "_is_default", False)


def test_hooks_count_every_step_when_keras_runs_several_per_call(tmp_path):
    from studio.core.training.callbacks import engine_callbacks

    model, loss = _model()
    model.compile("sgd", loss, jit_compile=False, steps_per_execution=2)  # norms every 3: at 4, 6, 8
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)).astype("float32"), rng.integers(0, 3, 16)
    folder, state = RunFolder(tmp_path), RunState()
    probe = GradientProbe(folder, state, loss, [(x[:4], y[:4])], every=3, with_histograms=False)
    callbacks = [Monitor(folder, state, 4, 2, 4, {}, throttle_s=0.0), probe]
    model.fit(_batches(x, y).repeat(), epochs=2, steps_per_epoch=4, verbose=0,
              callbacks=engine_callbacks(callbacks, model, 2, 4))
    events = read_events(tmp_path)
    assert state.global_step == 8
    assert [e["step"] for e in events if e["type"] == "batch"] == [2, 4, 2, 4]
    assert [e["global_step"] for e in events if e["type"] == "grad_norms"] == [4, 6]
