"""Live decision boundary: after every epoch of a model with a 2-D input, the boundary on a grid.

Writes ``RUN/boundary/epoch_NNN.npz`` (``studio.core.inspect.boundary``) and emits
``boundary {epoch, path}``; a failure is reported once as ``boundary {epoch, error}`` and training
goes on.
"""

from __future__ import annotations

import numpy as np

from studio.core.training.callbacks import Hooks
from studio.core.training.runs import RunFolder


class LiveBoundary(Hooks):
    """Saves the decision boundary over the training data's extent at each epoch end."""

    def __init__(self, folder: RunFolder, x_train, task: str) -> None:
        from studio.core.inspect.boundary import grid_extent

        self.folder, self.task = folder, task
        self.extent = grid_extent(x_train)
        self._failed = False

    def on_epoch_end(self, epoch, logs=None):
        if self._failed:
            return
        from studio.core.inspect.boundary import BOUNDARY_DIR, decision_boundary, save_boundary
        from studio.core.inspect.errors import InspectError

        relative = f"{BOUNDARY_DIR}/epoch_{epoch + 1:03d}.npz"
        try:
            boundary = decision_boundary(self.model, extent=self.extent, task=self.task)
            (self.folder.path / BOUNDARY_DIR).mkdir(exist_ok=True)
            save_boundary(self.folder.path / relative, boundary)
        except (InspectError, OSError, ValueError) as exc:  # the picture must never stop training
            self._failed = True
            self.folder.emit("boundary", epoch=epoch + 1, error=str(exc).splitlines()[0] or type(exc).__name__)
            return
        self.folder.emit("boundary", epoch=epoch + 1, path=relative)


def boundary_callbacks(dataset) -> list:
    """Folder-callback factories for a run on ``dataset``: the live boundary for 2-D inputs."""
    if tuple(dataset.input_shape) != (2,):
        return []
    x_train, task = np.asarray(dataset.x_train), dataset.task
    return [lambda folder: LiveBoundary(folder, x_train, task)]
