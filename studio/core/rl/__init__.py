"""Reinforcement learning: a DQN agent on a Gymnasium environment (CartPole-v1), its Q-network a
studio graph (input = observation size, output = one Q-value per action).

A DQN run is a run folder like any other (run.json, project snapshot, events.jsonl, checkpoints,
backup/, model.keras), trained in a child process (``runner.DQNRunner``, a ``training.Runner``)
and followed with ``training.RunWatcher``. Modules: settings.py (``RL_FIELDS``, one ParamSpec per
setting), env.py (Gymnasium, optional; the cart-pole picture), replay.py (the replay buffer),
agent.py (Keras: networks, the Double-DQN training step, acting, evaluation), loop.py (the
training process), runner.py (planning a run, the runner), curves.py (the plotted series).
"""

from __future__ import annotations

from studio.core.rl.errors import RLError

__all__ = ["RLError"]
