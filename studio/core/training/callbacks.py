"""Callbacks of the training process: events, control (pause/stop), NaN guard, checkpoints,
backups for resume, and per-layer gradient norms / histograms.

They follow the Keras callback protocol without subclassing ``keras.callbacks.Callback`` so this
module imports without Keras (the package rule); Keras calls only the hooks defined on ``Hooks``.
Batch hooks get the step's logs as backend tensors (``engine_callbacks``): converting them waits
for the device, so a hook does it only when it reports, by time.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core import fileio
from studio.core.backends import adapter
from studio.core.training.backup import BackupState, write_backup
from studio.core.training.diskspace import ensure_free_space, saved_size
from studio.core.training.divergence import DivergenceCheck
from studio.core.training.runs import RunFolder, read_control

HISTOGRAM_BINS = 30
PROBE_BATCHES = 4


@dataclass
class RunState:
    """Shared between the callbacks and the engine: step count, failure, why training stopped."""

    global_step: int = 0
    failure: tuple[str, str] | None = None  # (kind, message)
    stop_reason: str | None = None
    resume_epoch: int = -1  # the epoch (from 0) a resume entered mid-way, after resume_step steps
    resume_step: int = 0

    @property
    def failed(self) -> bool:
        return self.failure is not None

    def steps_before(self, epoch: int) -> int:
        """Steps of ``epoch`` (from 0) trained before this session: Keras counts batches from 0
        in every ``fit``, so a resumed epoch's batch numbers are shifted by this much."""
        return self.resume_step if epoch == self.resume_epoch else 0


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

    # Keras' ``default`` marker: while no callback overrides a batch-end hook, Keras reads each
    # batch's logs off the training thread, so the next step is dispatched without waiting.
    _noop._is_default = True

    on_train_begin = on_train_end = on_epoch_begin = on_epoch_end = _noop
    on_train_batch_begin = on_train_batch_end = on_batch_begin = on_batch_end = _noop
    on_test_begin = on_test_end = on_test_batch_begin = on_test_batch_end = _noop
    on_predict_begin = on_predict_end = on_predict_batch_begin = on_predict_batch_end = _noop


def engine_callbacks(callbacks: list, model, epochs: int, steps: int):
    """The ``keras.callbacks.CallbackList`` for ``model.fit``: like the one fit makes itself,
    except that ``Hooks`` get each batch's logs unconverted (reading them is a host sync: every
    batch it would stall the device, so our hooks read them by time). Other callbacks that
    override a batch-end hook get the logs as Python floats, as Keras gives them.
    """
    return _callback_list_class()(callbacks, add_history=True, add_progbar=False, model=model,
                                  verbose=0, epochs=epochs, steps=steps)


@functools.cache
def _callback_list_class():
    import keras

    class EngineCallbacks(keras.callbacks.CallbackList):
        def on_train_batch_end(self, batch, logs=None):
            floats = None
            for callback in self.callbacks:
                hook = callback.on_train_batch_end
                if getattr(hook, "_is_default", False):
                    continue
                if isinstance(callback, Hooks):
                    hook(batch, logs=logs)
                    continue
                if floats is None:
                    floats = {key: float(np.asarray(keras.ops.convert_to_numpy(value)))
                              for key, value in (logs or {}).items()}
                hook(batch, logs=floats)

    return EngineCallbacks


def current_lr(model) -> float:
    """The optimizer's learning rate right now (schedules evaluated at the current step)."""
    adapter().sync(model)
    return float(np.asarray(model.optimizer.learning_rate))


class Monitor(Hooks):
    """Writes batch and epoch events, obeys the control file, stops at a NaN/Inf loss, warns once
    when a finite loss diverges.

    Batch logs are read (a host sync on GPUs), the control file polled and events written every
    ``throttle_s`` seconds and at the last step of an epoch, not at every batch.
    """

    def __init__(self, folder: RunFolder, state: RunState, batch_size: int, epochs: int,
                 steps_per_epoch: int, history: dict[int, dict], throttle_s: float = 0.25) -> None:
        self.folder, self.state, self.history = folder, state, history
        self.batch_size, self.epochs, self.steps = batch_size, epochs, steps_per_epoch
        self.throttle_s = throttle_s
        self._control_mtime = None
        self.epoch = self.step = self.first_step = 0
        self.divergence = DivergenceCheck()

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1
        self.step = self.first_step = self.state.steps_before(epoch)
        self._epoch_start = time.perf_counter()
        self._last_emit = -math.inf  # the first batch of an epoch is always reported
        self._paused = 0.0

    def on_train_batch_end(self, batch, logs=None):
        done = self.first_step + batch + 1 - self.step  # several with ``steps_per_execution``
        self.step += done
        self.state.global_step += done
        now = time.perf_counter()
        if now - self._last_emit < self.throttle_s and self.step != self.steps:
            return  # no per-batch host sync: logs are read, the control file polled, by time
        self._last_emit = now
        logs = {key: float(value) for key, value in (logs or {}).items()}
        bad = bad_loss(logs)
        if bad:
            self._fail_nan(*bad)
            return
        self.divergence.see_first(logs)
        self._obey_control()
        busy = max(now - self._epoch_start - self._paused, 1e-9)
        done = max(self.step - self.first_step, 1)
        left = (self.epochs - self.epoch) * self.steps + (self.steps - self.step)
        self.folder.emit("batch", epoch=self.epoch, step=self.step, steps=self.steps, logs=logs,
                         lr=current_lr(self.model), samples_per_s=done * self.batch_size / busy,
                         eta_s=left * busy / done)

    def _fail_nan(self, name: str, loss: float) -> None:
        what = "NaN" if math.isnan(loss) else "infinite"
        if self.folder.last_checkpoint.is_file():
            kept = f"checkpoints/last.keras from epoch {max(self.history)} is kept" if self.history \
                else "checkpoints/last.keras is kept"
        else:
            kept = "no checkpoint was saved yet (one is saved at the end of each epoch)"
        message = (f"the {name} became {what} by epoch {self.epoch}, step {self.step}: lower the "
                   f"learning rate or add gradient clipping; {kept}")
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
        bad = next(((k, v) for k, v in logs.items() if k.endswith("loss") and not math.isfinite(v)), None)
        if bad:
            self._fail_nan(*bad)
            return
        fields = {"partial": True} if self.step < self.steps else {}
        self.folder.emit("epoch", epoch=epoch + 1, logs=logs, lr=current_lr(self.model),
                         duration_s=time.perf_counter() - self._epoch_start, **fields)
        self.history[epoch + 1] = logs
        write_history(self.folder, self.history)
        warning = self.divergence.check_epoch(epoch + 1, logs)
        if warning:
            self.folder.emit("warning", kind="divergence", epoch=epoch + 1, message=warning)


def bad_loss(logs: dict | None) -> tuple[str, float] | None:
    """The first non-finite loss in a batch's ``logs`` as ``(name, value)`` (reading them waits for
    the device). Every loss counts: a GAN logs d_loss and g_loss but no plain "loss"; Keras logs
    the epoch's running mean, so a NaN at any earlier step of the epoch still shows."""
    for key, value in (logs or {}).items():
        if key.endswith("loss") and not math.isfinite(float(value)):
            return key, float(value)
    return None


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
        ensure_free_space(self.folder.checkpoints, saved_size(self.model))
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
    """Saves the resume backup (see ``backup.py``) at each epoch end, every ``every_steps`` steps
    and every ``every_s`` seconds, and where a stop ends an epoch early; never after a failure.

    A backup taken mid-epoch records the step, so a resume continues right after it: a kill loses
    at most the steps since the last backup.
    """

    def __init__(self, folder: RunFolder, state: RunState, steps_per_epoch: int,
                 every_steps: int = 0, every_s: float = 0.0) -> None:
        self.folder, self.state, self.steps = folder, state, steps_per_epoch
        self.every_steps, self.every_s = every_steps, every_s

    def on_train_begin(self, logs=None):
        self._saved_at, self._saved_step = time.monotonic(), self.state.global_step

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.step = epoch, self.state.steps_before(epoch)

    def on_train_batch_end(self, batch, logs=None):
        self.step = self.state.steps_before(self.epoch) + batch + 1
        if self.state.failed or self.step == self.steps:  # the epoch's end saves anyway
            return
        due_steps = self.every_steps and self.state.global_step - self._saved_step >= self.every_steps
        due_time = self.every_s and time.monotonic() - self._saved_at >= self.every_s
        if (due_steps or due_time) and not bad_loss(logs):  # never keep weights a NaN has reached
            self._save(self.epoch, self.step)

    def on_epoch_end(self, epoch, logs=None):
        if self.state.failed:
            return
        if self.step >= self.steps:
            self._save(epoch + 1, 0)
        else:  # stopped mid-epoch: the epoch is partial, a resume finishes it
            self._save(epoch, self.step)

    def _save(self, epochs_done: int, step: int) -> None:
        write_backup(self.folder, self.model, BackupState(epochs_done, step, self.state.global_step))
        self._saved_at, self._saved_step = time.monotonic(), self.state.global_step


class GradientProbe(Hooks):
    """Per-layer gradient norms every ``every`` steps (at the end of the call that reaches the
    step, with ``steps_per_execution``) and weight/gradient histograms per epoch.

    Gradients are computed on a separate batch of training data with a stateless call (no
    batch-norm statistics change), outside the compiled train step, so training keeps its speed.
    """

    def __init__(self, folder: RunFolder, state: RunState, loss_fn, probe, every: int,
                 with_histograms: bool = True) -> None:
        """``probe`` is an iterable of ``(x, y)`` training batches (tf.data or PyDataset); norms cycle through its
        first ``PROBE_BATCHES`` so successive values compare like with like."""
        self.folder, self.state, self.loss_fn, self.probe = folder, state, loss_fn, probe
        self.every, self.with_histograms = every, with_histograms
        self._batches = None
        self._grads_fn = None

    def on_train_begin(self, logs=None):
        self._counted = self.state.global_step
        model, loss_fn, backend = self.model, self.loss_fn, adapter()
        variables = model.trainable_variables
        self._variable_count = len(variables)
        self.layers: dict[str, list[int]] = {}
        for index, variable in enumerate(variables):
            self.layers.setdefault(variable.path.rsplit("/", 1)[0], []).append(index)

        def loss(trainable, frozen, x, y):
            y_pred, _ = model.stateless_call(trainable, frozen, x, training=True)
            return loss_fn(y, y_pred)

        def gradients(trainable, frozen, x, y):
            return backend.value_and_grad(lambda t: loss(t, frozen, x, y), [trainable])[1][0]

        self._grads_fn = backend.compile(gradients)

    def _gradients(self) -> list[Any]:
        if len(self.model.trainable_variables) != self._variable_count:  # layers were (un)frozen mid-run
            self.on_train_begin()
        if self._batches is None:
            # A few batches held in memory: no second input pipeline running beside training's.
            self._batches = itertools.cycle(
                [tuple(np.asarray(part) for part in batch[:2])
                 for batch in itertools.islice(iter(self.probe), PROBE_BATCHES)])
        x, y = next(self._batches)
        adapter().sync(self.model)
        trainable = [v.value for v in self.model.trainable_variables]
        frozen = [v.value for v in self.model.non_trainable_variables]
        return [None if g is None else np.asarray(g, dtype=np.float32)
                for g in self._grads_fn(trainable, frozen, x, y)]

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        step, before = self.state.global_step, self._counted
        self._counted = step  # with steps_per_execution a call may step over the multiple of every
        if not self.every or self.state.failed or step // self.every == before // self.every:
            return
        grads = self._gradients()
        norms = {}
        for layer, indexes in self.layers.items():
            parts = [float(np.sum(np.square(grads[i]))) for i in indexes if grads[i] is not None]
            norms[layer] = math.sqrt(sum(parts)) if parts else 0.0
        self.folder.emit("grad_norms", epoch=self.epoch, step=self.state.steps_before(self.epoch - 1) + batch + 1,
                         global_step=self.state.global_step, norms=norms)

    def on_epoch_end(self, epoch, logs=None):
        if not self.with_histograms or self.state.failed:
            return
        grads = self._gradients()
        variables = self.model.trainable_variables
        layers = {}
        for layer, indexes in self.layers.items():
            weights = np.concatenate([np.ravel(keras_numpy(variables[i])) for i in indexes])
            grad_parts = [np.ravel(np.asarray(grads[i])) for i in indexes if grads[i] is not None]
            layers[layer] = {"weights": histogram(weights)}
            if grad_parts:
                layers[layer]["grads"] = histogram(np.concatenate(grad_parts))
        self.folder.emit("weights_hist", epoch=epoch + 1, layers=layers)


def keras_numpy(variable) -> np.ndarray:
    """A Keras variable's value as numpy on any backend (bfloat16 read as float32)."""
    import keras

    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(variable.value, "float32")))


def histogram(values: np.ndarray) -> list[list[float]]:
    """``[counts, edges]`` of finite ``values`` with HISTOGRAM_BINS bins, compact for JSON."""
    values = values[np.isfinite(values)].astype(np.float64)
    if values.size == 0:
        return [[], []]
    counts, edges = np.histogram(values, bins=HISTOGRAM_BINS)
    return [counts.tolist(), [float(f"{edge:.6g}") for edge in edges]]
