"""The training process: reads a prepared run folder, trains, and reports through events.jsonl.

``child_main`` is the entry point of the spawned process; ``train_run`` does the work and can
also be called in-process (benchmarks). Every failure ends as an ``error`` event plus status
``failed`` in run.json, never as an exception reaching the caller.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import shutil
import sys
import time
import traceback

from studio.core import fileio, hooks
from studio.core.backends.devices import DeviceError
from studio.core.logs import log_to_stderr
from studio.core.training import lock
from studio.core.training.backup import BackupState, read_backup, restore_backup
from studio.core.training.diskspace import ensure_free_space, kept_files, saved_size
from studio.core.training.errors import TrainingError, describe_failure
from studio.core.training.resume import apply_changes
from studio.core.training.runs import RunFolder, read_control, read_events


def child_main(run_dir: str, resume: bool, trainer: str | None = None) -> None:
    """Entry point of the training process: quiet TensorFlow, log to log.txt, train, exit.

    ``trainer`` (``"module:function"``, called as ``train(folder, resume) -> status``) replaces the
    supervised loop for runs that are not ``fit`` (a DQN agent); the run folder, the lock and the
    failure handling stay the engine's. The hook plugins registered in the starting process are
    registered here too (by ``studio.core.child``, for every child ``studio.core.processes`` starts).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    folder = RunFolder(run_dir)
    select_backend(folder.info())
    # TensorFlow and Keras write straight to the process's stdout/stderr: send both to log.txt.
    log = os.open(folder.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    log_to_stderr()  # the studio's warnings go to log.txt too
    train = None
    if trainer:
        module, function = trainer.split(":")
        train = getattr(importlib.import_module(module), function)
    sys.exit(0 if train_run(folder, resume, train) in ("completed", "stopped") else 1)


def select_backend(info: dict) -> None:
    """Set the run's Keras backend (and JAX's CPU device count for ``cpu:N``) before Keras loads."""
    backend = info.get("backend")
    if not backend:
        return
    if "keras" in sys.modules and sys.modules["keras"].backend.backend() != backend:
        raise RuntimeError(f"Keras was imported with another backend before the run could select "
                           f"{backend}: start training through Runner or `studio train`")
    os.environ["KERAS_BACKEND"] = backend
    devices = str(info.get("config", {}).get("devices", ""))
    if backend == "jax" and devices.startswith("cpu:") and devices[4:].isdigit():
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "")
                                   + f" --xla_force_host_platform_device_count={devices[4:]}").strip()
    if devices.startswith("cpu"):  # hide GPUs before the backend initialises them
        os.environ.update({"jax": {"JAX_PLATFORMS": "cpu"}, "torch": {"CUDA_VISIBLE_DEVICES": ""}}.get(backend, {}))


class StopDuringStartup(Exception):
    """Stop was sent before the first batch: the run ends as ``stopped`` with nothing trained."""


def stage(folder: RunFolder, name: str) -> None:
    """Announce a start-up stage (``STAGES`` in training/watch.py), ending the run first if Stop
    was sent during the previous one: start-up can take a while, and Stop must work all along."""
    if read_control(folder.path) == "stop":
        raise StopDuringStartup
    folder.emit("stage", stage=name)


def stopped_during_startup(folder: RunFolder) -> str:
    """End a run stopped before its first batch: the same ``stop``/``end`` events as a later stop."""
    folder.emit("stop", reason="user", epoch=0, step=0)
    folder.update_info(status="stopped", ended=time.time(), stop_reason="user")
    folder.emit("end", status="stopped")
    return "stopped"


def _safe(action, *args, **kwargs) -> None:
    """Run a bookkeeping write that may itself fail (disk full) without hiding the first error."""
    try:
        action(*args, **kwargs)
    except OSError:
        traceback.print_exc()


def train_run(folder: RunFolder, resume: bool = False, train=None) -> str:
    """Train the run in ``folder`` with ``train(folder, resume) -> status`` (default: the supervised
    loop); return its final status (completed, stopped or failed)."""
    from studio.core.training.config import TrainingConfig

    info = folder.info()
    batch_size = TrainingConfig.from_dict(info.get("config")).batch_size
    try:
        lock.adopt(folder.path)
    except TrainingError as exc:  # another trainer owns the folder: leave its files alone
        print(exc, file=sys.stderr)
        return "failed"
    try:
        folder.update_info(status="running", pid=os.getpid(), started=time.time())
        stage(folder, "loading_backend")
        status = (train or _train)(folder, resume)
    except StopDuringStartup:
        status = stopped_during_startup(folder)
    except BaseException as exc:  # the run must always end with a status and a message
        kind, message = describe_failure(exc, batch_size, kept_files(folder))
        traceback.print_exc()
        error = {"kind": kind, "message": message}
        if isinstance(exc, DeviceError) and exc.fixes:  # settings that would work: front ends word them
            error["fixes"] = [list(fix) for fix in exc.fixes]
        _safe(folder.emit, "error", **error)
        _safe(folder.update_info, status="failed", ended=time.time(), error=error)
        _safe(folder.emit, "end", status="failed")
        if isinstance(exc, KeyboardInterrupt):
            raise
        return "failed"
    finally:
        lock.release(folder.path)
    return status


def train_lesson_run(project, runs_root, name: str, say=print):
    """Plan and train ``project`` in this process (a lesson runs in a child of its own) as the run folder
    ``<runs_root>/<time>-lesson-<name>``.

    Args:
        project: the Project to train.
        runs_root: the folder of the lesson's runs.
        name: the run's name in the lesson.
        say: where the progress line goes.

    Returns:
        The run folder's Path.

    Raises:
        TrainingError: the plan refuses the project, or the run did not complete (the message names
            its run.json).
    """
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import new_run_dir

    folder = prepare_run_folder(plan_run(project), new_run_dir(runs_root, f"lesson-{name}"))
    say(f"training {name} in {folder.path} ...")
    status = train_run(folder)
    if status != "completed":
        raise TrainingError(f"the {name} run ended {status}: see {folder.run_json}")
    return folder.path


def _train(folder: RunFolder, resume: bool) -> str:
    import keras

    from studio.core.backends import adapter
    from studio.core.backends.devices import parse_devices, setup_devices
    from studio.core.backends.measurements import best_compile, project_signature
    from studio.core.project import load_project
    from studio.core.training.build import builder_for
    from studio.core.training.callbacks import Backup, Checkpoints, GradientProbe, Monitor, RunState
    from studio.core.training.config import TrainingConfig
    from studio.core.training.plan import load_checked_dataset

    info = folder.info()
    config = TrainingConfig.from_dict(info["config"])
    project = load_project(folder.project_file)
    setup = setup_devices(parse_devices(config.devices), config.mixed_precision,
                          best_compile(project_signature(project), keras.backend.backend()))
    keras.utils.set_random_seed(config.seed)
    if setup.info["kind"] == "cpu":
        adapter().deterministic()
    folder.update_info(device=setup.info, compile_mode=setup.compile_mode, precision=setup.info["precision"])

    stage(folder, "loading_data")
    dataset = load_checked_dataset(project.dataset)
    expected = info.get("dataset", {}).get("fingerprint")
    if expected and dataset.fingerprint() != expected:
        raise TrainingError("the dataset changed since this run started (fingerprint differs): "
                            "start a new run instead of resuming")
    backup = read_backup(folder) if resume else None
    start = backup or BackupState()
    start_epoch = start.epoch
    stage(folder, "building")
    scope = setup.strategy.scope() if setup.strategy is not None else contextlib.nullcontext()
    with scope:
        built = builder_for(project)(project, config, dataset, setup, start_epoch)
        if backup is not None:
            restore_backup(folder, built.model, backup)
    notes = setup.notes + built.notes
    if resume:
        notes += apply_changes(built.model, config, info.get("resume_changes") or {})
    if start.step:  # the rest of a resumed epoch must be whole executions too
        built.model.steps_per_execution = math.gcd(built.model.steps_per_execution,
                                                   built.steps_per_epoch - start.step)
    execution = built.model.steps_per_execution
    folder.update_info(notes=notes, steps_per_execution=execution)
    ensure_free_space(folder.path, saved_size(built.model))  # before training: no epoch is trained in vain

    state = RunState(global_step=start.global_step, resume_epoch=start_epoch, resume_step=start.step)
    history = {event["epoch"]: event["logs"] for event in read_events(folder.path)
               if event["type"] == "epoch" and event["epoch"] <= start_epoch}
    monitor = Monitor(folder, state, config.batch_size, config.epochs, built.steps_per_epoch, history)
    callbacks = [make(folder) for make in built.folder_callbacks]
    callbacks += [monitor, Checkpoints(folder, state, config.early_stopping_monitor),
                  Backup(folder, state, built.steps_per_epoch, config.backup_every_steps, config.backup_every_s)]
    if built.loss_fn is not None and built.probe is not None:
        callbacks.append(GradientProbe(folder, state, built.loss_fn, built.probe, config.grad_norm_every))
    callbacks += [callback for found in hooks.call("engine_callbacks", folder, state, dataset) for callback in found]
    early = None
    if config.early_stopping:
        early = keras.callbacks.EarlyStopping(
            monitor=config.early_stopping_monitor, patience=config.early_stopping_patience,
            restore_best_weights=config.restore_best)
        callbacks.append(early)
    callbacks.extend(built.callbacks)

    folder.emit("start", resumed=resume, device=setup.info, compile_mode=setup.compile_mode,
                epochs=config.epochs, steps_per_epoch=built.steps_per_epoch,
                batch_size=config.batch_size, steps_per_execution=execution, notes=notes,
                adaptations=info.get("adaptations", []),
                **({"from_epoch": start_epoch + 1, "from_step": start.step + 1} if resume else {}))
    stage(folder, "compiling")  # Keras traces and compiles the training step in the first batch
    if built.val is not None:  # the loss before any update: where the divergence check starts
        monitor.divergence.see_first(built.model.evaluate(built.val, steps=1, verbose=0, return_dict=True))
    _fit(built, config.epochs, start_epoch, start.step, callbacks)

    if state.failed:
        kind, message = state.failure
        folder.update_info(status="failed", ended=time.time(), error={"kind": kind, "message": message})
        folder.emit("end", status="failed")
        return "failed"
    if early is not None and early.stopped_epoch > 0:
        state.stop_reason = "early_stopping"
        folder.emit("stop", reason="early_stopping", epoch=early.stopped_epoch + 1)
    ensure_free_space(folder.path, saved_size(built.model))
    fileio.atomic_replace_with(folder.model_file, built.model.save)
    status = "stopped" if state.stop_reason == "user" else "completed"
    if status == "completed":
        shutil.rmtree(folder.backup_dir, ignore_errors=True)
    folder.update_info(status=status, ended=time.time(), stop_reason=state.stop_reason)
    folder.emit("end", status=status)
    return status


def _fit(built, epochs: int, start_epoch: int, start_step: int, callbacks: list) -> None:
    """Train epochs ``start_epoch``..``epochs - 1`` (from 0), the first from step ``start_step``.

    Keras runs every epoch of one ``fit`` for the same number of steps, so the rest of an epoch
    a resume enters mid-way is a ``fit`` of its own. ``built.train`` is an endless stream that
    starts at ``start_epoch``; skipping batches keeps every later batch where it would have been.
    """
    from studio.core.training.callbacks import engine_callbacks

    steps = built.steps_per_epoch

    def fit(train, first: int, last: int, steps_per_epoch: int) -> None:
        built.model.fit(train, validation_data=built.val, initial_epoch=first, epochs=last,
                        steps_per_epoch=steps_per_epoch, shuffle=False, verbose=0,
                        callbacks=engine_callbacks(callbacks, built.model, last, steps_per_epoch))

    if not start_step:
        fit(built.train, start_epoch, epochs, steps)
        return
    fit(built.train.skip(start_step), start_epoch, start_epoch + 1, steps - start_step)
    if start_epoch + 1 < epochs and not built.model.stop_training:
        fit(built.train.skip(steps), start_epoch + 1, epochs, steps)
