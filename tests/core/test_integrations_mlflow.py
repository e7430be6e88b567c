"""The ``mlflow`` training setting: params, per-epoch metrics and the model in a local store, read
back with MLflow's own client; training itself never imports the feature."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest
from experiments_helpers import tiny_project

from studio.core.integrations import run_hooks
from studio.core.integrations.mlflow_tracking import tracking_uri
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError
from studio.core.training.runs import RunFolder, read_events

pytest.importorskip("mlflow.tracking", reason="the mlflow extra is not installed")

LOGS = [{"loss": 1.5, "val_loss": 1.75, "accuracy": 0.5}, {"loss": 0.75, "val_loss": 1.0, "accuracy": 0.625}]


def tiny_model():
    from studio.core.graph.keras_io import to_keras

    return to_keras(tiny_project().graph)


def train_with_hooks(run_dir, config: TrainingConfig, epochs) -> None:
    """Drive the plugin's callbacks as the engine does: folder callbacks, then the run's last."""
    project = tiny_project()
    addition = run_hooks.extend_run(SimpleNamespace(config=config, project=project))
    (make,), (finish,) = addition.folder_callbacks, addition.callbacks
    folder = RunFolder(run_dir)
    folder.path.mkdir(parents=True, exist_ok=True)
    metrics = make(folder)
    model = tiny_model()
    for callback in (metrics, finish):
        callback.set_model(model)
    metrics.on_train_begin()
    for epoch, logs in epochs:
        metrics.on_epoch_end(epoch, logs)
    finish.on_train_end()


def test_a_run_logs_params_metrics_and_model_to_a_local_store(tmp_path):
    from mlflow.tracking import MlflowClient

    run_dir = tmp_path / "project" / "runs" / "20260101-000000-tiny"
    config = TrainingConfig.from_dict(tiny_project().training).replace(mlflow="local", mlflow_experiment="digits")
    train_with_hooks(run_dir, config, enumerate(LOGS))
    uri = tracking_uri("local", run_dir.parent)
    assert uri == "sqlite:///" + (tmp_path / "project" / "mlruns" / "mlflow.db").resolve().as_posix()
    client = MlflowClient(tracking_uri=uri)
    (run,) = client.search_runs([client.get_experiment_by_name("digits").experiment_id])
    assert run.info.run_name == "20260101-000000-tiny" and run.info.status == "FINISHED"
    assert run.data.params["batch_size"] == "16" and run.data.params["data.source"] == "digits"
    assert run.data.params["mlflow"] == "local" and run.data.params["project"] == "tiny"
    for key in ("loss", "val_loss", "accuracy"):
        history = client.get_metric_history(run.info.run_id, key)
        assert [(m.step, m.value) for m in history] == [(epoch + 1, logs[key]) for epoch, logs in enumerate(LOGS)]
    assert [a.path for a in client.list_artifacts(run.info.run_id, "model")] == ["model/model.keras"]
    local = client.download_artifacts(run.info.run_id, "model/model.keras", str(tmp_path))
    from studio.core.graph.keras_io import load_keras_file

    names = {node.name for node in load_keras_file(local).nodes.values()}
    assert names == {node.name for node in tiny_project().graph.nodes.values()}

    # a resumed run continues the same MLflow run
    train_with_hooks(run_dir, config, [(2, {"loss": 0.5})])
    (again,) = client.search_runs([run.info.experiment_id])
    assert again.info.run_id == run.info.run_id
    assert [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2, 3]


def test_an_unreachable_server_warns_once_and_never_fails_training(tmp_path, monkeypatch):
    run_dir = tmp_path / "runs" / "run"
    config = TrainingConfig(mlflow="http://127.0.0.1:9", mlflow_experiment="x")  # nothing listens on port 9
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    train_with_hooks(run_dir, config, enumerate(LOGS))
    warnings = [event for event in read_events(run_dir) if event["type"] == "warning"]
    assert len(warnings) == 1 and warnings[0]["kind"] == "mlflow"
    assert warnings[0]["message"].startswith("MLflow logging stopped: cannot start the MLflow run")


def test_the_setting_is_off_by_default_and_a_missing_mlflow_is_refused_before_the_run(monkeypatch):
    project = tiny_project()
    assert run_hooks.extend_run(SimpleNamespace(config=TrainingConfig(), project=project)) is None
    run_hooks.check_run(project, TrainingConfig(mlflow="local"))
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    with pytest.raises(TrainingError, match=r'pip install "dl-studio\[mlflow\]"'):
        run_hooks.check_run(project, TrainingConfig(mlflow="local"))
    assert TrainingConfig(mlflow="local").validate() == []


@pytest.mark.slow
def test_a_trained_run_reaches_mlflow_through_the_training_engine(tmp_path):
    """Trained in this process by the engine a training process runs (that a spawned training process gets
    the features' registrations: test_run_hooks's test_the_spawned_training_process_gets_the_same_registrations)."""
    from mlflow.tracking import MlflowClient

    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder

    project = tiny_project()
    project.training = {**project.training, "epochs": 2, "mlflow": "local"}
    assert train_run(prepare_run_folder(plan_run(project), tmp_path / "runs" / "run")) == "completed"
    history = RunFolder(tmp_path / "runs" / "run").info()
    assert history["status"] == "completed" and "logging to MLflow (local)" in history["notes"]
    client = MlflowClient(tracking_uri=tracking_uri("local", tmp_path / "runs"))
    (run,) = client.search_runs([client.get_experiment_by_name("tiny").experiment_id])
    assert run.info.status == "FINISHED" and [m.step for m in client.get_metric_history(run.info.run_id, "loss")] == [1, 2]
    epochs = [event for event in read_events(tmp_path / "runs" / "run") if event["type"] == "epoch"]
    assert client.get_metric_history(run.info.run_id, "loss")[-1].value == pytest.approx(epochs[-1]["logs"]["loss"])
