"""Gymnasium environments (an optional extra) and the picture of a cart-pole state.

Gymnasium is imported inside ``make_env``: without it, one RLError line says how to install it.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.core.rl.errors import RLError

INSTALL_HINT = 'pip install "dl-studio[rl]"'


def make_env(name: str, seed: int | None = None):
    """A Gymnasium environment, reset with ``seed`` (no rendering: the studio draws it itself).

    Args:
        name: a Gymnasium id such as ``CartPole-v1``.
        seed: seeds the first ``reset``; None leaves it unseeded.

    Returns:
        ``(env, first observation)``.

    Raises:
        RLError: Gymnasium is not installed, or does not know ``name``.
    """
    try:
        import gymnasium
    except ImportError:
        raise RLError(f"reinforcement learning needs Gymnasium: {INSTALL_HINT}") from None
    try:
        env = gymnasium.make(name)
    except gymnasium.error.Error as exc:
        raise RLError(f"Gymnasium cannot make {name}: {exc}") from None
    observation, _info = env.reset(seed=seed)
    return env, observation


def env_facts(name: str) -> tuple[int, int]:
    """``(observation size, number of actions)`` of a flat-observation, discrete-action environment.

    Raises:
        RLError: see ``make_env``; also an environment the DQN agent cannot act in.
    """
    env, observation = make_env(name)
    try:
        actions = getattr(env.action_space, "n", None)
        if observation.ndim != 1 or actions is None:
            raise RLError(f"{name}: DQN needs a flat observation and discrete actions")
        return int(observation.shape[0]), int(actions)
    finally:
        env.close()


@dataclass(frozen=True)
class CartPoleFrame:
    """Where to draw CartPole-v1 at one state: the cart's centre in [-1, 1] of the track
    (``x_threshold`` = 2.4 on either side ends the episode), the pole's angle in radians from upright
    (positive: leaning right; 0.2095 ends it) and whether the state is outside those limits."""

    cart: float
    angle: float
    failed: bool


TRACK_HALF_WIDTH = 2.4  # CartPole-v1's x_threshold
ANGLE_LIMIT = 12 * 2 * 3.141592653589793 / 360  # CartPole-v1's theta_threshold_radians


def cart_pole_frame(state) -> CartPoleFrame:
    """The picture of a CartPole-v1 observation ``[x, x_dot, theta, theta_dot]``."""
    x, theta = float(state[0]), float(state[2])
    return CartPoleFrame(x / TRACK_HALF_WIDTH, theta, abs(x) > TRACK_HALF_WIDTH or abs(theta) > ANGLE_LIMIT)
