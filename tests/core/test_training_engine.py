"""Real training runs in child processes: events, files, reproducibility, CLI, two devices,
pause/stop, kill + resume (NaN in this process). Runs that do not depend on each other train at
the same time."""

import json
import os
import signal
import threading
import time

import pytest

from studio.core.graph.templates import load_template
from studio.core.project import default_project, load_project, save_project
from studio.core.training import Runner, TrainingError, read_events, read_run

pytestmark = pytest.mark.slow  # every test here trains in child processes

DIGITS = {"source": "digits", "max_samples": 60, "seed": 0}


def _project(**training):
    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = dict(DIGITS)
    project.training = {"epochs": 2, "batch_size": 8, "seed": 3, **training}
    return project


def _follow_all(runners, handlers=None, limit_s=240):  # generous: other tests share the cores
    """Poll several runners until all end; stamp each event with its arrival time."""
    events = {name: [] for name in runners}
    deadline = time.monotonic() + limit_s
    while not all(runner.finished for runner in runners.values()):
        assert time.monotonic() < deadline, "training did not finish in time"
        for name, runner in runners.items():
            for event in runner.poll():
                event["received"] = time.time()
                events[name].append(event)
                (handlers or {}).get(name, lambda event: None)(event)
        time.sleep(0.02)
    return events


def _follow(runner, on_event=None):
    return _follow_all({"run": runner}, {"run": on_event} if on_event else None)["run"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three runs trained side by side: a reference (paused and resumed once on the way), the same
    via the CLI, and one on two devices stopped after its first epoch."""
    from studio.cli import main

    root = tmp_path_factory.mktemp("runs")
    reference = _project(grad_norm_every=2, metrics=["accuracy", "precision", "top_k"], top_k=3)
    runners = {
        "reference": Runner(reference, root / "reference"),
        "two": Runner(_project(devices="cpu:2", epochs=50), root / "two"),
    }
    for runner in runners.values():
        runner.start()
    save_project(reference, root / "same.dlstudio")
    cli = {}
    thread = threading.Thread(target=lambda: cli.update(
        code=main(["train", str(root / "same.dlstudio"), "--run-dir", str(root / "cli")])))
    thread.start()
    reference_runner, two_runner = runners["reference"], runners["two"]
    reference_runner.paused_once = False

    def pause_once(event):
        if event["type"] == "batch" and event["epoch"] == 1 and not reference_runner.paused_once:
            reference_runner.paused_once = True  # the first report (steps_per_execution: maybe step 2)
            reference_runner.pause()  # lands at the end of the next execution
        elif event["type"] == "pause":
            time.sleep(0.5)
            event["batches_while_paused"] = [e for e in reference_runner.poll() if e["type"] == "batch"]
            reference_runner.resume()

    def stop_after_first_epoch(event):
        if event["type"] == "epoch":
            two_runner.stop()

    events = _follow_all(runners, {"reference": pause_once, "two": stop_after_first_epoch})
    thread.join(60)
    cli_code = cli.get("code")
    return {"root": root, "runners": runners, "events": events, "cli_code": cli_code}


def test_a_run_writes_its_folder_and_events(runs):
    run_dir = runs["runners"]["reference"].run_dir
    events = runs["events"]["reference"]
    kinds = [event["type"] for event in events]
    assert kinds[-1] == "end" and events[-1]["status"] == "completed"
    # each start-up stage, in order, before the first batch (Keras compiles the step in that batch)
    startup = [event.get("stage", event["type"]) for event in events[:kinds.index("batch")]]
    assert startup == ["loading_backend", "loading_data", "building", "start", "compiling"]
    for kind in ("batch", "epoch", "grad_norms", "weights_hist"):
        assert kind in kinds
    epochs = [event for event in events if event["type"] == "epoch"]
    assert [event["epoch"] for event in epochs] == [1, 2]
    assert {"loss", "accuracy", "precision", "top_3", "val_loss", "val_accuracy"} <= set(epochs[0]["logs"])
    for event in epochs:  # the epoch event reaches the caller quickly (generous bound for a busy CI)
        assert event["received"] - event["time"] < 2.0
    batch = next(event for event in events if event["type"] == "batch")
    assert batch["samples_per_s"] > 0 and batch["eta_s"] >= 0 and batch["lr"] == pytest.approx(1e-3)
    norms = next(event for event in events if event["type"] == "grad_norms")
    assert set(norms["norms"]) >= {"conv1", "predictions"} and all(v >= 0 for v in norms["norms"].values())
    hist = next(event for event in events if event["type"] == "weights_hist")
    counts, edges = hist["layers"]["predictions"]["weights"]
    assert len(edges) == len(counts) + 1 and sum(counts) > 0 and "grads" in hist["layers"]["conv1"]

    run = read_run(run_dir)
    assert run["status"] == "completed" and run["epochs_done"] == 2
    assert run["compile_mode"] == "graph" and run["device"]["kind"] == "cpu"
    assert run["steps_per_execution"] == 5  # an epoch of 5 steps in one call
    assert set(run["versions"]) == {"python", "keras", "tensorflow", "numpy"}
    assert run["dataset"]["fingerprint"] and run["best"]["monitor"] == "val_loss"
    for name in ("project.dlstudio", "model.keras", "history.json", "checkpoints/best.keras",
                 "checkpoints/last.keras"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "backup").exists()  # only kept while the run can be resumed
    history = json.loads((run_dir / "history.json").read_text())
    assert history["epoch"] == [1, 2] and len(history["val_loss"]) == 2
    assert load_project(run_dir / "project.dlstudio").training["grad_norm_every"] == 2

    import keras

    # built-in metrics only: the model loads with its compile settings in a plain Keras session
    model = keras.models.load_model(run_dir / "model.keras", safe_mode=True)
    assert model.get_layer("predictions").units == 10


def test_same_seed_same_first_epoch_loss_and_cli(runs):
    assert runs["cli_code"] == 0
    first = [event for event in runs["events"]["reference"] if event["type"] == "epoch"][0]
    cli = [event for event in read_events(runs["root"] / "cli") if event["type"] == "epoch"][0]
    assert abs(first["logs"]["loss"] - cli["logs"]["loss"]) <= 1e-6
    assert read_run(runs["root"] / "cli")["status"] == "completed"


def test_nan_loss_stops_the_run_naming_epoch_and_step(tmp_path):
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder

    # in this process: what it tests is the engine's, not the child's (those the runs above test)
    folder = prepare_run_folder(plan_run(_project(optimizer="sgd", learning_rate=1e6)), tmp_path / "nan")
    assert train_run(folder) == "failed"
    error = next(event for event in read_events(folder.path) if event["type"] == "error")
    assert error["kind"] == "nan" and f"epoch {error['epoch']}, step {error['step']}" in error["message"]
    run = read_run(folder.path)
    assert run["status"] == "failed" and run["error"]["kind"] == "nan"
    assert not (folder.path / "model.keras").exists()


def test_pause_and_resume(runs):
    events = runs["events"]["reference"]
    kinds = [event["type"] for event in events]
    assert kinds.count("pause") == 1 and kinds.index("pause") < kinds.index("resume")
    pause = events[kinds.index("pause")]
    assert pause["epoch"] in (1, 2) and pause["step"] >= 1
    assert pause["batches_while_paused"] == []  # nothing moves while paused


def test_two_logical_cpu_devices_and_graceful_stop(runs):
    run_dir = runs["runners"]["two"].run_dir
    run = read_run(run_dir)
    assert run["device"]["replicas"] == 2 and run["device"]["strategy"] == "MirroredStrategy"
    assert run["status"] == "stopped" and run["stop_reason"] == "user"
    assert 1 <= run["epochs_done"] < 50
    stop = next(event for event in runs["events"]["two"] if event["type"] == "stop")
    assert stop["reason"] == "user" and stop["epoch"] <= 3
    assert (run_dir / "checkpoints" / "last.keras").is_file() and (run_dir / "model.keras").is_file()
    assert (run_dir / "backup" / "training_metadata.json").is_file()  # a stopped run can be resumed


@pytest.mark.parametrize("stop_at", ["planning", "spawn", "building"])
def test_stop_during_start_up_ends_the_run_as_stopped_before_training(tmp_path, monkeypatch, stop_at):
    """Stop asked before the run folder exists (kept by the Runner), before the process runs, or
    while it builds the model: no batch, status stopped."""
    project = _project()
    runner = Runner(project, tmp_path / "run")
    if stop_at in ("planning", "spawn"):
        if stop_at == "planning":
            runner.stop()
        runner.start()
        if stop_at == "spawn":
            runner.stop()
        events = _follow(runner)
    else:
        from studio.core.training import engine
        from studio.core.training.plan import plan_run, prepare_run_folder
        from studio.core.training.runs import RunFolder, send_control

        prepare_run_folder(plan_run(project), runner.run_dir)
        emit = RunFolder.emit

        def emit_then_stop(folder, kind, **fields):
            if fields.get("stage") == "building":
                send_control(folder.path, "stop")
            return emit(folder, kind, **fields)

        monkeypatch.setattr(RunFolder, "emit", emit_then_stop)
        assert engine.train_run(RunFolder(runner.run_dir)) == "stopped"
        events = read_events(runner.run_dir)
    kinds = [event["type"] for event in events]
    assert "batch" not in kinds and kinds[-2:] == ["stop", "end"] and events[-1]["status"] == "stopped"
    assert events[-2]["reason"] == "user" and events[-2]["epoch"] == 0
    stages = [event["stage"] for event in events if event["type"] == "stage"]
    assert stages == ([] if stop_at != "building" else ["loading_backend", "loading_data", "building"])
    run = read_run(runner.run_dir)
    assert run["status"] == "stopped" and run["stop_reason"] == "user" and run["epochs_done"] == 0
    assert not (runner.run_dir / "model.keras").exists()


def test_sigkill_mid_epoch_then_resume(tmp_path):
    project = _project(epochs=3, grad_norm_every=0)
    project.dataset["max_samples"] = 120
    runner = Runner(project, tmp_path / "run")
    runner.start()
    killed = {}

    def kill_in_epoch_two(event):
        if event["type"] == "epoch" and event["epoch"] == 1:
            runner.pause()  # hold the child inside epoch 2 so the kill lands mid-epoch
        if event["type"] == "pause" and not killed:
            killed.update(epoch=event["epoch"], step=event["step"])
            os.kill(runner._process.pid, signal.SIGKILL)

    events = _follow(runner, kill_in_epoch_two)
    start = next(event for event in events if event["type"] == "start")
    assert killed["epoch"] == 2 and killed["step"] < start["steps_per_epoch"]
    assert events[-1] == {**events[-1], "type": "end", "status": "killed"}
    assert read_run(tmp_path / "run")["status"] == "killed"

    resumed = Runner(None, tmp_path / "run", resume=True)
    resumed.start()
    events = _follow(resumed)
    start = next(event for event in events if event["type"] == "start")
    assert start["resumed"] is True and events[0]["type"] == "stage"
    assert [event["epoch"] for event in events if event["type"] == "epoch"] == [2, 3]
    run = read_run(tmp_path / "run")
    assert run["status"] == "completed" and run["resumes"] == 1
    assert json.loads((tmp_path / "run" / "history.json").read_text())["epoch"] == [1, 2, 3]
    with pytest.raises(TrainingError, match="already completed"):
        Runner(None, tmp_path / "run", resume=True).start()


def test_steps_per_execution_divides_the_epoch_and_the_step_backups():
    from studio.core.training.build import MAX_STEPS_PER_EXECUTION, steps_per_execution
    from studio.core.training.config import TrainingConfig

    def count(backend="jax", steps=40, replicas=1, **fields):
        return steps_per_execution(TrainingConfig.from_dict(fields), backend, steps, replicas)

    assert count(grad_norm_every=50) == MAX_STEPS_PER_EXECUTION
    assert count(backup_every_steps=4) == 4 and count(backup_every_steps=6) == 2
    assert count(steps=42) == 7 and count(steps=5) == 5 and count(steps=41) == 1
    assert count("torch") == 1 and count("tensorflow", replicas=2) == 1
