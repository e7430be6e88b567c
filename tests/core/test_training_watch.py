"""RunWatcher: the run state machine fed by a (fake) runner's event stream or by a run folder,
liveness with a real dead process, controls, and the statuses it shares with read_run."""

import multiprocessing
import os
import socket

from studio.core.training import RunFolder, RunWatcher, read_run
from studio.core.training.runs import default_runs_root, read_control, run_status
from studio.core.training.watch import STAGES


def dead_pid() -> int:
    process = multiprocessing.get_context("spawn").Process(target=os.getpid)
    process.start()
    process.join()
    return process.pid


class FakeRunner:
    """What RunWatcher uses of a Runner: poll, the controls, kill, exitcode and run_dir."""

    def __init__(self, run_dir, batches):
        self.run_dir, self.batches, self.exitcode = run_dir, list(batches), None
        self.stop_requested = False
        self.calls = []

    def poll(self):
        return self.batches.pop(0) if self.batches else []

    def stop(self):
        self.calls.append("stop")

    def pause(self):
        self.calls.append("pause")

    def resume(self):
        self.calls.append("run")

    def kill(self):
        self.calls.append("kill")
        self.exitcode = -9
        self.batches.append([{"type": "end", "status": "killed"}])


def event(event_type, **fields):
    return {"type": event_type, "time": 0.0, **fields}


def test_states_follow_the_event_stream(tmp_path):
    batches = [[], [event("start", epochs=3)], [event("batch", epoch=1, step=1)],
               [event("pause", epoch=1, step=2)], [event("batch", epoch=1, step=2)], [event("resume", epoch=1, step=2)],
               [event("stop", reason="user", epoch=1)],
               [event("error", kind="nan", message="the loss became NaN"), event("end", status="failed")]]
    everything = [e for batch in batches for e in batch]
    watcher = RunWatcher.for_runner(FakeRunner(tmp_path, batches))
    seen, delivered = [], []
    for _ in range(len(batches) + 1):
        delivered += watcher.poll()
        seen.append(watcher.state)
    assert delivered == everything
    assert seen == ["starting", "running", "running", "paused", "paused", "running", "stopping", "failed", "failed"]
    assert watcher.start["epochs"] == 3 and watcher.error["kind"] == "nan"
    assert watcher.ended and not watcher.live and not watcher.can_kill
    assert watcher.poll() == []  # an ended run yields nothing more


def test_controls_show_the_request_and_reach_the_runner(tmp_path):
    runner = FakeRunner(tmp_path, [[event("start", epochs=1)]])
    watcher = RunWatcher.for_runner(runner)
    watcher.poll()
    watcher.control("pause")
    assert watcher.state == "paused" and runner.calls == ["pause"]
    watcher.control("run")
    watcher.control("stop")
    assert watcher.state == "stopping" and runner.calls == ["pause", "run", "stop"]
    assert watcher.can_kill
    watcher.kill()
    watcher.poll()
    assert watcher.state == "killed" and watcher.killed_by_user and watcher.exit_code == -9
    watcher.control("run")  # nothing to control once ended
    assert runner.calls[-1] == "kill"


def test_an_unknown_end_status_is_a_crash(tmp_path):
    watcher = RunWatcher.for_runner(FakeRunner(tmp_path, [[event("end")]]))
    watcher.poll()
    assert watcher.state == "crashed"


def test_a_folder_fed_watcher_replays_and_follows_a_run(tmp_path):
    folder = RunFolder(tmp_path)
    folder.update_info(status="running", pid=os.getpid(), host=socket.gethostname())
    folder.emit("start", epochs=2)
    folder.emit("epoch", epoch=1, logs={"loss": 1.0})
    watcher = RunWatcher.for_folder(tmp_path, liveness_s=0)
    assert [e["type"] for e in watcher.poll()] == ["start", "epoch"] and watcher.state == "running"
    assert watcher.poll() == [] and watcher.state == "running"  # this process lives: still running
    watcher.control("stop")
    assert read_control(tmp_path) == "stop" and watcher.state == "stopping" and not watcher.can_kill
    folder.update_info(status="stopped")
    folder.emit("end", status="stopped")
    assert [e["type"] for e in watcher.poll()] == ["end"] and watcher.state == "stopped"


def test_a_dead_process_ends_a_folder_run_as_crashed(tmp_path):
    folder = RunFolder(tmp_path)
    folder.update_info(status="running", pid=dead_pid(), host=socket.gethostname())
    folder.emit("start", epochs=2)
    watcher = RunWatcher.for_folder(tmp_path, liveness_s=0)
    watcher.poll()
    assert watcher.state == "running"
    ends = watcher.poll()
    assert ends[-1]["type"] == "end" and ends[-1]["status"] == "crashed" and watcher.state == "crashed"
    assert folder.info()["status"] == "running"  # watching never rewrites the run
    assert read_run(tmp_path)["status"] == "crashed"  # the same verdict as read_run


def test_liveness_is_checked_at_most_every_interval(tmp_path):
    folder = RunFolder(tmp_path)
    folder.update_info(status="running", pid=os.getpid(), host=socket.gethostname())
    watcher = RunWatcher.for_folder(tmp_path, liveness_s=3600)
    assert watcher.poll() == [] and watcher.state == "starting"  # checked at once: alive, no events yet
    folder.update_info(pid=dead_pid())
    assert watcher.poll() == [] and watcher.state == "starting"  # not checked again within the hour
    assert RunWatcher.for_folder(tmp_path).poll()[-1]["status"] == "crashed"  # a fresh watcher checks


def test_run_status_rules(tmp_path):
    here, gone = socket.gethostname(), dead_pid()
    assert run_status({"status": "running", "pid": os.getpid(), "host": here}) == "running"
    assert run_status({"status": "paused", "pid": gone, "host": here}) == "crashed"
    assert run_status({"status": "running", "pid": gone, "host": "another-machine"}) == "running"
    assert run_status({"status": "starting", "launcher": gone, "host": here}) == "crashed"
    assert run_status({"status": "starting", "launcher": os.getpid(), "host": here}) == "starting"
    assert run_status({"status": "completed", "pid": gone, "host": here}) == "completed"
    assert run_status({}, "unknown") == "unknown"


def test_default_runs_root(tmp_path):
    assert default_runs_root(tmp_path / "a.dlstudio") == tmp_path / "runs"
    assert str(default_runs_root(None)) == "runs"
    assert default_runs_root(None, tmp_path / "app") == tmp_path / "app"


def test_the_start_up_stage_is_kept_until_the_first_batch(tmp_path):
    batches = [[event("stage", stage="loading_backend")], [event("stage", stage="loading_data")],
               [event("start", epochs=1), event("stage", stage="compiling")], [event("batch", epoch=1, step=1)]]
    watcher = RunWatcher.for_runner(FakeRunner(tmp_path, batches))
    seen = []
    for _ in batches:
        watcher.poll()
        seen.append((watcher.state, watcher.stage))
    assert seen == [("starting", "loading_backend"), ("starting", "loading_data"),
                    ("running", "compiling"), ("running", None)]
    assert list(STAGES) == ["loading_backend", "loading_data", "building", "compiling"]


def test_stop_is_accepted_while_the_run_starts(tmp_path):
    runner = FakeRunner(tmp_path, [[event("stage", stage="loading_data")],
                                   [event("stop", reason="user", epoch=0, step=0), event("end", status="stopped")]])
    watcher = RunWatcher.for_runner(runner)
    watcher.poll()
    watcher.control("stop")
    assert runner.calls == ["stop"] and watcher.state == "stopping"
    watcher.poll()
    assert watcher.state == "stopped" and watcher.stage == "loading_data"  # ended before any batch


def test_a_stop_asked_before_the_run_folder_exists_is_kept_and_sent_by_the_runner(tmp_path, monkeypatch):
    """Stop pressed while a run is still being planned (on a worker thread) reaches the process."""
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project
    from studio.core.training import Runner, lock

    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = {"source": "digits", "max_samples": 60, "seed": 0}
    controls = []
    monkeypatch.setattr(Runner, "_spawn", lambda self: controls.append(read_control(self.run_dir)))
    runner = Runner(project, tmp_path / "run")
    runner.stop()
    assert not (tmp_path / "run").exists() and RunWatcher.for_runner(runner).state == "stopping"
    runner.start()
    assert controls == ["stop"]  # in place before the training process starts: it ends before any batch

    lock.release(tmp_path / "run")  # the training process would have, at its end
    RunFolder(tmp_path / "run").update_info(status="stopped")
    again = Runner(None, tmp_path / "run", resume=True)
    again.stop()
    again.start()  # reopening the folder resets its control to "run"; the kept stop comes after
    assert controls == ["stop", "stop"]
