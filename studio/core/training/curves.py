"""A run's plotted series, built incrementally from its events (no Qt: easy to test and reuse).

Series keys: ``loss/batch``, ``loss/smoothed``, ``loss/epoch``, ``loss/val`` for the run's main
loss (``loss``, else the first logged ``*loss``: a GAN's ``d_loss``), ``loss/smoothed/<name>`` and
``loss/val/<name>`` for its other losses (``g_loss``, a VAE's ``kl_loss``...), the same as the main
loss under ``metric/`` for the run's main metric (accuracy when logged), ``lr``, ``grad/<layer>``,
and ``logs/<name>`` for every value an epoch logs (``val_*``, a generative run's ``fid``...).
X values are fractional epochs: batch ``s`` of ``S`` in epoch ``e`` sits at ``e - 1 + s / S``.

A partial epoch (an epoch event with ``"partial": true``: the run stopped mid-epoch) is not an
epoch: its batches stay on the batch curves, but it adds no point to the epoch series and is kept
as ``partial_epoch`` (its number) until that epoch completes (a resumed run finishes it). The run
summary (experiments/summary.py) and ``runs.read_run``'s ``epochs_done`` follow the same rule.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

SMOOTHING = 0.6  # weight of the past in the exponential moving average (TensorBoard's default)
LOG_FLOOR = 1e-12  # zero gradient norms are drawn here: a log axis cannot show 0


class Series:
    """A growing pair of float arrays (amortised appends; ``x``/``y`` are views, no copies)."""

    def __init__(self) -> None:
        self._data = np.empty((2, 64))
        self.size = 0

    def append(self, x: float, y: float) -> None:
        if self.size == self._data.shape[1]:
            self._data = np.concatenate([self._data, np.empty_like(self._data)], axis=1)
        self._data[:, self.size] = (x, y)
        self.size += 1

    @property
    def x(self) -> np.ndarray:
        return self._data[0, : self.size]

    @property
    def y(self) -> np.ndarray:
        return self._data[1, : self.size]

    def __len__(self) -> int:
        return self.size


class Smoother:
    """Debiased exponential moving average, one value at a time."""

    def __init__(self, weight: float = SMOOTHING) -> None:
        self.weight, self._value, self._count = weight, 0.0, 0

    def __call__(self, value: float) -> float:
        self._count += 1
        self._value = self.weight * self._value + (1 - self.weight) * value
        return self._value / (1 - self.weight**self._count)


def losses(logs: dict[str, Any]) -> list[str]:
    """The losses a run logs, the main one first: ``loss`` if logged, else the first ``*loss``."""
    names = [key for key in logs if key.endswith("loss") and not key.startswith("val_")]
    return sorted(names, key=lambda name: name != "loss")


def main_metric(logs: dict[str, Any]) -> str | None:
    """The metric worth a plot of its own: accuracy if logged, else the first value that is not
    a loss (None when the run logs only losses)."""
    names = [key for key in logs if not key.endswith("loss") and not key.startswith("val_")]
    return "accuracy" if "accuracy" in names else (names[0] if names else None)


class RunCurves:
    """Turns events into series; ``add`` returns the keys that changed so plots redraw only those."""

    def __init__(self) -> None:
        self.series: dict[str, Series] = {}
        self.metric: str | None = None
        self.losses: list[str] = []  # the main loss first (see ``losses``)
        self.steps = 1
        self._smoothers: dict[str, Smoother] = {}
        self._last_batch: tuple[int, int, dict] | None = None  # (epoch, step, logs) of the last batch event
        self.partial_epoch: int | None = None  # a stopped epoch not completed (yet): no epoch point

    def get(self, key: str) -> Series | None:
        return self.series.get(key)

    def state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """``(JSON-ready state, {key: 2 x n array})``: everything ``from_state`` needs to continue."""
        state = {
            "metric": self.metric, "steps": self.steps,
            "smoothers": {key: [s.weight, s._value, s._count] for key, s in self._smoothers.items()},
            "last_batch": list(self._last_batch) if self._last_batch else None,
            "partial_epoch": self.partial_epoch,
        }
        return state, {key: np.stack([series.x, series.y]) for key, series in self.series.items()}

    @classmethod
    def from_state(cls, state: dict[str, Any], arrays: dict[str, np.ndarray]) -> RunCurves:
        """The curves saved by ``state()``; adding later events continues them exactly."""
        curves = cls()
        curves.metric, curves.steps = state["metric"], int(state["steps"])
        for key, (weight, value, count) in state["smoothers"].items():
            smoother = curves._smoothers[key] = Smoother(weight)
            smoother._value, smoother._count = float(value), int(count)
        curves._last_batch = tuple(state["last_batch"]) if state["last_batch"] else None
        curves.partial_epoch = state.get("partial_epoch")
        for key, xy in arrays.items():
            series = curves.series[key] = Series()
            series._data, series.size = np.array(xy, dtype=float), int(xy.shape[1])
        return curves

    def _put(self, key: str, x: float, y: float, changed: set[str]) -> None:
        if y is None or not math.isfinite(y):
            return
        self.series.setdefault(key, Series()).append(x, y)
        changed.add(key)

    def add(self, events: Iterable[dict[str, Any]]) -> set[str]:
        changed: set[str] = set()
        for event in events:
            kind = event.get("type")
            if kind == "start":
                self.steps = max(1, int(event.get("steps_per_epoch") or 1))
            elif kind == "batch":
                self._add_batch(event, changed)
            elif kind == "epoch":
                self._add_epoch(event, changed)
            elif kind == "grad_norms":
                x = self._x(event.get("epoch", 1), event.get("step", 0))
                for layer, norm in (event.get("norms") or {}).items():
                    self._put(f"grad/{layer}", x, max(float(norm), LOG_FLOOR), changed)
        return changed

    def _x(self, epoch: int, step: int) -> float:
        return epoch - 1 + step / self.steps

    def _add_batch(self, event: dict[str, Any], changed: set[str]) -> None:
        epoch, step, logs = event.get("epoch", 1), event.get("step", 0), event.get("logs") or {}
        self.steps = max(1, int(event.get("steps") or self.steps))
        self._learn_names(logs)
        x = self._x(epoch, step)
        previous = self._last_batch if self._last_batch and self._last_batch[0] == epoch else None
        for name, prefix, tail in self._plotted():
            if name not in logs:
                continue
            value = interval_mean(logs[name], step, previous[2].get(name), previous[1]) if previous else logs[name]
            if value is None or not math.isfinite(value):
                continue
            if not tail:  # the other losses: smoothed only, so a plot keeps a few curves
                self._put(f"{prefix}/batch", x, value, changed)
            self._put(f"{prefix}/smoothed{tail}", x, self._smoothers.setdefault(prefix + tail, Smoother())(value), changed)
        self._put("lr", x, event.get("lr"), changed)
        self._last_batch = (epoch, step, logs)

    def _add_epoch(self, event: dict[str, Any], changed: set[str]) -> None:
        logs = event.get("logs") or {}
        self._learn_names(logs)
        epoch = int(event.get("epoch", 0))
        if event.get("partial"):
            self.partial_epoch = epoch
            return
        if self.partial_epoch is not None and epoch >= self.partial_epoch:
            self.partial_epoch = None
        x = float(epoch)
        for name, value in logs.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                self._put(f"logs/{name}", x, value, changed)
        for name, prefix, tail in self._plotted():
            if name in logs and not tail:
                self._put(f"{prefix}/epoch", x, logs[name], changed)
            if f"val_{name}" in logs:
                self._put(f"{prefix}/val{tail}", x, logs[f"val_{name}"], changed)

    def _learn_names(self, logs: dict[str, Any]) -> None:
        if not self.losses:
            self.losses = losses(logs)
            self.metric = main_metric(logs)

    def _plotted(self) -> list[tuple[str, str, str]]:
        """``(logged name, plot prefix, key tail)`` of every plotted value."""
        found = [(name, "loss", f"/{name}" if index else "") for index, name in enumerate(self.losses)]
        return found + ([(self.metric, "metric", "")] if self.metric else [])


def interval_mean(mean: float, step: int, previous_mean: float | None, previous_step: int) -> float | None:
    """The mean over the batches since the previous event, from two running epoch means.

    Keras reports the running mean of the epoch so far; the batches in between are what a
    learner wants to see (their noise shows the batch size and learning rate at work).
    """
    if previous_mean is None or step <= previous_step:
        return mean
    return (mean * step - previous_mean * previous_step) / (step - previous_step)
