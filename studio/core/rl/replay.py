"""The experience replay buffer: a fixed-size ring of transitions sampled uniformly."""

from __future__ import annotations

import numpy as np


class ReplayBuffer:
    """The last ``capacity`` transitions ``(observation, action, reward, next observation, done)``.

    ``done`` is 1 only when the episode ended in a terminal state (the pole fell), not when it was
    cut at the time limit: a cut episode's next state still has a value.
    """

    FIELDS = ("observations", "actions", "rewards", "next_observations", "dones")

    def __init__(self, capacity: int, observation_size: int) -> None:
        self.capacity = capacity
        self.observations = np.zeros((capacity, observation_size), np.float32)
        self.next_observations = np.zeros((capacity, observation_size), np.float32)
        self.actions = np.zeros(capacity, np.int32)
        self.rewards = np.zeros(capacity, np.float32)
        self.dones = np.zeros(capacity, np.float32)
        self.size = 0
        self.position = 0

    def __len__(self) -> int:
        return self.size

    def add(self, observation, action: int, reward: float, next_observation, done: bool) -> None:
        """Store one transition, replacing the oldest when full."""
        i = self.position
        self.observations[i] = observation
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_observations[i] = next_observation
        self.dones[i] = done
        self.position = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, batch_size: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
        """``batch_size`` stored transitions drawn uniformly (with replacement), as arrays in the
        order of ``FIELDS``."""
        index = rng.integers(0, self.size, batch_size)
        return tuple(getattr(self, name)[index] for name in self.FIELDS)

    def state(self) -> dict[str, np.ndarray]:
        """The stored transitions and the ring's position, for ``np.savez`` (only the filled part)."""
        return {**{name: getattr(self, name)[: self.size] for name in self.FIELDS},
                "ring": np.array([self.capacity, self.size, self.position])}

    @classmethod
    def from_state(cls, state) -> ReplayBuffer:
        """The buffer saved by ``state()``."""
        capacity, size, position = (int(v) for v in state["ring"])
        buffer = cls(capacity, state["observations"].shape[1])
        for name in cls.FIELDS:
            getattr(buffer, name)[:size] = state[name]
        buffer.size, buffer.position = size, position
        return buffer
