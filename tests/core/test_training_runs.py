"""Run folders without training: events log, crash detection, listing, deletion, failures."""

import errno
import json
import multiprocessing
import os

import pytest

from studio.core.training import EventTail, RunFolder, TrainingError, delete_run, read_events, read_run
from studio.core.training.errors import describe_failure
from studio.core.training.runs import new_run_dir, read_control, send_control


def _dead_pid() -> int:
    process = multiprocessing.get_context("spawn").Process(target=os.getpid)
    process.start()
    process.join()
    return process.pid


def test_events_survive_a_truncated_last_line(tmp_path):
    folder = RunFolder(tmp_path)
    folder.emit("start", epochs=2)
    folder.emit("epoch", epoch=1, logs={"loss": 0.5})
    with open(folder.events_file, "a") as handle:
        handle.write('{"type": "batch", "epo')  # the process died mid-write
    events = read_events(tmp_path)
    assert [event["type"] for event in events] == ["start", "epoch"]
    assert events[1]["logs"] == {"loss": 0.5} and events[0]["time"] <= events[1]["time"]


def test_event_tail_returns_only_complete_new_lines(tmp_path):
    folder = RunFolder(tmp_path)
    tail = EventTail(tmp_path)
    assert tail.read() == []
    folder.emit("start")
    with open(folder.events_file, "a") as handle:
        handle.write('{"type": "epoch", "epoch": 1')
    assert [event["type"] for event in tail.read()] == ["start"]
    with open(folder.events_file, "a") as handle:
        handle.write(', "time": 1}\n')
    assert tail.read() == [{"type": "epoch", "epoch": 1, "time": 1}]
    assert tail.read() == []


def test_read_run_marks_a_dead_running_process_crashed(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.update_info(status="running", pid=_dead_pid(), created=1.0)
    folder.emit("epoch", epoch=1, logs={"loss": 1.0})
    run = read_run(folder.path)
    assert run["status"] == "crashed"
    assert run["epochs_done"] == 1 and run["last_epoch"]["logs"] == {"loss": 1.0}
    folder.update_info(status="running", pid=os.getpid())
    assert read_run(folder.path)["status"] == "running"
    with pytest.raises(TrainingError, match="still training"):
        delete_run(folder.path)


def test_a_run_whose_launcher_died_while_starting_is_crashed(tmp_path):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.update_info(status="starting", launcher=os.getpid(), created=1.0)
    assert read_run(folder.path)["status"] == "starting"
    folder.update_info(launcher=_dead_pid())
    assert read_run(folder.path)["status"] == "crashed"


def test_new_run_folders_and_deleting_runs(tmp_path):
    first = RunFolder(new_run_dir(tmp_path, "a b/c"))
    first.path.mkdir()
    first.update_info(status="completed", created=1.0)
    second = RunFolder(new_run_dir(tmp_path, "a b/c"))
    assert second.path != first.path and "/" not in second.path.name[16:]
    second.path.mkdir()
    second.update_info(status="failed", created=2.0)
    (tmp_path / "not-a-run").mkdir()
    assert [read_run(run.path)["status"] for run in (first, second)] == ["completed", "failed"]
    delete_run(first.path)
    assert not first.path.exists()
    with pytest.raises(TrainingError, match="not a run folder"):
        delete_run(tmp_path / "not-a-run")
    assert (tmp_path / "not-a-run").exists()


def test_control_file(tmp_path):
    assert read_control(tmp_path) == "run"
    send_control(tmp_path, "pause")
    assert read_control(tmp_path) == "pause"
    with pytest.raises(ValueError, match="unknown control command"):
        send_control(tmp_path, "faster")


def test_failures_get_clear_messages():
    import tensorflow as tf

    kind, message = describe_failure(tf.errors.ResourceExhaustedError(None, None, "OOM when allocating"), 256)
    assert kind == "oom" and "batch size 128" in message
    kind, message = describe_failure(OSError(errno.ENOSPC, "No space left on device", "/x/last.keras"), 32)
    assert kind == "disk_full" and "/x/last.keras" in message
    kind, message = describe_failure(PermissionError(errno.EACCES, "Permission denied", "/ro"), 32)
    assert kind == "unwritable"
    assert describe_failure(TrainingError("bad"), 32) == ("config", "bad")
    assert describe_failure(ValueError("odd"), 32) == ("internal", "ValueError: odd")


def test_run_json_is_plain_json(tmp_path):
    folder = RunFolder(tmp_path)
    folder.update_info(status="starting")
    folder.update_info(pid=3)
    assert json.loads(folder.run_json.read_text()) == {"status": "starting", "pid": 3}


def test_atomic_copy_keeps_the_copy_when_the_source_is_replaced(tmp_path):
    from studio.core import fileio

    source, copy = tmp_path / "last.keras", tmp_path / "best.keras"
    fileio.atomic_write_text(source, "epoch 1")
    fileio.atomic_copy(source, copy)
    fileio.atomic_write_text(source, "epoch 2")
    assert copy.read_text() == "epoch 1" and source.read_text() == "epoch 2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", "last.keras"]
