"""Divergence: a loss that stays finite but ends an epoch far above where training started, or
jumps far above the previous epoch's (a learning rate too high). NaN and inf are the NaN guard's."""

from __future__ import annotations

FACTOR = 100  # a loss this many times its start (or its last epoch) has diverged
FLOOR = 1e-2  # losses are compared from at least this scale: 1e-6 -> 1e-4 is not divergence


class DivergenceCheck:
    """Follows the training losses (every log ending in ``loss`` but the ``val_`` ones)."""

    def __init__(self) -> None:
        self.start: dict[str, float] = {}
        self.last: dict[str, float] = {}
        self.warned = False

    def see_first(self, logs: dict[str, float]) -> None:
        """Record the losses before training: one validation batch evaluated before the first
        update, else the first reported batch (whose mean may already include a few updates)."""
        for key, value in _losses(logs).items():
            self.start.setdefault(key, value)

    def check_epoch(self, epoch: int, logs: dict[str, float]) -> str | None:
        """A one-line warning the first time an epoch's loss has diverged, else None.

        Args:
            epoch: the epoch number (from 1).
            logs: the epoch's logs (finite values).

        Returns:
            The warning, or None when the losses look sane (or a warning was already given).
        """
        found = None
        for key, value in _losses(logs).items():
            start, last = self.start.setdefault(key, value), self.last.get(key)
            self.last[key] = value
            if found:
                continue
            if value > FACTOR * max(abs(start), FLOOR):
                found = f"the {key} diverged: {value:.3g} at epoch {epoch}, over {FACTOR} times its start ({start:.3g})"
            elif last is not None and value > FACTOR * max(abs(last), FLOOR):
                found = f"the {key} exploded: {value:.3g} at epoch {epoch}, up from {last:.3g} the epoch before"
        if found is None or self.warned:
            return None
        self.warned = True
        return found + ": lower the learning rate or add gradient clipping (clipnorm)"


def _losses(logs: dict[str, float]) -> dict[str, float]:
    return {key: float(value) for key, value in logs.items() if key.endswith("loss") and not key.startswith("val_")}
