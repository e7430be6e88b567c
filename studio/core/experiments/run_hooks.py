"""What the run store adds to every run (plugin of ``studio.core.hooks``, listed in
``studio.core.features``): summary.json and curves.npz kept current each epoch."""

from __future__ import annotations

from studio.core.training.build import RunAddition


def extend_run(run) -> RunAddition:
    """The store's folder callback, on every objective."""
    from studio.core.experiments.hook import StoreHook

    return RunAddition(folder_callbacks=[StoreHook])
