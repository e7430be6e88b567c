"""The one child-process helper: the environment goes to the child only, output goes to a log, and
no child outlives its parent, however the parent ends."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from studio.core import processes

# A parent that starts its children from a worker thread that then ends (Linux ties
# PR_SET_PDEATHSIG to the starting thread), prints their pids and waits to be killed.
PARENT = textwrap.dedent("""
    import sys, threading, time
    from studio.core import processes

    children = []
    def launch():
        children.append(processes.start(processes.call("time:sleep", [120])))  # as a training run starts
        children.append(processes.start(processes.module("http.server", "0", "--bind", "127.0.0.1"),
                                        log=sys.argv[1]))  # a plain command
        time.sleep(1.0)  # the children are running (and have asked to die with their parent)
    worker = threading.Thread(target=launch)
    worker.start()
    worker.join()
    time.sleep(0.5)
    print(" ".join(str(child.pid) for child in children if child.poll() is None), flush=True)
    time.sleep(120)
""")


def alive(pid: int) -> bool:
    """The process runs (a zombie waiting for its reaper does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return not stat.parent.exists() and sys.platform != "linux"


def wait_until_gone(pids, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    return [pid for pid in pids if alive(pid)]


def test_the_environment_goes_to_the_child_only_and_output_to_its_log(tmp_path):
    log = tmp_path / "child.log"
    before = dict(os.environ)
    child = processes.start(processes.call("studio.core.fileio:atomic_write_text", [str(tmp_path / "seen"), "ok"]),
                            env={"STUDIO_TEST_ONLY_HERE": "1"}, log=log)
    assert child.wait(60) == 0 and (tmp_path / "seen").read_text() == "ok"
    assert dict(os.environ) == before
    done = processes.run(processes.module("studio.core.child_env_probe_missing"), timeout=60)
    assert done.returncode == 1 and "No module named" in done.stderr
    code = "import os, sys; print(os.environ.get('STUDIO_TEST_ONLY_HERE')); print('to stderr', file=sys.stderr)"
    (tmp_path / "show.py").write_text(code)
    child = processes.start(processes.script(tmp_path / "show.py"), env={"STUDIO_TEST_ONLY_HERE": "yes"}, log=log)
    assert child.wait(60) == 0
    assert log.read_text().splitlines() == ["yes", "to stderr"]
    assert "STUDIO_TEST_ONLY_HERE" not in os.environ


def test_a_failing_call_ends_with_one_error_line():
    done = processes.run(processes.call("json:loads", ["{not json"]), timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith("error: Expecting property name")
    assert "Traceback" in done.stderr


def test_a_child_ends_when_its_parent_drops_it():
    child = processes.start(processes.call("time:sleep", [120]))
    pid = child.pid
    time.sleep(0.5)
    assert alive(pid)
    child.stdin.close()  # what the system does with a dead parent's pipe end: the watchdog's cue
    assert child.wait(10) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_no_child_outlives_a_parent_killed_with_sigkill(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[2]),
                                                                       os.environ.get("PYTHONPATH")]))}
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path / "server.log")], stdout=subprocess.PIPE,
                              text=True, env=env)
    try:
        pids = [int(pid) for pid in parent.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(pid) for pid in pids)  # they outlived the thread that started them
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_until_gone(pids, 5.0) == []
    finally:
        parent.kill()
        for pid in pids if "pids" in locals() else []:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_call_returns_its_value_through_a_file(tmp_path):
    result = tmp_path / "result.json"
    done = processes.run(processes.call("os.path:split", ["/a/b"], result=result), timeout=60)
    assert done.returncode == 0 and json.loads(result.read_text()) == ["/a", "b"]


def test_a_server_answers_many_calls_in_one_child_and_raises_what_its_function_raises(tmp_path):
    server = processes.Server("json:loads", log=tmp_path / "server.log")
    try:
        assert server.call("[1, 2]") == [1, 2] and server.call('{"a": null}') == {"a": None}
        pid = server._process.pid
        with pytest.raises(json.JSONDecodeError):
            server.call("{not json")
        assert server.call("3") == 3 and server._process.pid == pid  # the same child throughout
        server._process.kill()
        server._process.wait()
        assert server.call("4") == 4  # a dead child is started again at the next call
    finally:
        server.close()
    assert not alive(pid)


TRAINING_PARENT = textwrap.dedent("""
    import sys, time
    from experiments_helpers import tiny_project
    from studio.core.training import Runner, RunWatcher, read_run

    project = tiny_project()
    project.training = {**project.training, "epochs": 10000}
    runner = Runner(project, sys.argv[1])
    runner.start()
    watcher = RunWatcher.for_runner(runner)
    while watcher.state != "running" or watcher.stage is not None:
        watcher.poll(timeout=0.2)
    print(read_run(sys.argv[1])["pid"], flush=True)
    time.sleep(120)
""")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_training_process_ends_with_the_program_that_started_it(tmp_path):
    """What ``kill -9`` of ``studio sweep`` or of the app does to the run it was training."""
    script = tmp_path / "parent.py"
    script.write_text(TRAINING_PARENT)
    tests, root = Path(__file__).parent, Path(__file__).parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), str(tests),
                                                                       os.environ.get("PYTHONPATH")]))}
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path / "run")], stdout=subprocess.PIPE,
                              text=True, env=env)
    trainer = None
    try:
        trainer = int(parent.stdout.readline())
        assert alive(trainer)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        assert wait_until_gone([trainer], 5.0) == []
    finally:
        parent.kill()
        if trainer and alive(trainer):
            os.kill(trainer, signal.SIGKILL)


def test_only_the_helper_starts_processes():
    """Every child goes through studio.core.processes (so every child dies with its parent)."""
    import re

    starts = re.compile(r"\bsubprocess\.(run|Popen|call|check_call|check_output)\(|\bmultiprocessing\b|"
                        r"ProcessPoolExecutor|\bos\.(system|spawn\w*|fork\w*|exec\w*|posix_spawn\w*)\(")
    root = Path(__file__).parents[2] / "studio"
    found = [f"{path.relative_to(root)}:{number}" for path in sorted(root.rglob("*.py"))
             if path.name not in ("processes.py", "child.py")
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if starts.search(line)]
    assert found == []
