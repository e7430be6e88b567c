"""Real runs meeting faults: a graceful stop mid-epoch and a SIGKILL both resume at the next step,
a second resume of a training folder is refused, a changed learning rate reaches the optimizer."""

import json
import os
import signal
import time

import numpy as np
import pytest

from studio.core.graph.templates import load_template
from studio.core.project import default_project
from studio.core.training import Runner, TrainingError, read_events, read_run
from studio.core.training.backup import read_backup
from studio.core.training.engine import train_run
from studio.core.training.plan import plan_run, prepare_run_folder
from studio.core.training.runs import RunFolder

pytestmark = pytest.mark.slow


def _project(**training):
    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = {"source": "digits", "max_samples": 120, "seed": 0}  # 11 steps of 8 per epoch
    project.training = {"epochs": 3, "batch_size": 8, "seed": 3, "grad_norm_every": 0,
                        "backup_every_s": 0, **training}
    return project


def _follow_all(runners, handlers, limit_s=240):
    events = {name: [] for name in runners}
    deadline = time.monotonic() + limit_s
    while not all(runner.finished for runner in runners.values()):
        assert time.monotonic() < deadline, "training did not finish in time"
        for name, runner in runners.items():
            for event in runner.poll():
                events[name].append(event)
                handlers.get(name, lambda event: None)(event)
        time.sleep(0.02)
    return events


def _batches(events):
    return [(event["epoch"], event["step"]) for event in events if event["type"] == "batch"]


def _weights(run_dir):
    import keras

    return keras.models.load_model(run_dir / "model.keras", safe_mode=True, compile=False).get_weights()


def _hold_mid_epoch(runner, act):
    """An event handler that pauses ``runner`` mid-epoch in epoch 2 or later (the child runs
    ahead of the events, so the pause lands where it lands; at an epoch's last step it lets go
    and tries again), then calls ``act(epoch, step)`` while the child is held there."""
    state = {"asked": False, "done": None}

    def handle(event):
        if event["type"] == "start":
            state["steps"] = event["steps_per_epoch"]
        elif event["type"] == "batch" and event["epoch"] >= 2 and not state["asked"]:
            state["asked"] = True
            runner.pause()
        elif event["type"] == "pause" and state["done"] is None:
            if event["step"] == state["steps"]:
                state["asked"] = False
                runner.resume()
            else:
                state["done"] = (event["epoch"], event["step"])
                act(*state["done"])

    return handle, state


def test_stop_mid_epoch_and_sigkill_resume_at_the_next_step(tmp_path):
    stopped = Runner(_project(), tmp_path / "stopped")
    killed = Runner(_project(backup_every_steps=2), tmp_path / "killed")
    for runner in (stopped, killed):
        runner.start()
    on_stopped, held = _hold_mid_epoch(stopped, lambda epoch, step: stopped.stop())
    on_killed, kill = _hold_mid_epoch(killed, lambda epoch, step: os.kill(killed._process.pid, signal.SIGKILL))
    events = _follow_all({"stopped": stopped, "killed": killed}, {"stopped": on_stopped, "killed": on_killed})
    steps = next(e for e in events["stopped"] if e["type"] == "start")["steps_per_epoch"]

    # Graceful stop: the epoch is recorded as partial, not done.
    stop = next(event for event in events["stopped"] if event["type"] == "stop")
    assert (stop["epoch"], stop["step"]) == held["done"] and stop["epoch"] >= 2 and stop["step"] < steps
    partial = [event for event in read_events(stopped.run_dir) if event["type"] == "epoch"][-1]
    assert partial["epoch"] == stop["epoch"] and partial["partial"] is True
    assert read_run(stopped.run_dir)["epochs_done"] == stop["epoch"] - 1

    # SIGKILL: at most backup_every_steps steps since the last backup are lost.
    kill_epoch, kill_step = kill["done"]
    backup = read_backup(RunFolder(killed.run_dir))
    assert backup.epoch == kill_epoch - 1 and kill_step - 2 <= backup.step < kill_step
    assert read_run(killed.run_dir)["status"] == "killed"

    # Resume both; a second resume of a folder that is training is refused, naming the trainer.
    faster = _project(backup_every_steps=2, learning_rate=2e-3)
    resumed = {"stopped": Runner(None, stopped.run_dir, resume=True),
               "killed": Runner(faster, killed.run_dir, resume=True)}
    for runner in resumed.values():
        runner.start()
    with pytest.raises(TrainingError, match=r"being trained by process \d+ on host"):
        Runner(None, killed.run_dir, resume=True).start()
    after = _follow_all(resumed, {})

    starts = {name: next(e for e in after[name] if e["type"] == "start") for name in after}
    # the first report comes after the first execution (steps_per_execution steps, in build.py)
    assert _batches(after["stopped"])[0] == (stop["epoch"], stop["step"] + starts["stopped"]["steps_per_execution"])
    assert _batches(after["killed"])[0] == (kill_epoch, backup.step + starts["killed"]["steps_per_execution"])
    start = starts["killed"]
    assert (starts["stopped"]["from_epoch"], starts["stopped"]["from_step"]) == (stop["epoch"], stop["step"] + 1)
    assert (start["from_epoch"], start["from_step"]) == (kill_epoch, backup.step + 1)
    assert "resumed with learning_rate 0.001 -> 0.002" in start["notes"]
    assert all(event["lr"] == pytest.approx(2e-3) for event in after["killed"] if event["type"] == "batch")
    for name in ("stopped", "killed"):
        run = read_run(resumed[name].run_dir)
        assert run["status"] == "completed" and run["epochs_done"] == 3, name
        assert json.loads((resumed[name].run_dir / "history.json").read_text())["epoch"] == [1, 2, 3]
        assert not (resumed[name].run_dir / "train.lock").exists()

    # Stopping and resuming trained exactly the steps an uninterrupted run trains (trained here: its
    # process is not what is compared).
    reference = prepare_run_folder(plan_run(_project()), tmp_path / "reference")
    assert train_run(reference) == "completed"
    for ours, theirs in zip(_weights(stopped.run_dir), _weights(reference.path)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
