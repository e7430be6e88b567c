"""One trainer per run folder: the lock is exclusive, names its holder, and stale locks are taken over."""

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time

import pytest

from studio.cli import main
from studio.core.training import RunFolder, TrainingError, read_run
from studio.core.training.lock import LOCK_FILE, WRITE_GRACE_S, acquire, adopt, read_lock, release


def _dead_pid() -> int:
    process = multiprocessing.get_context("spawn").Process(target=os.getpid)
    process.start()
    process.join()
    return process.pid


@pytest.fixture
def sleeper():
    """A live process that is not this one (another trainer)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield process.pid
    process.kill()
    process.wait()


def _hold(run_dir, pid, host=None):
    (run_dir / LOCK_FILE).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(),
                                                 "started": time.time()}))


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path, sleeper):
    acquire(tmp_path, sleeper)
    holder = read_lock(tmp_path)
    assert holder["pid"] == sleeper and holder["host"] == socket.gethostname()
    assert abs(holder["started"] - time.time()) < 60
    with pytest.raises(TrainingError, match=f"being trained by process {sleeper} on host {socket.gethostname()}"):
        acquire(tmp_path)
    release(tmp_path)  # not ours: stays
    assert read_lock(tmp_path)["pid"] == sleeper
    release(tmp_path, sleeper)
    assert read_lock(tmp_path) is None
    acquire(tmp_path)
    assert read_lock(tmp_path)["pid"] == os.getpid()


def test_stale_locks_are_taken_over_and_foreign_hosts_are_refused(tmp_path):
    _hold(tmp_path, _dead_pid())
    acquire(tmp_path)
    assert read_lock(tmp_path)["pid"] == os.getpid()
    assert sorted(p.name for p in tmp_path.iterdir()) == [LOCK_FILE]  # nothing left aside

    _hold(tmp_path, _dead_pid(), host="another-machine")  # cannot be checked from here
    with pytest.raises(TrainingError, match="another-machine.*delete .*train.lock"):
        acquire(tmp_path)


def test_a_half_written_lock_is_held_briefly_then_stale(tmp_path):
    (tmp_path / LOCK_FILE).write_text("")
    with pytest.raises(TrainingError, match="being trained"):
        acquire(tmp_path)
    old = time.time() - WRITE_GRACE_S - 1
    os.utime(tmp_path / LOCK_FILE, (old, old))
    acquire(tmp_path)
    assert read_lock(tmp_path)["pid"] == os.getpid()


def test_the_training_process_adopts_its_launchers_lock(tmp_path, sleeper):
    acquire(tmp_path, os.getppid())  # taken by the program that started "this" training process
    adopt(tmp_path)
    assert read_lock(tmp_path)["pid"] == os.getpid()
    release(tmp_path)
    _hold(tmp_path, sleeper)
    with pytest.raises(TrainingError, match=f"process {sleeper}"):
        adopt(tmp_path)


def test_resume_while_another_process_trains_is_refused_with_one_line(tmp_path, sleeper, capsys):
    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.update_info(status="running", pid=sleeper, host=socket.gethostname(), config={}, resumes=0)
    _hold(folder.path, sleeper)
    before = folder.run_json.read_text()
    assert main(["train", "--resume", str(folder.path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"being trained by process {sleeper}" in err
    assert folder.run_json.read_text() == before and read_run(folder.path)["status"] == "running"


def test_resume_of_a_missing_folder_says_so(tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path / "nope")]) == 2
    assert "no run folder at" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path / "nope"), "--epochs", "3"]) == 2
    assert "cannot resume" in capsys.readouterr().err
    assert main(["train", "--resume", str(tmp_path)]) == 2  # a folder, but not a run
    assert "not a run folder" in capsys.readouterr().err
    assert not (tmp_path / LOCK_FILE).exists()  # a refused start leaves no lock behind
