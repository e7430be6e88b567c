"""The DQN agent in Keras (imported inside functions; keras.ops only, so every backend runs it).

The Q-network is the project's graph. ``Agent.trainer`` is one functional model over it and its
target copy, ``[s, s'] -> [Q(s), Q(s'), Q_target(s')]``, compiled with ``dqn_loss``: one
``train_on_batch`` per training step does the whole (Double) DQN update in the backend's compiled
function. Acting and evaluation call ``predict_on_batch`` on a batch of observations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.core.rl.errors import RLError
from studio.core.rl.env import make_env

GRADIENT_CLIP = 10.0  # largest gradient norm of a training step (Stable-Baselines3's DQN default)


def dqn_loss(actions: int, gamma: float, double: bool):
    """The DQN loss for the trainer's output ``[Q(s) | Q(s') | Q_target(s')]`` (each ``actions`` wide)
    and targets ``[action, reward, done]``: the Huber loss between Q(s, a) and
    ``r + gamma * (1 - done) * Q_target(s', a')``, a' = argmax Q(s') (Double DQN) or of Q_target(s')."""
    from keras import ops

    def loss(y_true, y_pred):
        q, q_next, target_next = (y_pred[:, i * actions:(i + 1) * actions] for i in range(3))
        action = ops.one_hot(ops.cast(y_true[:, 0], "int32"), actions)
        chosen = ops.sum(q * action, axis=-1)
        best = ops.argmax(q_next if double else target_next, axis=-1)
        next_value = ops.sum(target_next * ops.one_hot(best, actions), axis=-1)
        target = ops.stop_gradient(y_true[:, 1] + gamma * (1.0 - y_true[:, 2]) * next_value)
        error = ops.abs(target - chosen)
        return ops.where(error < 1.0, 0.5 * ops.square(error), error - 0.5)

    return loss


class Agent:
    """A Q-network, its target network and their compiled DQN training step.

    Args:
        graph: the Q-network's graph (one Input of the observation size, one output per action).
        settings: the run's checked settings (``settings.check_settings``).
        observation_size: the environment's observation length.
        actions: the environment's number of actions.

    Raises:
        RLError: the graph does not build (``runner.check_q_network`` checked its shapes).
    """

    def __init__(self, graph, settings: dict[str, Any], observation_size: int, actions: int) -> None:
        import keras

        from studio.core.graph.keras_io import GraphBuildError, to_keras

        try:
            self.q = to_keras(graph, name="q_network")
            self.target = to_keras(graph, name="target_network")
        except GraphBuildError as exc:
            raise RLError(str(exc)) from None
        self.actions = actions
        self.target.trainable = False
        self.sync_target()
        s = keras.Input((observation_size,), name="observation")
        s2 = keras.Input((observation_size,), name="next_observation")
        out = keras.layers.Concatenate(name="q_values")([self.q(s), self.q(s2), self.target(s2)])
        self.trainer = keras.Model([s, s2], out, name="dqn_trainer")
        self.trainer.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"], clipnorm=GRADIENT_CLIP),
                             loss=dqn_loss(actions, settings["gamma"], settings["algorithm"] == "double_dqn"))

    def sync_target(self) -> None:
        """Copy the Q-network's weights into the target network."""
        self.target.set_weights(self.q.get_weights())

    def train_step(self, batch: tuple[np.ndarray, ...]) -> float:
        """One DQN update on a replay batch ``(s, a, r, s', done)``; returns its loss."""
        s, a, r, s2, done = batch
        targets = np.stack([a.astype(np.float32), r, done], axis=1)
        return float(np.asarray(self.trainer.train_on_batch([s, s2], targets)))

    def greedy(self, observations: np.ndarray) -> np.ndarray:
        """The best action for each observation of a batch (by the Q-network)."""
        return greedy_policy(self.q)(observations)


def greedy_policy(model):
    """``act(observations) -> actions``: the action of the highest Q-value, one batched call."""
    return lambda observations: np.argmax(np.asarray(model.predict_on_batch(observations)), axis=-1)


def untrained_policy(graph, seed: int = 0):
    """The greedy policy of ``graph`` with fresh weights (seeded): the agent before training.

    Raises:
        RLError: the graph does not build.
    """
    import keras

    from studio.core.graph.keras_io import GraphBuildError, to_keras

    keras.utils.set_random_seed(seed)
    try:
        return greedy_policy(to_keras(graph, name="q_network"))
    except GraphBuildError as exc:
        raise RLError(str(exc)) from None


def trained_policy(run_dir):
    """The greedy policy of a DQN run's Q-network: model.keras, else its last checkpoint (safe loader).

    Raises:
        RLError: the run has no saved Q-network yet, or it cannot be read.
    """
    from studio.core.graph.keras_io import KerasImportError, load_keras_file
    from studio.core.training.runs import RunFolder

    folder = RunFolder(run_dir)
    path = next((p for p in (folder.model_file, folder.last_checkpoint) if p.is_file()), None)
    if path is None:
        raise RLError(f"run {folder.path.name} has no trained Q-network yet (it saves one each 1000 steps)")
    try:
        return greedy_policy(load_keras_file(path, with_model=True)[1])
    except KerasImportError as exc:
        raise RLError(str(exc)) from None


def greedy_returns(act, environment: str, episodes: int, seed: int) -> np.ndarray:
    """The return of ``episodes`` greedy episodes played side by side (one batched action call per step).

    Args:
        act: ``act(observations) -> actions`` for a batch (e.g. ``Agent.greedy``).
        environment: the Gymnasium id.
        episodes: how many episodes (each its own environment, seeded ``seed + i``).
        seed: the first episode's seed.

    Returns:
        Each episode's total reward.
    """
    envs, observations = zip(*(make_env(environment, seed + i) for i in range(episodes)))
    observations = np.array(observations, np.float32)
    returns = np.zeros(episodes)
    live = np.ones(episodes, bool)
    while live.any():
        index = np.flatnonzero(live)
        for i, action in zip(index, act(observations[index])):
            observation, reward, terminated, truncated, _ = envs[i].step(int(action))
            observations[i] = observation
            returns[i] += reward
            live[i] = not (terminated or truncated)
    for env in envs:
        env.close()
    return returns


def play_episode(act, environment: str, seed: int) -> tuple[np.ndarray, float]:
    """One greedy episode: ``(states (steps + 1, observation size), return)``, the first state included."""
    env, observation = make_env(environment, seed)
    states, total, done = [observation], 0.0, False
    while not done:
        observation, reward, terminated, truncated, _ = env.step(int(act(np.asarray([observation], np.float32))[0]))
        states.append(observation)
        total += reward
        done = terminated or truncated
    env.close()
    return np.array(states, np.float32), total
