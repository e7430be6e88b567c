"""The one error class of reinforcement learning."""

from __future__ import annotations

from studio.core.training.errors import TrainingError


class RLError(TrainingError):
    """A DQN run cannot start or continue: the message says what to change."""
