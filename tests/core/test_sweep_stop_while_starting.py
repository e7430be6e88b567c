"""A sweep stopped while a trial is still being planned hands the stop to that trial's Runner, so its
training process finds it before its first batch (no training process starts here)."""

from experiments_helpers import tiny_project
from studio.core.experiments.space import parse_space
from studio.core.experiments.sweep import Sweep, SweepSettings
from studio.core.training import Runner, RunFolder, runner as runner_module
from studio.core.training.runs import read_control


def test_a_sweep_stopped_while_a_trial_starts_hands_the_stop_to_its_runner(tmp_path, monkeypatch):
    project = tiny_project()
    sweep = Sweep(project, parse_space({"batch_size": {"choices": [8, 16]}}, project),
                  SweepSettings(trials=1, sampler="random", prune=False), tmp_path / "tiny.dlstudio")
    planned = runner_module.plan_run

    def plan_while_the_user_stops(*args):
        sweep.stop(running=True)
        return planned(*args)

    first_read = []

    def training_process(self):
        """What the engine does when it finds "stop" before its first batch."""
        first_read.append(read_control(self.run_dir))
        folder = RunFolder(self.run_dir)
        folder.emit("stop", reason="user", epoch=0)
        folder.update_info(status="stopped")
        folder.emit("end", status="stopped")

    monkeypatch.setattr(runner_module, "plan_run", plan_while_the_user_stops)
    monkeypatch.setattr(Runner, "_spawn", training_process)
    trials = sweep.run().get_trials()
    assert first_read == ["stop"]  # in the run folder before the training process would start
    assert [t.state.name for t in trials] == ["FAIL", "WAITING"]  # stopped with the sweep, queued again
    assert trials[0].user_attrs["error"].startswith("stopped: stopped with the sweep")
