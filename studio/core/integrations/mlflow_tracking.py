"""Log a run to MLflow while it trains: params at the start, metrics each epoch, the model at the end.

The training setting ``mlflow`` names the tracking store: ``local`` is an SQLite store with its
artifacts in ``mlruns/`` beside the runs folder (MLflow's own ``./mlruns`` place); any other value
is a tracking URI (an MLflow server, ``sqlite:///path.db``, ...). ``mlflow_experiment`` names the
experiment (default: the project's name). The MLflow run id is kept in ``RUN/mlflow.json`` so a
resumed run continues the same MLflow run. MLflow trouble never fails training: the first error
becomes a ``warning`` event and logging stops.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from studio.core.training.callbacks import Hooks
from studio.core.training.runs import RunFolder

logger = logging.getLogger(__name__)

LOCAL = "local"
STORE_DIR = "mlruns"
ID_FILE = "mlflow.json"
MISSING = 'the mlflow setting needs MLflow: pip install "dl-studio[mlflow]" (or clear the setting)'
PARAM_CHARS = 500  # MLflow refuses longer values on some servers


def tracking_uri(setting: str, runs_root: Path) -> str:
    """The tracking URI a setting names (``local``: the SQLite store in ``mlruns/`` beside the runs)."""
    if setting != LOCAL:
        return setting
    return "sqlite:///" + (runs_root.resolve().parent / STORE_DIR / "mlflow.db").as_posix()


def run_params(project, config: dict[str, Any]) -> dict[str, str]:
    """The params logged for a run: its training settings and dataset spec, as short strings."""
    params = {"project": project.name, **{f"data.{key}": value for key, value in project.dataset.items()},
              **{key: value for key, value in config.items() if value is not None}}
    return {key: str(value)[:PARAM_CHARS] for key, value in params.items()}


class MlflowTracker:
    """One MLflow run shared by two callbacks: ``Metrics`` (a folder callback) and ``Finish`` (last
    of the run's callbacks, so the model it logs has early stopping's best weights back)."""

    def __init__(self, setting: str, experiment: str | None, project, config: dict[str, Any]) -> None:
        self.setting, self.experiment = setting, experiment or project.name
        self.params = run_params(project, config)
        self.client = self.run_id = self.folder = None
        self.failed = False

    def attach(self, folder: RunFolder) -> Metrics:
        """The folder-callback factory: the tracker learns its run folder."""
        self.folder = folder
        return Metrics(self)

    def call(self, action: str, function, *args, **kwargs) -> None:
        """Run an MLflow call; the first failure is reported once and ends the logging."""
        if self.failed:
            return
        try:
            function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - a tracking server's trouble must never fail training
            self.failed = True
            logger.warning("MLflow: cannot %s: %s", action, exc)
            message = f"MLflow logging stopped: cannot {action} ({str(exc).splitlines()[0][:200]})"
            try:
                self.folder.emit("warning", kind="mlflow", epoch=None, message=message)
            except OSError:
                pass

    def start(self) -> None:
        self.call("start the MLflow run", self._start)

    def _start(self) -> None:
        from mlflow.entities import Param
        from mlflow.tracking import MlflowClient

        from studio.core.fileio import atomic_write_json, loads_json_bounded, read_bytes_capped

        uri = tracking_uri(self.setting, self.folder.path.parent)
        ids = self.folder.path / ID_FILE
        known = loads_json_bounded(read_bytes_capped(ids, 4096)) if ids.is_file() else {}
        self.client = MlflowClient(tracking_uri=uri)
        if isinstance(known, dict) and known.get("tracking_uri") == uri and known.get("run_id"):
            self.run_id = known["run_id"]
            self.client.update_run(self.run_id, status="RUNNING")
            return
        if self.setting == LOCAL:
            Path(uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        experiment = self.client.get_experiment_by_name(self.experiment)
        if experiment is not None:
            experiment_id = experiment.experiment_id
        else:
            artifacts = (Path(uri.removeprefix("sqlite:///")).parent / "artifacts").as_uri() if self.setting == LOCAL else None
            experiment_id = self.client.create_experiment(self.experiment, artifact_location=artifacts)
        run = self.client.create_run(experiment_id, run_name=self.folder.path.name,
                                     tags={"dlstudio.run_folder": str(self.folder.path.resolve())})
        self.run_id = run.info.run_id
        atomic_write_json(ids, {"tracking_uri": uri, "run_id": self.run_id, "experiment_id": experiment_id})
        self.client.log_batch(self.run_id, params=[Param(key, value) for key, value in self.params.items()])

    def log_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        from mlflow.entities import Metric

        stamp = int(time.time() * 1000)
        metrics = [Metric(key, float(value), stamp, epoch) for key, value in logs.items()
                   if isinstance(value, (int, float)) and math.isfinite(value)]
        if self.run_id and metrics:
            self.call("log metrics", self.client.log_batch, self.run_id, metrics=metrics)

    def finish(self, model) -> None:
        if self.run_id:
            self.call("log the model", self._log_model, model)
            self.call("end the MLflow run", self.client.set_terminated, self.run_id, "FINISHED")

    def _log_model(self, model) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            self.client.log_artifact(self.run_id, str(path), artifact_path="model")


class Metrics(Hooks):
    """Starts the MLflow run, then logs each epoch's metrics (steps are epochs, counted from 1)."""

    def __init__(self, tracker: MlflowTracker) -> None:
        self.tracker = tracker

    def on_train_begin(self, logs=None):
        self.tracker.start()

    def on_epoch_end(self, epoch, logs=None):
        self.tracker.log_epoch(epoch + 1, dict(logs or {}))


class Finish(Hooks):
    """Logs the trained model and ends the MLflow run (a stopped run ends FINISHED too)."""

    def __init__(self, tracker: MlflowTracker) -> None:
        self.tracker = tracker

    def on_train_end(self, logs=None):
        self.tracker.finish(self.model)
