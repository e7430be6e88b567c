"""Live probes in a training run: the callback behind ``RUN/probes/`` (see ``studio.core.training.probes``
for the config file the app writes)."""

from __future__ import annotations

import numpy as np

from studio.core.training.callbacks import Hooks, RunState
from studio.core.training.probes import PROBES_DIR, probe_indices, read_probes_config
from studio.core.training.runs import RunFolder


class LiveProbes(Hooks):
    """Writes a probe snapshot of the pinned test samples at each epoch end (when configured)."""

    def __init__(self, folder: RunFolder, state: RunState, x_test) -> None:
        self.folder, self.state, self.x_test = folder, state, x_test
        self._reported: str | None = None

    def on_epoch_end(self, epoch, logs=None):
        if self.state.failed:
            return
        config = read_probes_config(self.folder.path)
        if config is None:
            return
        from studio.core.inspect.layers import spatial_layers
        from studio.core.inspect.live import probe_snapshot, save_probe_snapshot

        try:
            indices = probe_indices(config, len(self.x_test))
            layer = config["layer"]
            cam_layer = layer if layer in spatial_layers(self.model) else None  # else the last spatial one
            snapshot = probe_snapshot(self.model, self.x_test[indices], layer, cam_layer)
        except (ValueError, TypeError, AttributeError) as exc:  # a bad request must not stop training
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            if message != self._reported:
                self._reported = message
                self.folder.emit("probes", epoch=epoch + 1, error=message)
            return
        self._reported = None
        snapshot["samples"] = np.asarray(indices, dtype="int64")
        relative = f"{PROBES_DIR}/epoch_{epoch + 1:03d}.npz"
        (self.folder.path / PROBES_DIR).mkdir(exist_ok=True)
        save_probe_snapshot(self.folder.path / relative, snapshot)
        self.folder.emit("probes", epoch=epoch + 1, path=relative, layer=config["layer"], samples=indices)
