"""What inspection adds to a run (plugin of ``studio.core.hooks``, listed in ``studio.core.features``):
the live decision boundary of 2-D-input models and the live probes of pinned test samples."""

from __future__ import annotations

from studio.core.training.build import RunAddition


def extend_run(run) -> RunAddition | None:
    """The live boundary for a supervised model on 2-D inputs."""
    if not run.supervised:
        return None
    from studio.core.inspect.live_boundary import boundary_callbacks

    factories = boundary_callbacks(run.dataset)
    return RunAddition(folder_callbacks=factories) if factories else None


def engine_callbacks(folder, state, dataset) -> list:
    """Live probes: a snapshot of the pinned test samples each epoch, once the app asks for one."""
    from studio.core.inspect.live_probes import LiveProbes

    return [LiveProbes(folder, state, dataset.x_test)]
