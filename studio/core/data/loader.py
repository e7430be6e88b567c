"""``load_dataset(spec)``: source -> optional subsample -> stratified split -> normalization ->
optional bootstrap resample of the training split."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from studio.core.data.arrays import ArrayStore
from studio.core.data.dataset import SPLITS, Dataset, DataError
from studio.core.data.raw import option
from studio.core.data.scan import CancelToken, Progress
from studio.core.data.source_options import DATA_SOURCES, DATASET_FIELD, DEFAULT_SPLIT
from studio.core.data.splits import (NORMALIZE_MODES, bootstrap_indices, check_ratios, normalize, split_indices,
                                     subsample)
from studio.core.data.store import ImageStore
from studio.core.tasks import get_task


def default_dataset_spec() -> dict[str, Any]:
    """The data of a project without any: the built-in digits, every option its spec's default."""
    return {"source": "digits"}


def load_dataset(spec: dict[str, Any], progress: Progress | None = None, cancel: CancelToken | None = None) -> Dataset:
    """Load, split (stratified for classes) and normalize the data a project's ``dataset`` describes.

    Common options: ``split`` ratios, ``seed`` (split and generator seed), ``normalize`` (scale |
    standardize | none; default scale for images, standardize for tables), ``max_samples`` (keep a
    stratified subset) and ``bootstrap`` (train on a resample of the training split). Image sources
    report scan progress as ``progress(done, total, files_per_s, eta_s)`` and stop when ``cancel`` is
    cancelled (``ScanCancelled``). Raises ``DataError`` for any bad input.

    Args:
        spec: the project's ``dataset`` section: ``source`` (a key of ``DATA_SOURCES``) plus that
            source's options and the common ones above. Copied into the result, never modified.
        progress: called while an image folder is scanned; None for no reports.
        cancel: a token that stops a scan; None for none.

    Returns:
        A Dataset with train/val/test splits (a source's official test set is kept as the test
        split), normalized inputs, and the source's notes in ``report``.

    Raises:
        DataError: not a dict with a ``source``, an unknown source, bad split ratios or options, an
            unknown normalize mode, or data the source refuses.
        ScanCancelled: ``cancel`` was cancelled during a scan.
    """
    if not isinstance(spec, dict) or "source" not in spec:
        raise DataError('a dataset spec is a dict with a "source" key, e.g. {"source": "digits"}')
    source = DATA_SOURCES.get(spec["source"])
    if source is None:
        raise DataError(f"unknown dataset source {spec['source']!r}; use one of {', '.join(DATA_SOURCES)}")
    ratios = check_ratios(spec.get("split", DEFAULT_SPLIT))
    seed = option(spec, "seed", DATASET_FIELD["seed"].default, int)
    raw = source.load(spec, progress, cancel)
    mode = option(spec, "normalize", "scale" if raw.is_image else "standardize", str)
    if mode not in NORMALIZE_MODES:
        raise DataError(f"normalize must be one of {', '.join(NORMALIZE_MODES)}, got {mode!r}")
    # Stratify by class; per-time-step targets (N, T) are not: their classes are tokens, not samples.
    classes = raw.class_names if get_task(raw.task).class_labels and raw.y.ndim == 1 else None
    x, y, report = raw.x, raw.y, list(raw.report)
    limit = spec.get("max_samples")
    if limit is not None:
        limit = option(spec, "max_samples", None, int, DATASET_FIELD["max_samples"].minimum)
        keep = subsample(y, limit, seed, classes is not None)
        if len(keep) < len(y):
            report.append(f"kept {len(keep)} of {len(y)} samples (max_samples)")
        x, y = _take(x, keep), y[keep]

    if raw.test is None:
        indices = split_indices(y, ratios, seed, classes)
        parts = {name: _take(x, indices[name]) for name in SPLITS}
        labels = {name: y[indices[name]] for name in SPLITS}
    else:  # keep the official test set; split the rest into train and val
        pool = ratios["train"] + ratios["val"]
        indices = split_indices(y, {"train": ratios["train"] / pool, "val": ratios["val"] / pool, "test": 0.0}, seed, classes)
        x_test, y_test = raw.test
        if limit is not None:
            keep = subsample(y_test, max(10, round(limit * ratios["test"] / pool)), seed, True)
            x_test, y_test = x_test[keep], y_test[keep]
        parts = {"train": _take(x, indices["train"]), "val": _take(x, indices["val"]), "test": x_test}
        labels = {"train": y[indices["train"]], "val": y[indices["val"]], "test": y_test}

    feature_names = raw.feature_names
    if raw.encode is not None:
        parts, normalization, value_range, notes, feature_names = raw.encode(parts, mode)
        report.extend(notes)
    else:
        parts, normalization, value_range = normalize(parts, mode, raw.is_image)
    # after normalizing: every member of a bagging ensemble keeps the same input scaling
    if spec.get("bootstrap") is not None:
        draw = bootstrap_indices(len(labels["train"]), option(spec, "bootstrap", None, int, 0))
        parts["train"], labels["train"] = _take(parts["train"], draw), labels["train"][draw]
        report.append(f"training split: a bootstrap resample (seed {spec['bootstrap']}) holding "
                      f"{len(np.unique(draw))} of its {len(draw)} samples, some several times")
    return Dataset(
        spec=copy.deepcopy(spec),
        x_train=parts["train"], y_train=labels["train"],
        x_val=parts["val"], y_val=labels["val"],
        x_test=parts["test"], y_test=labels["test"],
        task=raw.task,
        class_names=list(raw.class_names),
        value_range=value_range,
        normalization=normalization,
        report=report,
        feature_names=list(feature_names),
    )


def _take(x, indices):
    """``x[indices]``; a streamed store gives a view without reading any values."""
    return x.view(indices) if isinstance(x, (ImageStore, ArrayStore)) else x[indices]
