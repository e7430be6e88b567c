"""Stratified train/val/test splits, subsampling and normalization fitted on the training split."""

from __future__ import annotations

from typing import Any

import numpy as np

from studio.core.data.dataset import SPLITS, DataError

NORMALIZE_MODES = ("scale", "standardize", "none")
_TITLES = {"train": "training", "val": "validation", "test": "test"}


def check_ratios(ratios: Any) -> dict[str, float]:
    """Validate a ``{"train": .7, "val": .15, "test": .15}`` dict (missing keys count as 0)."""
    if not isinstance(ratios, dict) or set(ratios) - set(SPLITS):
        raise DataError('split must look like {"train": 0.7, "val": 0.15, "test": 0.15}')
    values = {name: ratios.get(name, 0.0) for name in SPLITS}
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise DataError(f"split ratio {name!r} must be a number between 0 and 1, got {value!r}")
    if values["train"] <= 0:
        raise DataError("split ratio 'train' must be above 0")
    if abs(sum(values.values()) - 1.0) > 1e-6:
        raise DataError(f"split ratios must add up to 1, got {sum(values.values()):.3g}")
    return {name: float(value) for name, value in values.items()}


def split_indices(y: np.ndarray, ratios: dict[str, float], seed: int, class_names: list[str] | None):
    """Indices of each split; stratified per class when ``class_names`` is given.

    Raises ``DataError`` when a class would end up with no sample in a split whose ratio is > 0.
    """
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in range(len(class_names))] if class_names else [np.arange(len(y))]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLITS}
    for group_index, members in enumerate(groups):
        members = rng.permutation(members)
        n_val = int(round(len(members) * ratios["val"]))
        n_test = int(round(len(members) * ratios["test"]))
        sizes = {"val": n_val, "test": n_test, "train": len(members) - n_val - n_test}
        for name in SPLITS:
            if ratios[name] > 0 and sizes[name] <= 0:
                what = f"class {class_names[group_index]!r}" if class_names else "the dataset"
                raise DataError(
                    f"{what} has only {len(members)} sample(s): the {_TITLES[name]} split would get none; "
                    "add samples or change the split ratios"
                )
        parts["val"].append(members[:n_val])
        parts["test"].append(members[n_val:n_val + n_test])
        parts["train"].append(members[n_val + n_test:])
    return {name: np.sort(np.concatenate(chunks)).astype(np.int64) for name, chunks in parts.items()}


def subsample(y: np.ndarray, limit: int, seed: int, stratified: bool) -> np.ndarray:
    """Indices of at most ``limit`` samples, keeping class proportions when ``stratified``."""
    if len(y) <= limit:
        return np.arange(len(y))
    rng = np.random.default_rng(seed)
    if not stratified:
        return np.sort(rng.choice(len(y), limit, replace=False))
    keep = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        keep.append(rng.choice(members, max(1, int(round(limit * len(members) / len(y)))), replace=False))
    return np.sort(np.concatenate(keep))


def bootstrap_indices(count: int, seed: int) -> np.ndarray:
    """A bootstrap resample of ``count`` samples: ``count`` indices drawn with replacement.

    Args:
        count: the number of samples (the training split's size).
        seed: the draw's seed: the same seed, the same resample (in the app, the CLI and the child).

    Returns:
        Sorted int64 indices in ``0..count-1``; about 63% of the samples appear, some several times.
    """
    return np.sort(np.random.default_rng(seed).integers(0, count, size=count)).astype(np.int64)


def normalize(parts: dict[str, np.ndarray], mode: str, is_image: bool):
    """Normalize every split with statistics from ``parts["train"]`` only.

    Images arrive in 0..255. Returns ``(parts, normalization, value_range)``.
    """
    if mode not in NORMALIZE_MODES:
        raise DataError(f"normalize must be one of {', '.join(NORMALIZE_MODES)}, got {mode!r}")
    train = parts["train"]
    if not isinstance(train, np.ndarray):  # streamed (store.ImageStore, arrays.ArrayStore): the same arithmetic, lazily
        return _normalize_store(parts, mode) if is_image else _normalize_table_store(parts, mode)
    if mode == "none":
        low, high = (0.0, 255.0) if is_image else (float(train.min()), float(train.max()))
        return parts, {"mode": "none"}, (low, high)
    if is_image:
        parts = {name: x / np.float32(255) for name, x in parts.items()}
        if mode == "scale":
            return parts, {"mode": "scale", "divide": 255.0}, (0.0, 1.0)
        axes = (0, 1, 2)
    else:
        axes = (0,)
    if mode == "scale":
        low, high = parts["train"].min(axis=axes), parts["train"].max(axis=axes)
        offset, factor = low, np.where(high > low, high - low, 1.0)
        info = {"mode": "scale", "min": low.tolist(), "max": high.tolist()}
    else:
        offset = parts["train"].mean(axis=axes, dtype=np.float64)
        factor = parts["train"].std(axis=axes, dtype=np.float64)
        factor = np.where(factor > 1e-8, factor, 1.0)
        info = {"mode": "standardize", "mean": offset.tolist(), "std": factor.tolist()}
        if is_image:
            info["divide"] = 255.0
    offset, factor = offset.astype(np.float32), factor.astype(np.float32)
    parts = {name: ((x - offset) / factor).astype(np.float32) for name, x in parts.items()}
    if is_image:  # the range of a 0..1 pixel after standardizing, over all channels
        value_range = (float(np.min(-offset / factor)), float(np.max((1 - offset) / factor)))
    else:
        value_range = (float(parts["train"].min()), float(parts["train"].max()))
    return parts, info, value_range


def _normalize_store(parts, mode: str):
    """``normalize`` for streamed image splits; standardizing reads the training split once."""
    if mode == "none":
        return parts, {"mode": "none"}, (0.0, 255.0)
    if mode == "scale":
        return {n: x.normalized(255.0) for n, x in parts.items()}, {"mode": "scale", "divide": 255.0}, (0.0, 1.0)
    mean, std = parts["train"].normalized(255.0).channel_stats()
    std = np.where(std > 1e-8, std, 1.0)
    offset, factor = mean.astype(np.float32), std.astype(np.float32)
    info = {"mode": "standardize", "mean": mean.tolist(), "std": std.tolist(), "divide": 255.0}
    value_range = (float(np.min(-offset / factor)), float(np.max((1 - offset) / factor)))
    return {n: x.normalized(255.0, offset, factor) for n, x in parts.items()}, info, value_range


def _normalize_table_store(parts, mode: str):
    """``normalize`` for streamed tables (arrays.ArrayStore); reads the training split once."""
    stats = parts["train"].stats()
    low, high = stats["min"], stats["max"]
    if mode == "none":
        return parts, {"mode": "none"}, (float(low.min()), float(high.max()))
    if mode == "scale":
        offset, factor = low, np.where(high > low, high - low, 1.0)
        info = {"mode": "scale", "min": low.tolist(), "max": high.tolist()}
    else:
        offset, factor = stats["mean"], np.where(stats["std"] > 1e-8, stats["std"], 1.0)
        info = {"mode": "standardize", "mean": offset.tolist(), "std": factor.tolist()}
    offset, factor = offset.astype(np.float32), factor.astype(np.float32)
    value_range = (float(np.min((low - offset) / factor)), float(np.max((high - offset) / factor)))
    return {n: x.normalized(None, offset, factor) for n, x in parts.items()}, info, value_range
