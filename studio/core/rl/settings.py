"""The settings of a DQN run, each declared once as a ParamSpec: defaults, checks, CLI options
(``studio rl --replay-size ...``) and the GUI form derive from ``RL_FIELDS``.

A project keeps the settings that differ from their defaults in its ``rl`` section (``project.rl``);
this module is the plugin (``studio.core.features``) that checks that section when a project loads.
"""

from __future__ import annotations

from typing import Any

from studio.core.params import ParamError, ParamSpec
from studio.core.rl.errors import RLError

ENVIRONMENTS = ("CartPole-v1",)
ALGORITHMS = ("double_dqn", "dqn")

RL_FIELDS: tuple[ParamSpec, ...] = (
    ParamSpec("environment", "choice", "CartPole-v1", "The Gymnasium environment the agent acts in "
              "(its observation is the Q-network's input, its actions the outputs).", choices=ENVIRONMENTS),
    ParamSpec("total_steps", "int", 100_000, "Environment steps to train for.", minimum=100, step=1000),
    ParamSpec("replay_size", "int", 50_000, "Transitions kept in the replay buffer (the oldest are dropped).",
              minimum=100, step=1000),
    ParamSpec("batch_size", "int", 64, "Transitions sampled from the replay buffer per training step.",
              minimum=1, maximum=4096),
    ParamSpec("gamma", "float", 0.99, "Discount of future rewards (0: only the next reward counts).",
              minimum=0.0, maximum=1.0),
    ParamSpec("learning_rate", "float", 1e-3, "Adam's step size.", minimum=0.0, exclusive_minimum=True),
    ParamSpec("target_update", "int", 500, "Environment steps between two copies of the Q-network into "
              "the target network.", minimum=1),
    ParamSpec("algorithm", "choice", "double_dqn", "double_dqn: the Q-network picks the next action and the "
              "target network values it (less over-estimation); dqn: the target network does both.",
              choices=ALGORITHMS),
    ParamSpec("epsilon_start", "float", 1.0, "Share of random actions at the start.", 0.0, 1.0),
    ParamSpec("epsilon_end", "float", 0.02, "Share of random actions after the decay.", 0.0, 1.0),
    ParamSpec("epsilon_decay_steps", "int", 10_000, "Environment steps over which epsilon falls linearly "
              "from its start to its end value.", minimum=1, step=1000),
    ParamSpec("train_frequency", "int", 1, "Environment steps between two training steps (2 halves the "
              "training time, and learns less from each step).", minimum=1),
    ParamSpec("warmup_steps", "int", 1000, "Random steps that fill the replay buffer before training.",
              minimum=0, step=100),
    ParamSpec("eval_episodes", "int", 100, "Greedy episodes played after training; their mean return "
              "is the run's score.", minimum=1, maximum=1000),
    ParamSpec("seed", "int", 0, "Seed of the environment, exploration, replay sampling and weights.", minimum=0),
)
SPECS = {spec.name: spec for spec in RL_FIELDS}


def default_settings() -> dict[str, Any]:
    """Every setting at its default."""
    return {spec.name: spec.default_value() for spec in RL_FIELDS}


def check_settings(values: dict[str, Any] | None) -> dict[str, Any]:
    """The checked settings: ``values`` over the defaults.

    Args:
        values: some settings by name (None: all defaults).

    Returns:
        Every setting, cleaned by its spec.

    Raises:
        RLError: an unknown setting or a value its spec refuses (named).
    """
    unknown = sorted(set(values or {}) - set(SPECS))
    if unknown:
        raise RLError(f"unknown reinforcement-learning setting {unknown[0]!r}: use one of {', '.join(SPECS)}")
    checked = {}
    for name, spec in SPECS.items():
        try:
            checked[name] = spec.check((values or {}).get(name, spec.default_value()))
        except ParamError as exc:  # its message names the setting
            raise RLError(str(exc)) from None
    if checked["epsilon_end"] > checked["epsilon_start"]:
        raise RLError("epsilon_end is above epsilon_start: exploration should fall, not rise")
    return checked


def changed_settings(values: dict[str, Any]) -> dict[str, Any]:
    """The settings of ``values`` that differ from their defaults: what a project's ``rl`` section holds."""
    return {name: value for name, value in values.items() if value != SPECS[name].default_value()}


def project_section_problem(section: str, value: dict[str, Any]) -> str | None:
    """Hook (``studio.core.hooks``): what is wrong with a project's ``rl`` section, in one line, or None.

    Args:
        section: the project section's name (the other features' are not this module's).
        value: its content, DQN settings by name.
    """
    if section != "rl":
        return None
    try:
        check_settings(value)
    except RLError as exc:
        return str(exc)
    return None


def epsilon_at(step: int, settings: dict[str, Any]) -> float:
    """The share of random actions at environment step ``step`` (0-based): linear from
    ``epsilon_start`` to ``epsilon_end`` over ``epsilon_decay_steps`` after the warm-up, then flat."""
    start, end = settings["epsilon_start"], settings["epsilon_end"]
    done = max(0, step - settings["warmup_steps"]) / settings["epsilon_decay_steps"]
    return end if done >= 1 else start + (end - start) * done
