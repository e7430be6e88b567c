"""Resuming a run with changed training settings: what is applied, what is refused.

The backup restores weights *and* optimizer state (including the learning rate), so a changed
setting must be either applied on top of it or refused. Applied: settings read afresh by the
engine or its callbacks (more or fewer epochs, early stopping, logging, devices, backups), the
learning rate (written into the restored optimizer) and the schedule's parameters, gradient
clipping and weight decay (hyperparameters, not state). Refused: anything that makes it another
training: the optimizer, its momentum, the schedule kind, loss, metrics, batch size, seed, mixed
precision, and any setting not listed here.
"""

from __future__ import annotations

import os
from typing import Any

from studio.core.training.backup import read_backup
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError
from studio.core.training.plan import check_config, reopen_run_folder
from studio.core.training.runs import RunFolder

APPLIED_ON_RESUME = frozenset({
    "epochs", "learning_rate", "decay_rate", "decay_epochs", "warmup_epochs", "min_learning_rate",
    "plateau_patience", "clipnorm", "weight_decay", "early_stopping", "early_stopping_monitor",
    "early_stopping_patience", "restore_best", "grad_norm_every", "devices",
    "backup_every_steps", "backup_every_s",
})
RATE_IS_A_VARIABLE = ("constant", "reduce_on_plateau")  # other schedules compute it from the step


def setting_changes(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """``{name: [old, new]}`` for every setting that differs (missing ones take their defaults)."""
    before = TrainingConfig.from_dict(old).to_dict()
    after = TrainingConfig.from_dict(new).to_dict()
    return {name: [before[name], value] for name, value in after.items() if before.get(name) != value}


def check_changes(changes: dict[str, list[Any]], epochs_done: int) -> None:
    """Raise TrainingError naming the changes a resume cannot apply."""
    refused = [name for name in changes if name not in APPLIED_ON_RESUME]
    if refused:
        listed = ", ".join(f"{name} {changes[name][0]!r} -> {changes[name][1]!r}" for name in refused)
        raise TrainingError(f"cannot resume with changed {listed}: that would be another training; "
                            "start a new run, or resume with the run's own values")
    if "epochs" in changes and changes["epochs"][1] <= epochs_done:
        raise TrainingError(f"epochs {changes['epochs'][1]} is not above the {epochs_done} epochs "
                            "this run has finished: ask for more")


def reopen_for_resume(run_dir: str | os.PathLike, training: dict[str, Any] | None) -> RunFolder:
    """``reopen_run_folder`` after checking the changed settings; run.json records the applied
    ones as ``resume_changes`` for the training process."""
    folder = RunFolder(run_dir)
    old = folder.info().get("config")
    changes: dict[str, list[Any]] = {}
    if training is not None and isinstance(old, dict):
        changes = setting_changes(old, check_config({**old, **training}).to_dict())
        backup = read_backup(folder)
        check_changes(changes, backup.epoch if backup else 0)
    reopen_run_folder(folder.path, training)
    folder.update_info(resume_changes=changes)
    return folder


def apply_changes(model, config: TrainingConfig, changes: dict[str, list[Any]]) -> list[str]:
    """Write changed settings held in the restored optimizer state into it; return notes saying
    what the resume changed."""
    if "learning_rate" in changes and config.schedule in RATE_IS_A_VARIABLE:
        from studio.core.training.diskspace import optimizers

        for optimizer in optimizers(model):
            optimizer.learning_rate = config.learning_rate
    return [f"resumed with {name} {before!r} -> {after!r}" for name, (before, after) in changes.items()]
