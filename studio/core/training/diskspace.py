"""Free-space checks before the big writes of a run (backup, checkpoints, final model).

A write that hits a full disk inside h5py can kill the process outright (no exception to catch),
so the engine checks before training starts and before each such write, and stops with a
``disk_full`` error while the old files are intact. The margin kept free grows with the model.
"""

from __future__ import annotations

import math
import os
import shutil


from studio.core.training.errors import DiskFull
from studio.core.training.runs import RunFolder

MIN_MARGIN_BYTES = 2 << 20  # room kept for events, run.json and the file system itself
MARGIN_SHARE = 4  # ... and a quarter of the write on top: bigger models log and store more
PER_VARIABLE_BYTES = 8 << 10  # HDF5 and zip overhead per stored array


def optimizers(model) -> list:
    """The model's optimizers (a GAN has two), found among its attributes."""
    import keras

    return [value for value in vars(model).values() if isinstance(value, keras.optimizers.Optimizer)]


def saved_size(model) -> int:
    """An upper estimate of the bytes a saved copy of ``model`` takes with its optimizer state."""
    import numpy as np

    variables = list(model.weights)
    for optimizer in optimizers(model):
        variables += list(optimizer.variables)
    data = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in variables)
    return data + PER_VARIABLE_BYTES * len(variables)


def with_margin(needed: int) -> int:
    """``needed`` bytes plus the room a run keeps free beside a write of that size."""
    return needed + max(MIN_MARGIN_BYTES, needed // MARGIN_SHARE)


def ensure_free_space(directory: str | os.PathLike, needed: int) -> None:
    """Raise DiskFull unless ``directory``'s disk has ``needed`` bytes plus a margin free."""
    free = shutil.disk_usage(directory).free
    if free < with_margin(needed):
        raise DiskFull(directory, with_margin(needed), free)


def kept_files(run: RunFolder) -> str:
    """What a failed run leaves to resume from, said truthfully.

    Args:
        run: the run folder.

    Returns:
        A clause for its error message: the last checkpoint is intact, or none was saved yet.
    """
    if run.last_checkpoint.is_file():
        return "checkpoints/last.keras from the last saved epoch is intact"
    return "no checkpoint was saved yet (one is saved at the end of each epoch)"


def crash_cause(run_dir: str | os.PathLike, exitcode: int | None) -> tuple[str, str]:
    """``(kind, message)`` for a training process that died without a word: ``disk_full`` when
    its disk has less room than its largest backup or checkpoint file needs (a write into a full
    disk can kill it inside HDF5), else ``crash``."""
    run = RunFolder(run_dir)
    sizes = [path.stat().st_size for folder in (run.backup_dir, run.checkpoints)
             if folder.is_dir() for path in folder.iterdir() if path.is_file()]
    try:
        free = shutil.disk_usage(run.path).free
    except OSError:
        free = None
    if free is not None and free < with_margin(max(sizes, default=0)):
        return "disk_full", (f"the training process ended unexpectedly (exit code {exitcode}) with the "
                             f"disk nearly full ({free / 2**20:.0f} MB free): free some space, then resume")
    return "crash", f"the training process ended unexpectedly (exit code {exitcode}); see log.txt"
