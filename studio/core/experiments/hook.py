"""The training process's side of the run store: summary.json and curves.npz kept current."""

from __future__ import annotations

from studio.core.experiments.curve_cache import load_curves
from studio.core.experiments.summary import update_summary
from studio.core.training.callbacks import Hooks
from studio.core.training.runs import RunFolder


class StoreHook(Hooks):
    """Refreshes the run's summary and cached curves once per epoch.

    A folder callback runs before the engine's own, so at ``on_epoch_end`` the epoch's event is not
    written yet: the refresh happens when the next epoch begins and when training ends.
    """

    def __init__(self, folder: RunFolder) -> None:
        self.folder = folder

    def _refresh(self) -> None:
        try:
            update_summary(self.folder.path)
            load_curves(self.folder.path, store_after=0)
        except OSError:
            pass  # bookkeeping only: a full disk must not fail the run (listing rebuilds it)

    def on_epoch_begin(self, epoch, logs=None):
        if epoch > 0:
            self._refresh()

    def on_train_end(self, logs=None):
        self._refresh()
