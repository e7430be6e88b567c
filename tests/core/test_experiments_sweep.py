"""Real sweeps and variants on a tiny project (digits 8x8, 1 epoch): a resumed study (a trial left
running by a dead sweep is requeued, nothing repeated), a NaN trial recorded as failed while the
sweep goes on, the best trial as a project, and two worker processes sharing a PostgreSQL study."""

import os
import socket
import subprocess
import sys
import tempfile

import pytest

from experiments_helpers import save_tiny, tiny_project
from studio.cli import main
from studio.core.experiments.curve_cache import CURVES_FILE
from studio.core.experiments.space import parse_space
from studio.core.experiments.summary import SUMMARY_FILE
from studio.core.experiments.sweep import Sweep, SweepSettings, counted_trials, load_study
from studio.core.project import load_project

pytestmark = pytest.mark.slow
DEAD_PID = 2**22 + 4321


def test_resumed_sweep_requeues_interrupted_trial_and_survives_a_failed_one(tmp_path, capsys):
    import optuna
    from optuna.trial import TrialState

    path = save_tiny(tmp_path / "tiny.dlstudio")
    if os.environ.get("CUDA_VISIBLE_DEVICES") != "-1":
        pytest.skip("needs a machine where a GPU run fails (tests hide GPUs unless STUDIO_TEST_GPU is set)")
    project = tiny_project()
    dims = parse_space({"devices": {"choices": ["cpu", "gpu"]}}, project)
    settings = SweepSettings(trials=2, sampler="random", workers=1)  # the retry and the GPU trial: no third
    sweep = Sweep(project, dims, settings, path)

    # A sweep killed mid-trial leaves that trial RUNNING, owned by a process that is gone.
    study = sweep.open_study()
    study.enqueue_trial({"devices": "cpu"})
    left = study.ask({"devices": optuna.distributions.CategoricalDistribution(["cpu", "gpu"])})
    left.set_user_attr("host", socket.gethostname())
    left.set_user_attr("pid", DEAD_PID)
    study.enqueue_trial({"devices": "gpu"})  # no GPU here: the run fails, the sweep goes on

    study = sweep.run()
    trials = study.get_trials()
    by_number = {t.number: t for t in trials}
    assert by_number[left.number].state == TrialState.FAIL
    retry = next(t for t in trials if t.user_attrs.get("retry_of") == left.number)
    assert retry.state == TrialState.COMPLETE and retry.params == by_number[left.number].params
    failed = next(t for t in trials if t.params == {"devices": "gpu"})
    assert failed.state == TrialState.FAIL and "no GPU found" in failed.user_attrs["error"]
    assert counted_trials(trials) == 2 and len(trials) == 3
    for trial in trials:
        if trial.state == TrialState.COMPLETE:
            run = trial.user_attrs["run"]
            assert os.path.exists(os.path.join(run, SUMMARY_FILE)), "the engine's store hook wrote it"
            assert os.path.exists(os.path.join(run, CURVES_FILE))

    assert len(Sweep(project, dims, settings, path).run().get_trials()) == 3  # resumed: nothing repeated

    best_file = tmp_path / "best.dlstudio"
    assert main(["sweep", "best", str(path), "-o", str(best_file)]) == 0
    assert load_project(best_file).training["devices"] == "cpu"
    assert main(["runs", str(tmp_path / "runs"), "--filter", "tags=sweep:tiny", "--columns", "name,status"]) == 0
    out = capsys.readouterr().out
    assert out.count("completed") == sum(t.state == TrialState.COMPLETE for t in trials) and "failed" in out


def test_variants_command_trains_each_and_prints_the_table(tmp_path, capsys):
    path = save_tiny(tmp_path / "tiny.dlstudio")
    assert main(["variants", str(path), "--vary", "activation=relu,tanh", "--runs-dir", str(tmp_path / "r")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["name", "status"] and "val_loss" in out[0]
    assert len(out) == 3 and all("completed" in line for line in out[1:])
    assert any("activation-relu" in line for line in out) and any("activation-tanh" in line for line in out)


@pytest.fixture
def postgres_url():
    url = os.environ.get("STUDIO_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    sys.path.insert(0, os.path.dirname(__file__))
    import pg_server

    if pg_server.find_binaries() is None:
        pytest.skip("no PostgreSQL server binaries (apt-get install postgresql, or set STUDIO_TEST_POSTGRES_URL)")
    folder = tempfile.mkdtemp(prefix="studio-pg-")
    try:
        yield pg_server.start(folder)
    finally:
        pg_server.stop(folder)


def test_two_workers_share_a_postgresql_study(tmp_path, postgres_url):
    path = save_tiny(tmp_path / "tiny.dlstudio")
    space = tmp_path / "space.json"
    space.write_text('{"learning_rate": {"low": 0.001, "high": 0.1, "log": true}}')
    command = [sys.executable, "-c", "import sys; from studio.cli import main; sys.exit(main())",
               "sweep", str(path), "--space", str(space), "--trials", "2", "--sampler", "random",
               "--storage", postgres_url, "--study", f"shared-{os.getpid()}",
               "--no-prune"]  # an extra trial from a claim race must not be pruned against the first two
    workers = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
               for _ in range(2)]
    outputs = [worker.communicate(timeout=280)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0], outputs
    trials = load_study(postgres_url, f"shared-{os.getpid()}").get_trials()
    assert 2 <= len(trials) <= 3  # a claim race between machines may add one trial, never lose one
    assert all(t.state.name == "COMPLETE" for t in trials), [(t.state.name, t.user_attrs) for t in trials]
    assert len({t.user_attrs["pid"] for t in trials}) == 2  # both workers trained
