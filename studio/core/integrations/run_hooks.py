"""What the integrations add to a run (plugin of ``studio.core.hooks``, listed in
``studio.core.features``): MLflow tracking when the ``mlflow`` training setting names a store."""

from __future__ import annotations

from studio.core.training.build import RunAddition


def check_run(project, config) -> None:
    """TrainingError before a run starts when the ``mlflow`` setting is on but MLflow is missing."""
    if not config.mlflow:
        return
    try:
        import mlflow.tracking  # noqa: F401
    except ImportError:
        from studio.core.integrations.mlflow_tracking import MISSING
        from studio.core.training.errors import TrainingError

        raise TrainingError(MISSING) from None


def extend_run(run) -> RunAddition | None:
    """MLflow's two callbacks: metrics each epoch (a folder callback), the model at the end."""
    if not run.config.mlflow:
        return None
    from studio.core.integrations.mlflow_tracking import Finish, MlflowTracker

    tracker = MlflowTracker(run.config.mlflow, run.config.mlflow_experiment, run.project, run.config.to_dict())
    return RunAddition(callbacks=[Finish(tracker)], folder_callbacks=[tracker.attach],
                       notes=[f"logging to MLflow ({run.config.mlflow})"])
