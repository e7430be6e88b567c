"""Callbacks of the training process: events, control (pause/stop), NaN guard, checkpoints,
backups for resume, and per-layer gradient norms / histograms.

They follow the Keras callback protocol without subclassing ``keras.callbacks.Callback`` so this
module imports without Keras (the package rule); Keras calls only the hooks defined on ``Hooks``.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core import fileio
from studio.core.training.runs import RunFolder, read_control

HISTOGRAM_BINS = 30
PROBE_BATCHES = 4


@dataclass
class RunState:
    """Shared between the callbacks and the engine: step count, failure, why training stopped."""

    global_step: int = 0
    failure: tuple[str, str] | None = None  # (kind, message)
    stop_reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None


class Hooks:
    """The Keras callback protocol with every hook doing nothing."""

    model: Any = None
    params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params) -> None:
        self.params = params

    def _noop(self, *args, **kwargs) -> None:
        return None

    on_train_begin = on_train_end = on_epoch_begin = on_epoch_end = _noop
    on_train_batch_begin = on_train_batch_end = on_batch_begin = on_batch_end = _noop
    on_test_begin = on_test_end = on_test_batch_begin = on_test_batch_end = _noop
    on_predict_begin = on_predict_end = on_predict_batch_begin = on_predict_batch_end = _noop


def current_lr(model) -> float:
    """The optimizer's learning rate right now (schedules evaluated at the current step)."""
    return float(np.asarray(model.optimizer.learning_rate))


class Monitor(Hooks):
    """Writes batch and epoch events, obeys the control file, stops at the first NaN/Inf loss."""

    def __init__(self, folder: RunFolder, state: RunState, batch_size: int, epochs: int,
                 steps_per_epoch: int, history: dict[int, dict], throttle_s: float = 0.25) -> None:
        self.folder, self.state, self.history = folder, state, history
        self.batch_size, self.epochs, self.steps = batch_size, epochs, steps_per_epoch
        self.throttle_s = throttle_s
        self._control_mtime = None
        self.epoch = self.step = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.step = epoch + 1, 0
        self._epoch_start = time.perf_counter()
        self._last_emit = -math.inf  # the first batch of an epoch is always reported
        self._paused = 0.0

    def on_train_batch_end(self, batch, logs=None):
        self.step = batch + 1
        self.state.global_step += 1
        # Every loss counts: a GAN logs d_loss and g_loss but no plain "loss".
        bad = next(((k, v) for k, v in (logs or {}).items()
                    if k.endswith("loss") and v is not None and not math.isfinite(v)), None)
        if bad:
            self._fail_nan(*bad)
            return
        self._obey_control()
        now = time.perf_counter()
        if now - self._last_emit >= self.throttle_s or self.step == self.steps:
            self._last_emit = now
            busy = max(now - self._epoch_start - self._paused, 1e-9)
            left = (self.epochs - self.epoch) * self.steps + (self.steps - self.step)
            self.folder.emit("batch", epoch=self.epoch, step=self.step, steps=self.steps,
                             logs=dict(logs or {}), lr=current_lr(self.model),
                             samples_per_s=self.step * self.batch_size / busy,
                             eta_s=left * busy / self.step)

    def _fail_nan(self, name: str, loss: float) -> None:
        what = "NaN" if math.isnan(loss) else "infinite"
        message = (f"the {name} became {what} at epoch {self.epoch}, step {self.step}: lower the "
                   "learning rate or add gradient clipping; the last good checkpoint is kept")
        self.state.failure = ("nan", message)
        self.folder.emit("error", kind="nan", message=message, epoch=self.epoch, step=self.step)
        self.model.stop_training = True

    def _obey_control(self) -> None:
        try:
            mtime = os.stat(self.folder.control_file).st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._control_mtime:
            return
        self._control_mtime = mtime
        command = read_control(self.folder.path)
        if command == "pause":
            paused_at = time.perf_counter()
            self.folder.emit("pause", epoch=self.epoch, step=self.step)
            while command == "pause":
                time.sleep(0.05)
                command = read_control(self.folder.path)
            self._paused += time.perf_counter() - paused_at
            self._control_mtime = os.stat(self.folder.control_file).st_mtime_ns
            self.folder.emit("resume", epoch=self.epoch, step=self.step)
        if command == "stop" and not self.state.stop_reason:
            self.state.stop_reason = "user"
            self.folder.emit("stop", reason="user", epoch=self.epoch, step=self.step)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.state.failed:
            return
        logs = {key: float(value) for key, value in (logs or {}).items()}
        fields = {"partial": True} if self.step < self.steps else {}
        self.folder.emit("epoch", epoch=epoch + 1, logs=logs, lr=current_lr(self.model),
                         duration_s=time.perf_counter() - self._epoch_start, **fields)
        self.history[epoch + 1] = logs
        write_history(self.folder, self.history)


def write_history(folder: RunFolder, history: dict[int, dict]) -> None:
    """history.json: ``{"epoch": [1, 2, ...], "loss": [...], "val_loss": [...], ...}``."""
    epochs = sorted(history)
    keys = sorted({key for logs in history.values() for key in logs})
    data = {"epoch": epochs, **{key: [history[e].get(key) for e in epochs] for key in keys}}
    fileio.atomic_write_json(folder.history_file, data)


def better_is_higher(monitor: str) -> bool:
    """Whether a larger value of ``monitor`` is better (accuracy-like) or worse (loss-like)."""
    return any(word in monitor for word in ("acc", "auc", "precision", "recall"))


class Checkpoints(Hooks):
    """Saves checkpoints/last.keras every epoch and best.keras when ``monitor`` improves.

    Writes are atomic: a failing write (disk full) leaves the previous checkpoint as it was. The
    best checkpoint is a copy (hard link where possible) of the epoch's last one: one save per epoch.
    """

    def __init__(self, folder: RunFolder, state: RunState, monitor: str) -> None:
        self.folder, self.state, self.monitor = folder, state, monitor
        self.best = folder.info().get("best")

    def on_epoch_end(self, epoch, logs=None):
        if self.state.failed:
            return
        logs = logs or {}
        self.folder.checkpoints.mkdir(exist_ok=True)
        fileio.atomic_replace_with(self.folder.last_checkpoint, self.model.save)
        monitor = self.monitor if self.monitor in logs else ("val_loss" if "val_loss" in logs else "loss")
        value = logs.get(monitor)
        if value is None or not math.isfinite(value):
            return
        if self.best and self.best["monitor"] == monitor:
            previous = self.best["value"]
            if (value <= previous) if better_is_higher(monitor) else (value >= previous):
                return
        fileio.atomic_copy(self.folder.last_checkpoint, self.folder.best_checkpoint)
        self.best = {"epoch": epoch + 1, "monitor": monitor, "value": float(value)}
        self.folder.update_info(best=self.best)


class Backup(Hooks):
    """Keras ``BackupAndRestore`` for resume, with atomic saves and no save after a failure.

    Restoring (weights, optimizer state, epoch) is Keras' own; saving writes the same two files
    atomically, so a kill during a save leaves the previous backup usable.
    """

    def __init__(self, folder: RunFolder, state: RunState) -> None:
        import keras

        self.state = state
        self.keras = keras.callbacks.BackupAndRestore(str(folder.backup_dir), delete_checkpoint=False)

    def set_model(self, model) -> None:
        super().set_model(model)
        self.keras.set_model(model)

    def on_train_begin(self, logs=None):
        self.keras.on_train_begin(logs)

    def on_epoch_end(self, epoch, logs=None):
        if self.state.failed:
            return
        os.makedirs(self.keras.backup_dir, exist_ok=True)
        fileio.atomic_replace_with(self.keras._weights_path, self.model.save_weights)
        fileio.atomic_write_json(self.keras._training_metadata_path, {"epoch": epoch + 1, "batch": 0})


class GradientProbe(Hooks):
    """Per-layer gradient norms every ``every`` steps and weight/gradient histograms per epoch.

    Gradients are computed on a separate batch of training data with a stateless call (no
    batch-norm statistics change), outside the compiled train step, so training keeps its speed.
    """

    def __init__(self, folder: RunFolder, state: RunState, loss_fn, probe, every: int,
                 with_histograms: bool = True) -> None:
        """``probe`` is a tf.data stream of ``(x, y)`` training batches; norms cycle through its
        first ``PROBE_BATCHES`` so successive values compare like with like."""
        self.folder, self.state, self.loss_fn, self.probe = folder, state, loss_fn, probe
        self.every, self.with_histograms = every, with_histograms
        self._batches = None
        self._grads_fn = None

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        model, loss_fn = self.model, self.loss_fn
        variables = model.trainable_variables
        self._variable_count = len(variables)
        self.layers: dict[str, list[int]] = {}
        for index, variable in enumerate(variables):
            self.layers.setdefault(variable.path.rsplit("/", 1)[0], []).append(index)

        @tf.function(reduce_retracing=True)
        def gradients(x, y):
            trainable = [v.value for v in variables]
            frozen = [v.value for v in model.non_trainable_variables]
            with tf.GradientTape() as tape:
                tape.watch(trainable)
                y_pred, _ = model.stateless_call(trainable, frozen, x, training=True)
                loss = loss_fn(y, y_pred)
            return tape.gradient(loss, trainable)

        self._grads_fn = gradients

    def _gradients(self) -> list[Any]:
        if len(self.model.trainable_variables) != self._variable_count:  # layers were (un)frozen mid-run
            self.on_train_begin()
        if self._batches is None:
            # A few batches held in memory: no second input pipeline running beside training's.
            self._batches = itertools.cycle(list(self.probe.take(PROBE_BATCHES)))
        x, y = next(self._batches)[:2]
        return self._grads_fn(x, y)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if not self.every or self.state.failed or self.state.global_step % self.every:
            return
        import tensorflow as tf

        grads = self._gradients()
        norms = {}
        for layer, indexes in self.layers.items():
            parts = [tf.reduce_sum(tf.square(tf.cast(grads[i], tf.float32))) for i in indexes if grads[i] is not None]
            norms[layer] = float(tf.sqrt(tf.add_n(parts))) if parts else 0.0
        self.folder.emit("grad_norms", epoch=self.epoch, step=batch + 1,
                         global_step=self.state.global_step, norms=norms)

    def on_epoch_end(self, epoch, logs=None):
        if not self.with_histograms or self.state.failed:
            return
        grads = self._gradients()
        variables = self.model.trainable_variables
        layers = {}
        for layer, indexes in self.layers.items():
            weights = np.concatenate([np.ravel(variables[i].numpy()) for i in indexes])
            grad_parts = [np.ravel(np.asarray(grads[i])) for i in indexes if grads[i] is not None]
            layers[layer] = {"weights": histogram(weights)}
            if grad_parts:
                layers[layer]["grads"] = histogram(np.concatenate(grad_parts))
        self.folder.emit("weights_hist", epoch=epoch + 1, layers=layers)


def histogram(values: np.ndarray) -> list[list[float]]:
    """``[counts, edges]`` of finite ``values`` with HISTOGRAM_BINS bins, compact for JSON."""
    values = values[np.isfinite(values)].astype(np.float64)
    if values.size == 0:
        return [[], []]
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
    return [counts.tolist(), [float(f"{edge:.6g}") for edge in edges]]
