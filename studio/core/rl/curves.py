"""The series a DQN run's plots show, built incrementally from its events (no Qt).

Keys: ``return`` and ``return_average`` (each finished episode, at the environment step it ended),
``loss`` and ``epsilon`` (each batch event, at its environment step: the loss is the mean over the
steps since the previous event), ``greedy_return`` (the epochs that score the greedy policy, at
their last step). ``evaluation`` is the last ``evaluation`` event, or None.
"""

from __future__ import annotations

from typing import Any, Iterable

from studio.core.training.curves import Series, interval_mean

KEYS = ("return", "return_average", "greedy_return", "loss", "epsilon")


class RLCurves:
    """Turns a DQN run's events into series; ``add`` returns the keys that changed."""

    def __init__(self) -> None:
        self.series = {key: Series() for key in KEYS}
        self.evaluation: dict[str, Any] | None = None
        self._last_batch: tuple[int, int, float] | None = None  # (epoch, step, running loss)

    def add(self, events: Iterable[dict[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for event in events:
            kind = event.get("type")
            if kind == "episode":
                step = event.get("step", 0)
                self._put("return", step, event.get("return"), changed)
                self._put("return_average", step, event.get("average"), changed)
            elif kind == "batch" and "global_step" in event:
                self._add_batch(event, changed)
            elif kind == "epoch" and "global_step" in event and not event.get("partial"):
                self._put("greedy_return", event["global_step"], (event.get("logs") or {}).get("greedy_return"),
                          changed)
            elif kind == "evaluation":
                self.evaluation = event
                changed.add("evaluation")
        return changed

    def _add_batch(self, event: dict[str, Any], changed: set[str]) -> None:
        logs, x = event.get("logs") or {}, event["global_step"]
        step, epoch = event.get("step", 0), event.get("epoch", 1)
        self._put("epsilon", x, logs.get("epsilon"), changed)
        loss = logs.get("loss")
        if loss is None:
            return
        previous = self._last_batch if self._last_batch and self._last_batch[0] == epoch else None
        self._put("loss", x, interval_mean(loss, step, previous[2], previous[1]) if previous else loss, changed)
        self._last_batch = (epoch, step, loss)

    def _put(self, key: str, x: float, y: Any, changed: set[str]) -> None:
        if isinstance(y, (int, float)):
            self.series[key].append(float(x), float(y))
            changed.add(key)
