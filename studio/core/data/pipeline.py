"""tf.data pipelines over a loaded ``Dataset``: deterministic order, batch-level augmentation.

An epoch's order is a stateless shuffle of (seed, epoch); batch ``b`` gathers its samples and, on
the training split, is augmented with a seed derived from (seed, epoch, b). Nothing depends on
iteration state, so the same call always yields the same batches, a resumed run continues exactly,
and ``first_training_samples`` (the preview) reproduces a training batch without running the
pipeline.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np

from studio.core.augment.builder import Augmenter
from studio.core.augment.catalog import AugmentationError, needs_soft_labels, validate_steps
from studio.core.data.dataset import Dataset, DataError


def steps_per_epoch(dataset: Dataset, split: str, batch_size: int) -> int:
    """Number of batches in one epoch of ``split`` (the last batch may be smaller)."""
    return math.ceil(len(dataset.split(split)[0]) / batch_size)


def make_pipeline(
    dataset: Dataset,
    split: str,
    batch_size: int,
    seed: int = 0,
    augmentation: list[dict] | None = None,
    epoch: int = 0,
    shuffle: bool | None = None,
    epochs: int | None = 1,
):
    """A ``tf.data.Dataset`` of ``(x, y)`` batches for ``split``.

    The training split is shuffled (``shuffle=None`` means: only "train") and augmented by the
    ``augmentation`` steps; other splits are never augmented but take the same label form, so pass
    the project's augmentation for every split. Labels are sparse class indices, except when a step
    mixes labels (MixUp, CutMix, see ``needs_soft_labels``): then one-hot float32 (N, classes), or
    float32 (N, 1) for a binary task, for a categorical/binary cross-entropy loss.

    The stream covers ``epochs`` consecutive epochs starting at ``epoch`` (``None``: endless; use
    ``steps_per_epoch`` with ``model.fit``). Source arrays are held in memory as tensors; splits
    without shuffling or augmentation are also cached batched, then every stream is prefetched.
    """
    import tensorflow as tf

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise DataError(f"batch_size must be a whole number above 0, got {batch_size!r}")
    x, y = dataset.split(split)
    if not len(x):
        raise DataError(f"the {split} split is empty; give it a larger ratio in the dataset split")
    steps = validate_steps(augmentation)
    labels = training_labels(dataset, y, needs_soft_labels(steps))
    augmenter = cached_augmenter(dataset, steps, seed) if split == "train" and steps else None
    shuffle = split == "train" if shuffle is None else shuffle
    x_all, y_all = tf.constant(x), tf.constant(labels)

    def one_epoch(epoch_index):
        order = epoch_order(len(x), seed, epoch_index, shuffle)
        batches = tf.data.Dataset.from_tensor_slices(order).batch(batch_size).enumerate()
        return batches.map(
            lambda batch_index, indices: augment_batch(
                augmenter, tf.gather(x_all, indices), tf.gather(y_all, indices), epoch_index, batch_index
            ),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )

    if not shuffle and augmenter is None:
        stream = one_epoch(tf.constant(epoch, tf.int64)).cache()
        stream = stream.repeat(epochs) if epochs != 1 else stream
    else:
        last = 1 << 62 if epochs is None else epoch + epochs
        stream = tf.data.Dataset.range(epoch, last).flat_map(one_epoch)
    return stream.prefetch(tf.data.AUTOTUNE)


def first_training_samples(
    dataset: Dataset,
    augmentation: list[dict] | None,
    seed: int,
    epoch: int,
    n: int,
    batch_size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The first ``n`` training samples of ``epoch`` exactly as ``make_pipeline`` delivers them
    with the same seed and batch size (batch composition matters to MixUp/CutMix)."""
    import tensorflow as tf

    x, y = dataset.split("train")
    steps = validate_steps(augmentation)
    labels = training_labels(dataset, y, needs_soft_labels(steps))
    augmenter = cached_augmenter(dataset, steps, seed) if steps else None
    order = epoch_order(len(x), seed, tf.constant(epoch, tf.int64), True).numpy()
    images, targets = [], []
    for batch_index in range(math.ceil(min(n, len(x)) / batch_size)):
        indices = order[batch_index * batch_size:(batch_index + 1) * batch_size]
        xb, yb = augment_batch(augmenter, tf.constant(x[indices]), tf.constant(labels[indices]), epoch, batch_index)
        images.append(np.asarray(xb))
        targets.append(np.asarray(yb))
    return np.concatenate(images)[:n], np.concatenate(targets)[:n]


def training_labels(dataset: Dataset, y: np.ndarray, soft: bool) -> np.ndarray:
    """Labels in the form the loss needs: sparse indices, or soft float labels for mixing steps."""
    if not soft:
        return y
    if dataset.task == "regression":
        raise AugmentationError("MixUp and CutMix blend class labels: they need a classification dataset")
    if dataset.task == "binary":
        return y.astype(np.float32)[:, None]
    return np.eye(dataset.num_classes, dtype=np.float32)[y]


def epoch_order(count: int, seed: int, epoch, shuffle: bool):
    """Sample indices of one epoch: a stateless shuffle of (seed, epoch), or 0..count-1."""
    import tensorflow as tf

    indices = tf.range(count, dtype=tf.int64)
    if not shuffle:
        return indices
    return tf.random.experimental.stateless_shuffle(indices, seed=tf.stack([tf.constant(seed, tf.int64), epoch]))


def augment_batch(augmenter: Augmenter | None, xb, yb, epoch, batch_index):
    """Augment one gathered batch: the code path shared by the pipeline and the preview."""
    if augmenter is not None:
        xb, yb = augmenter.apply(xb, yb, epoch, batch_index)
    return xb, yb


def cached_augmenter(dataset: Dataset, steps: list[dict], seed: int) -> Augmenter:
    """The augmenter for ``steps`` on this data, reused across calls (keeps previews fast)."""
    augmenter = _augmenter(json.dumps(steps, sort_keys=True), int(seed), dataset.value_range)
    augmenter.check_input(dataset.input_shape, dataset.task)
    return augmenter


@functools.lru_cache(maxsize=16)
def _augmenter(steps_json: str, seed: int, value_range: tuple[float, float]) -> Augmenter:
    return Augmenter(json.loads(steps_json), seed, value_range)
