"""The DQN training process: acts in the environment, learns from replayed transitions, and
reports through the run folder exactly as a supervised run does.

Run by ``training.engine.train_run`` (lock, failures, Stop during start-up) as the runner's
``trainer``. Events: ``stage``, ``start`` (``steps_per_epoch`` = ``EPOCH_STEPS`` environment steps),
``episode {episode, step, return, average}`` for every finished episode (``average``: the mean of
the last ``AVERAGE_OF``), ``batch {epoch, step, steps, global_step, logs {loss, epsilon}}`` every
``REPORT_STEPS`` steps (``loss``: the epoch's running mean, as Keras reports it), ``epoch {epoch, global_step,
logs {loss, episode_return, return_average, epsilon, episodes}}`` every ``EPOCH_STEPS`` steps
(``greedy_return`` every ``SELECTION_EPOCHS``: the mean of ``SELECTION_EPISODES`` greedy episodes;
the last one adds ``eval_return``), ``pause``/``resume``/``stop``, ``evaluation {episodes,
mean_return, std_return, model}``, ``end``. Checkpoints: last.keras each epoch, best.keras at the
best ``greedy_return``; model.keras: the last Q-network, or best.keras when it played better
(``_final_model``: DQN can forget a solved task). backup/ holds the weights with the optimizer and
target network (``training.backup``) and ``rl/<global step>.npz`` (replay buffer, counters, random state).
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass, field

import numpy as np

from studio.core import fileio
from studio.core.rl.agent import Agent, greedy_policy, greedy_returns
from studio.core.rl.env import make_env
from studio.core.rl.replay import ReplayBuffer
from studio.core.rl.settings import check_settings, epsilon_at
from studio.core.training.backup import BackupState, read_backup, restore_backup, write_backup
from studio.core.training.engine import stage
from studio.core.training.runs import RunFolder, read_control

EPOCH_STEPS = 1000  # environment steps per epoch event
REPORT_STEPS = 100  # environment steps per batch event and look at the control file
AVERAGE_OF = 100  # episodes in the moving average of the return
STATE_DIR = "rl"  # inside backup/: the replay buffer and counters of each backup
SELECTION_EPISODES = 20  # greedy episodes scoring the Q-network for best.keras ...
SELECTION_EPOCHS = 2  # ... every this many epochs and at the end
SELECTION_SEED, EVALUATION_SEED = 2_000_000, 1_000_000  # seeds of their first episodes (training: 0..)


@dataclass
class Progress:
    """Where the agent is: environment steps, finished episodes, their returns, the epoch's losses."""

    step: int = 0
    returns: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    epoch_returns: list[float] = field(default_factory=list)
    best_score: float = -np.inf  # the best greedy_return so far

    @property
    def epoch(self) -> int:
        """The epoch of the last step taken (from 1)."""
        return (self.step - 1) // EPOCH_STEPS + 1

    @property
    def epoch_step(self) -> int:
        """The last step's number in its epoch (from 1)."""
        return (self.step - 1) % EPOCH_STEPS + 1

    def average(self) -> float:
        return float(np.mean(self.returns[-AVERAGE_OF:])) if self.returns else 0.0


def train_dqn(folder: RunFolder, resume: bool) -> str:
    """Train the DQN run in ``folder`` (its run.json config holds the settings); return its status."""
    import keras

    from studio.core.project import load_project

    info = folder.info()
    settings = check_settings({k: v for k, v in info["config"].items() if k != "objective"})
    keras.utils.set_random_seed(settings["seed"])
    stage(folder, "building")
    project = load_project(folder.project_file)
    environment = info["environment"]
    agent = Agent(project.graph, settings, environment["observation_size"], environment["actions"])
    buffer = ReplayBuffer(settings["replay_size"], environment["observation_size"])
    progress, rng = Progress(), np.random.default_rng(settings["seed"])
    backup = read_backup(folder) if resume else None
    if backup is not None:
        buffer, progress, rng = _restore(folder, agent, backup)
    env, observation = make_env(settings["environment"], settings["seed"] + progress.step)
    gpu = any(name.startswith("gpu") for name in keras.distribution.list_devices())
    device = {"backend": keras.backend.backend(), "kind": "gpu" if gpu else "cpu"}
    folder.update_info(device=device, compile_mode="compiled")
    folder.emit("start", resumed=resume, device=device, compile_mode="compiled",
                epochs=-(-settings["total_steps"] // EPOCH_STEPS), steps_per_epoch=EPOCH_STEPS,
                batch_size=settings["batch_size"], notes=[],
                total_steps=settings["total_steps"],
                **({"from_epoch": progress.step // EPOCH_STEPS + 1,
                    "from_step": progress.step % EPOCH_STEPS + 1} if resume else {}))
    episode_return, stopped = 0.0, False
    clock = Clock(progress.step)
    while progress.step < settings["total_steps"] and not stopped:
        epsilon = epsilon_at(progress.step, settings)
        if progress.step < settings["warmup_steps"] or rng.random() < epsilon:
            action = int(rng.integers(environment["actions"]))
        else:
            action = int(agent.greedy(observation[None].astype(np.float32))[0])
        next_observation, reward, terminated, truncated, _ = env.step(action)
        buffer.add(observation, action, reward, next_observation, terminated)
        observation, episode_return = next_observation, episode_return + reward
        progress.step += 1
        if terminated or truncated:
            progress.returns.append(episode_return)
            progress.epoch_returns.append(episode_return)
            folder.emit("episode", episode=len(progress.returns), step=progress.step, epsilon=epsilon,
                        **{"return": episode_return, "average": progress.average()})
            observation, episode_return = env.reset()[0], 0.0
        step = progress.step
        if step > settings["warmup_steps"] and step % settings["train_frequency"] == 0:
            progress.losses.append(agent.train_step(buffer.sample(settings["batch_size"], rng)))
        if step % settings["target_update"] == 0:
            agent.sync_target()
        if step % REPORT_STEPS == 0:
            _report(folder, progress, epsilon, clock, settings["total_steps"])
            stopped = _obey_control(folder, progress)
        if step % EPOCH_STEPS == 0 or step == settings["total_steps"] or stopped:
            _end_epoch(folder, agent, progress, epsilon, settings, buffer, rng, stopped, clock)
    env.close()
    return _finish(folder, agent, progress, stopped)


class Clock:
    """Environment steps per second since the (re)start, and when each epoch began."""

    def __init__(self, step: int) -> None:
        self.first_step, self.started = step, time.perf_counter()
        self.epoch_started = self.started

    def rate(self, step: int) -> float:
        return (step - self.first_step) / max(time.perf_counter() - self.started, 1e-9)

    def epoch_duration(self) -> float:
        """Seconds since the previous call (or the start): the epoch just ended."""
        now = time.perf_counter()
        duration, self.epoch_started = now - self.epoch_started, now
        return duration


def _report(folder: RunFolder, progress: Progress, epsilon: float, clock: Clock, total: int) -> None:
    """The batch event: ``samples_per_s`` counts environment steps."""
    logs = {"epsilon": epsilon, **({"loss": float(np.mean(progress.losses))} if progress.losses else {})}
    rate = clock.rate(progress.step)
    folder.emit("batch", epoch=progress.epoch, step=progress.epoch_step, steps=EPOCH_STEPS,
                global_step=progress.step, logs=logs, samples_per_s=rate,
                eta_s=(total - progress.step) / rate if rate else None)


def _obey_control(folder: RunFolder, progress: Progress) -> bool:
    """Pause while asked to; True when Stop was sent (the ``stop`` event is written)."""
    command = read_control(folder.path)
    epoch, step = progress.epoch, progress.epoch_step
    if command == "pause":
        folder.emit("pause", epoch=epoch, step=step)
        while command == "pause":
            time.sleep(0.05)
            command = read_control(folder.path)
        folder.emit("resume", epoch=epoch, step=step)
    if command == "stop":
        folder.emit("stop", reason="user", epoch=epoch, step=step)
        return True
    return False


def _end_epoch(folder: RunFolder, agent: Agent, progress: Progress, epsilon: float, settings: dict,
               buffer: ReplayBuffer, rng: np.random.Generator, stopped: bool, clock: Clock) -> None:
    """The epoch event (partial when stopped mid-epoch), checkpoints and, unless the run is done,
    the backup."""
    done = progress.step == settings["total_steps"]
    partial = stopped and not done and progress.epoch_step != EPOCH_STEPS
    logs = {"epsilon": epsilon, "episodes": len(progress.returns), "return_average": progress.average()}
    if progress.losses:
        logs["loss"] = float(np.mean(progress.losses))
    if progress.epoch_returns:
        logs["episode_return"] = float(np.mean(progress.epoch_returns))
    scored = (done or progress.epoch % SELECTION_EPOCHS == 0) and not partial
    if scored:
        logs["greedy_return"] = float(greedy_returns(agent.greedy, settings["environment"], SELECTION_EPISODES,
                                                     SELECTION_SEED).mean())
    if done:
        final, which = _final_model(folder, agent, progress, logs["greedy_return"])
        logs["eval_return"] = _evaluate(folder, greedy_policy(final), settings, which)
        fileio.atomic_replace_with(folder.model_file, final.save)
    folder.emit("epoch", epoch=progress.epoch, global_step=progress.step, logs=logs, lr=settings["learning_rate"],
                duration_s=clock.epoch_duration(), **({"partial": True} if partial else {}))
    progress.losses, progress.epoch_returns = [], []
    folder.checkpoints.mkdir(exist_ok=True)
    fileio.atomic_replace_with(folder.last_checkpoint, agent.q.save)
    if scored and logs["greedy_return"] >= progress.best_score:
        progress.best_score = logs["greedy_return"]
        fileio.atomic_replace_with(folder.best_checkpoint, agent.q.save)
    if not done or stopped:
        _backup(folder, agent, progress, buffer, rng, partial)


def _final_model(folder: RunFolder, agent: Agent, progress: Progress, last_score: float):
    """``(model, "last" | "best")``: the last Q-network, or best.keras when it scored higher
    (``greedy_return``: DQN can forget a solved task late in training). The selection's episodes
    are seeded apart from the evaluation's, so the reported figure is not the one that chose."""
    from studio.core.graph.keras_io import load_keras_file

    if last_score >= progress.best_score or not folder.best_checkpoint.is_file():
        return agent.q, "last"
    return load_keras_file(folder.best_checkpoint, with_model=True)[1], "best"


def _evaluate(folder: RunFolder, act, settings: dict, which: str) -> float:
    """Play the greedy evaluation episodes (seeds never seen in training) and report them."""
    returns = greedy_returns(act, settings["environment"], settings["eval_episodes"], EVALUATION_SEED)
    result = {"episodes": len(returns), "mean_return": float(returns.mean()), "std_return": float(returns.std()),
              "model": which}
    folder.emit("evaluation", **result)
    folder.update_info(evaluation=result)
    return result["mean_return"]


def _backup(folder: RunFolder, agent: Agent, progress: Progress, buffer: ReplayBuffer,
            rng: np.random.Generator, partial: bool) -> None:
    """The replay buffer and counters (rl/<step>.npz), then the weights and the commit point."""
    state_dir = folder.backup_dir / STATE_DIR
    state_dir.mkdir(parents=True, exist_ok=True)
    counters = {"returns": progress.returns, "best_score": progress.best_score,
                "rng": rng.bit_generator.state}
    name = f"{progress.step}.npz"
    fileio.atomic_replace_with(state_dir / name, lambda path: _save_npz(
        path, counters=np.array(json.dumps(counters)), **buffer.state()))
    state = (BackupState(progress.epoch - 1, progress.epoch_step, progress.step) if partial
             else BackupState(progress.epoch, 0, progress.step))
    write_backup(folder, agent.trainer, state)
    for old in state_dir.iterdir():
        if old.name != name:
            old.unlink(missing_ok=True)


def _save_npz(path, **arrays) -> None:
    with open(path, "wb") as handle:  # a file object: np.savez would add .npz to the temp name
        np.savez(handle, **arrays)


def _restore(folder: RunFolder, agent: Agent, backup: BackupState):
    """``(buffer, progress, rng)`` of the backup, its weights loaded into ``agent``."""
    from studio.core.rl.errors import RLError

    path = folder.backup_dir / STATE_DIR / f"{backup.global_step}.npz"
    try:
        with np.load(path, allow_pickle=False) as state:
            buffer = ReplayBuffer.from_state(state)
            counters = json.loads(str(state["counters"]))
    except (OSError, ValueError, KeyError) as exc:
        raise RLError(f"the run's replay backup cannot be read ({exc}): start a new run") from None
    restore_backup(folder, agent.trainer, backup)
    rng = np.random.default_rng()
    rng.bit_generator.state = counters["rng"]
    progress = Progress(step=backup.global_step, returns=list(counters["returns"]),
                        best_score=float(counters["best_score"]))
    return buffer, progress, rng


def _finish(folder: RunFolder, agent: Agent, progress: Progress, stopped: bool) -> str:
    """model.keras (a completed run wrote the chosen one), run.json and the end event."""
    status = "stopped" if stopped else "completed"
    if stopped:
        fileio.atomic_replace_with(folder.model_file, agent.q.save)
    else:
        shutil.rmtree(folder.backup_dir, ignore_errors=True)
    folder.update_info(status=status, ended=time.time(), stop_reason="user" if stopped else None,
                       env_steps=progress.step, episodes=len(progress.returns))
    folder.emit("end", status=status)
    return status
