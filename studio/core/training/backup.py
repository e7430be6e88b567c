"""The resume backup in ``RUN/backup/``: weights with optimizer state, and where training was.

``training_metadata.json`` (the name Keras' BackupAndRestore uses) is the commit point::

    {"epoch": 2, "step": 17, "global_step": 97, "weights": "state-1712345678901234567.weights.h5",
     "seeds": [[1, 97]]}

``epoch`` counts finished epochs and ``step`` the steps already done in the next one, so a resume
continues at step 18 of epoch 3; ``seeds`` are the random-number states of Dropout-like layers.
A save writes a new weights file, then the metadata naming it (atomically), then removes older
files: a kill or a full disk at any moment leaves the previous backup whole, and ``backup/`` is
never left without one. Free space is checked first.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path


from studio.core import fileio
from studio.core.training.diskspace import ensure_free_space, saved_size
from studio.core.training.runs import BACKUP_METADATA, RunFolder

LEGACY_WEIGHTS = "latest.weights.h5"  # Keras BackupAndRestore's file, in runs made before this module


@dataclass(frozen=True)
class BackupState:
    """Where a backup was taken: finished epochs, steps into the next epoch, steps in all."""

    epoch: int = 0
    step: int = 0
    global_step: int = 0
    weights: str = LEGACY_WEIGHTS


def read_backup(folder: RunFolder) -> BackupState | None:
    """The run's last committed backup, or None when it has none (or only a damaged one)."""
    try:
        data = json.loads((folder.backup_dir / BACKUP_METADATA).read_text(encoding="utf-8"))
        state = BackupState(int(data["epoch"]), int(data.get("step", 0)), int(data.get("global_step", 0)),
                            str(data.get("weights", LEGACY_WEIGHTS)))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if Path(state.weights).name != state.weights or not (folder.backup_dir / state.weights).is_file():
        return None
    return state


def write_backup(folder: RunFolder, model, state: BackupState) -> None:
    """Save ``model`` (weights and optimizer state) as the run's backup at ``state``."""
    backup_dir = folder.backup_dir
    backup_dir.mkdir(exist_ok=True)
    ensure_free_space(backup_dir, saved_size(model))
    weights = f"state-{time.time_ns()}.weights.h5"
    fileio.atomic_replace_with(backup_dir / weights, model.save_weights)
    seeds = [v.numpy().tolist() for v in _seed_states(model)]
    fileio.atomic_write_json(backup_dir / BACKUP_METADATA, {
        **asdict(BackupState(state.epoch, state.step, state.global_step, weights)), "seeds": seeds})
    for path in backup_dir.iterdir():  # older states and temp files left by a killed save
        if path.is_file() and path.name not in (weights, BACKUP_METADATA):
            path.unlink(missing_ok=True)


def restore_backup(folder: RunFolder, model, state: BackupState) -> None:
    """Load the backup's weights and optimizer state into the freshly built ``model``."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)  # its variables must exist to be loaded
    model.load_weights(folder.backup_dir / state.weights)
    try:
        seeds = json.loads((folder.backup_dir / BACKUP_METADATA).read_text(encoding="utf-8")).get("seeds")
    except (OSError, ValueError):
        seeds = None
    variables = _seed_states(model)
    if isinstance(seeds, list) and len(seeds) == len(variables):
        import numpy as np

        for variable, value in zip(variables, seeds):
            variable.assign(np.asarray(value, dtype=variable.dtype))


def _seed_states(model) -> list:
    """The random-number states of layers such as Dropout. Keras does not save them with the
    weights, but a resume must continue their sequence to train as if never interrupted."""
    return [v for v in model.non_trainable_variables if v.name == "seed_generator_state"]
