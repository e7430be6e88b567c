"""Reinforcement learning (studio.core.rl): settings (kept in the project's rl section, used by
``studio rl``), epsilon schedule, replay buffer, the Q-network check, the run folder, the plotted
series; slow: the DQN update, a short run that learns, Stop through the child process and
resume through ``studio rl --resume``."""

import json
import sys

import numpy as np
import pytest

from studio.core.experiments.summary import stored_row
from studio.core.graph.templates import load_template
from studio.core.project import ProjectError, default_project, load_project, save_project
from studio.core.rl import RLError
from studio.core.rl.curves import RLCurves
from studio.core.rl.env import cart_pole_frame, env_facts
from studio.core.rl.replay import ReplayBuffer
from studio.core.rl.runner import DQNRunner, check_q_network, prepare_dqn_folder, reopen_dqn_folder
from studio.core.rl.settings import RL_FIELDS, changed_settings, check_settings, default_settings, epsilon_at
from studio.core.training import RunFolder, RunWatcher
from studio.core.training.runs import read_events


def q_project(backend="tensorflow"):
    project = default_project()
    project.graph = load_template("q_network_cartpole").graph
    project.training = {**project.training, "backend": backend}
    return project


def test_every_setting_is_a_spec_with_its_default():
    assert default_settings() == check_settings(None)
    assert {spec.name for spec in RL_FIELDS} >= {
        "replay_size", "batch_size", "gamma", "target_update", "epsilon_start", "epsilon_end",
        "epsilon_decay_steps", "learning_rate", "total_steps", "train_frequency", "warmup_steps", "eval_episodes"}


@pytest.mark.parametrize("values, named", [({"gamma": 1.5}, "gamma"), ({"replay_sise": 10}, "replay_sise"),
                                           ({"epsilon_start": 0.1, "epsilon_end": 0.5}, "epsilon_end")])
def test_bad_settings_are_named(values, named):
    with pytest.raises(RLError, match=named):
        check_settings(values)


def test_a_project_keeps_only_the_dqn_settings_that_differ_from_the_defaults(tmp_path):
    project = q_project()
    project.rl = changed_settings({**default_settings(), "gamma": 0.95, "algorithm": "dqn"})
    path = tmp_path / "cartpole.dlstudio"
    save_project(project, path)
    assert json.loads(path.read_text())["rl"] == {"gamma": 0.95, "algorithm": "dqn"}
    loaded = load_project(path)
    assert loaded.rl == {"gamma": 0.95, "algorithm": "dqn"}
    assert loaded.copy().rl == loaded.rl
    assert check_settings(loaded.rl) == {**default_settings(), "gamma": 0.95, "algorithm": "dqn"}
    data = json.loads(path.read_text())
    del data["rl"]  # a file from before the section: every setting at its default
    path.write_text(json.dumps(data))
    assert load_project(path).rl == {}


@pytest.mark.parametrize("section, message", [
    ({"gamma": 1.5}, "field 'rl': gamma must be at most 1, got 1.5$"),
    ({"replay_sise": 10}, "field 'rl': unknown reinforcement-learning setting 'replay_sise'"),
    ({"epsilon_start": 0.1, "epsilon_end": 0.5}, "field 'rl': epsilon_end is above epsilon_start"),
    ({"algorithm": "sarsa"}, "field 'rl': unknown algorithm 'sarsa'"),
])
def test_a_project_with_a_bad_dqn_setting_is_refused_naming_it(tmp_path, section, message):
    data = {**q_project().to_dict(), "rl": section}
    path = tmp_path / "bad.dlstudio"
    path.write_text(json.dumps(data))
    with pytest.raises(ProjectError, match=message) as info:
        load_project(path)
    assert str(info.value).startswith(str(path)) and "\n" not in str(info.value)


def test_epsilon_falls_linearly_after_the_warm_up_then_stays():
    settings = check_settings({"epsilon_start": 1.0, "epsilon_end": 0.1, "epsilon_decay_steps": 100,
                               "warmup_steps": 50})
    assert epsilon_at(0, settings) == epsilon_at(50, settings) == 1.0
    assert epsilon_at(100, settings) == pytest.approx(0.55)
    assert epsilon_at(150, settings) == epsilon_at(10_000, settings) == pytest.approx(0.1)


def test_replay_buffer_keeps_the_newest_and_round_trips():
    buffer = ReplayBuffer(3, 2)
    for i in range(5):
        buffer.add([i, -i], i % 2, float(i), [i + 1, 0], i == 4)
    assert len(buffer) == 3
    assert sorted(buffer.rewards) == [2.0, 3.0, 4.0]  # 0 and 1 were replaced
    s, a, r, s2, done = buffer.sample(64, np.random.default_rng(0))
    assert s.shape == (64, 2) and set(r) == {2.0, 3.0, 4.0}
    assert np.all(s2[:, 0] == s[:, 0] + 1) and np.all((done == 1) == (r == 4.0))
    again = ReplayBuffer.from_state(buffer.state())
    assert (again.size, again.position) == (3, buffer.position)
    assert np.array_equal(again.observations, buffer.observations)
    again.add([9, 9], 0, 9.0, [9, 9], False)  # goes where the original's next one would
    assert again.rewards[buffer.position] == 9.0


def test_cart_pole_frame_scales_the_track_and_flags_a_fall():
    frame = cart_pole_frame([1.2, 0.0, 0.1, 0.0])
    assert frame.cart == pytest.approx(0.5) and frame.angle == pytest.approx(0.1) and not frame.failed
    assert cart_pole_frame([0.0, 0.0, 0.3, 0.0]).failed


def test_without_gymnasium_one_line_says_what_to_install(monkeypatch):
    from studio.core.rl.env import make_env

    monkeypatch.setitem(sys.modules, "gymnasium", None)  # import gymnasium now raises ImportError
    with pytest.raises(RLError, match=r'pip install "dl-studio\[rl\]"'):
        make_env("CartPole-v1")


def test_the_q_network_must_fit_the_environment():
    assert env_facts("CartPole-v1") == (4, 2)
    check_q_network(q_project().graph, 4, 2)
    with pytest.raises(RLError, match=r"maps \(4,\) to \(2,\).*needs \(4,\) to \(3,\)"):
        check_q_network(q_project().graph, 4, 3)
    with pytest.raises(RLError, match="q_network_cartpole"):
        check_q_network(default_project().graph, 4, 2)


def test_a_run_folder_holds_the_settings_and_resumes_only_what_may_change(tmp_path):
    folder = prepare_dqn_folder(q_project(), {"total_steps": 500}, tmp_path / "run")
    info = folder.info()
    assert info["status"] == "starting" and info["config"]["objective"] == "dqn"
    assert info["config"]["total_steps"] == 500 and info["environment"]["actions"] == 2
    assert folder.project_file.is_file()
    with pytest.raises(RLError, match="already holds files"):
        prepare_dqn_folder(q_project(), None, folder.path)
    folder.update_info(status="stopped")
    with pytest.raises(RLError, match="changed gamma"):
        reopen_dqn_folder(folder.path, {"gamma": 0.5})
    reopen_dqn_folder(folder.path, {"total_steps": 900})
    assert folder.info()["config"]["total_steps"] == 900 and folder.info()["resumes"] == 1


def test_curves_follow_episodes_and_batches():
    curves = RLCurves()
    changed = curves.add([
        {"type": "episode", "step": 20, "return": 20.0, "average": 20.0},
        {"type": "batch", "epoch": 1, "step": 100, "global_step": 100, "logs": {"epsilon": 0.9, "loss": 1.0}},
        {"type": "batch", "epoch": 1, "step": 200, "global_step": 200, "logs": {"epsilon": 0.8, "loss": 2.0}},
        {"type": "epoch", "epoch": 2, "global_step": 2000, "logs": {"greedy_return": 120.0}},
        {"type": "epoch", "epoch": 3, "global_step": 2500, "partial": True, "logs": {"greedy_return": 9.0}},
        {"type": "evaluation", "episodes": 5, "mean_return": 480.0},
    ])
    assert changed == {"return", "return_average", "greedy_return", "loss", "epsilon", "evaluation"}
    assert list(curves.series["greedy_return"].x) == [2000.0]
    assert list(curves.series["loss"].y) == [1.0, 3.0]  # the second interval alone: 2 * 200 - 1 * 100 over 100
    assert list(curves.series["epsilon"].x) == [100.0, 200.0]
    assert curves.evaluation["mean_return"] == 480.0


@pytest.mark.slow
def test_target_network_changes_only_when_synced():
    from studio.core.rl.agent import Agent

    agent = Agent(q_project().graph, check_settings(None), 4, 2)
    before = [w.copy() for w in agent.target.get_weights()]
    rng = np.random.default_rng(0)
    batch = (rng.normal(size=(32, 4)).astype("float32"), rng.integers(0, 2, 32), np.ones(32, "float32"),
             rng.normal(size=(32, 4)).astype("float32"), np.zeros(32, "float32"))
    for _ in range(3):
        agent.train_step(batch)
    assert all(np.array_equal(a, b) for a, b in zip(before, agent.target.get_weights()))
    assert not all(np.array_equal(a, b) for a, b in zip(before, agent.q.get_weights()))
    agent.sync_target()
    assert all(np.array_equal(a, b) for a, b in zip(agent.q.get_weights(), agent.target.get_weights()))


def run_to_end(runner):
    watcher = RunWatcher.for_runner(runner)
    while not watcher.ended:
        watcher.poll(timeout=0.2)
    return watcher.state


@pytest.mark.slow
def test_a_short_run_learns_and_writes_a_run_folder(tmp_path):
    settings = {"total_steps": 6000, "warmup_steps": 500, "epsilon_decay_steps": 2000, "target_update": 200,
                "eval_episodes": 20}
    runner = DQNRunner(q_project(), tmp_path / "run", settings)
    runner.start()
    assert run_to_end(runner) == "completed"
    events = read_events(runner.run_dir)
    returns = [event["return"] for event in events if event["type"] == "episode"]
    first = np.mean(returns[:20])  # random play: about 22 steps
    evaluation = [event for event in events if event["type"] == "evaluation"][0]
    assert evaluation["mean_return"] > 2 * first and evaluation["model"] in ("last", "best")
    epochs = [event for event in events if event["type"] == "epoch"]
    assert [event["epoch"] for event in epochs] == [1, 2, 3, 4, 5, 6]
    assert epochs[-1]["logs"]["eval_return"] == evaluation["mean_return"]
    folder = RunFolder(runner.run_dir)
    assert folder.model_file.is_file() and folder.best_checkpoint.is_file() and not folder.backup_dir.exists()
    row = stored_row(runner.run_dir)  # what the Runs table and `studio runs` show
    assert row["status"] == "completed" and row["epochs"] == 6
    assert row["last"]["eval_return"] == evaluation["mean_return"] and row["config"]["objective"] == "dqn"


@pytest.mark.slow
def test_stop_then_resume_through_the_cli_continues_from_the_backup(tmp_path, capsys):
    from studio.cli import main

    settings = {"total_steps": 3000, "warmup_steps": 200, "eval_episodes": 2}
    runner = DQNRunner(q_project("jax"), tmp_path / "run", settings)
    runner.start()
    watcher = RunWatcher.for_runner(runner)
    while not watcher.ended:
        if any(event["type"] == "batch" and event["global_step"] >= 1200 for event in watcher.poll(timeout=0.2)):
            watcher.control("stop")
    assert watcher.state == "stopped"
    events = read_events(runner.run_dir)
    stopped_at = [event for event in events if event["type"] == "batch"][-1]["global_step"]
    assert (RunFolder(runner.run_dir).backup_dir / "rl" / f"{stopped_at}.npz").is_file()
    episodes = [event for event in events if event["type"] == "episode"]

    assert main(["rl", "--resume", str(runner.run_dir), "--eval-episodes", "3"]) == 0
    err = capsys.readouterr().err
    assert "completed:" in err and "mean return over 3 greedy episodes" in err
    later = read_events(runner.run_dir)[len(events):]
    start = next(event for event in later if event["type"] == "start")
    assert start["resumed"] and start["from_epoch"] * 1000 + start["from_step"] - 1000 == stopped_at + 1
    first_batch = next(event for event in later if event["type"] == "batch")
    assert first_batch["global_step"] == stopped_at + 100
    assert next(event for event in later if event["type"] == "episode")["episode"] == len(episodes) + 1
    assert [event["epoch"] for event in later if event["type"] == "epoch"][-1] == 3


def test_cli_refuses_bad_settings_and_a_source_with_resume(capsys):
    from studio.cli import main

    assert main(["rl", "--gamma", "1.5"]) == 2
    assert "--gamma" in capsys.readouterr().err
    assert main(["rl", "q_network_cartpole", "--resume", "somewhere"]) == 2
    assert "drop PROJECT" in capsys.readouterr().err
    assert main(["rl", "mlp_xor", "--run-dir", "unused"]) == 2
    assert "q_network_cartpole template" in capsys.readouterr().err


def test_cli_takes_the_project_settings_and_flags_override_them(tmp_path):
    from studio.cli import build_parser
    from studio.cli.rl_cmds import _make_runner

    project = q_project()
    project.rl = {"gamma": 0.95, "seed": 7}
    save_project(project, tmp_path / "cartpole.dlstudio")
    args = build_parser().parse_args(["rl", str(tmp_path / "cartpole.dlstudio"), "--seed", "3",
                                      "--run-dir", str(tmp_path / "run")])
    settings = check_settings(_make_runner(args).settings)
    assert (settings["gamma"], settings["seed"]) == (0.95, 3)
    assert settings["total_steps"] == default_settings()["total_steps"]
    template = _make_runner(build_parser().parse_args(["rl", "--run-dir", str(tmp_path / "run2")]))
    assert check_settings(template.settings) == default_settings()


def test_studio_train_resume_of_a_dqn_run_names_studio_rl(tmp_path, capsys):
    from studio.cli import main

    folder = RunFolder(tmp_path / "run")
    folder.path.mkdir()
    folder.update_info(status="stopped", config={"objective": "dqn", **check_settings(None)})
    assert main(["train", "--resume", str(folder.path)]) == 2
    assert f"continue it with `studio rl --resume {folder.path}`" in capsys.readouterr().err
