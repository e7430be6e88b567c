"""Training pipelines over a loaded ``Dataset``: deterministic order, batch-level augmentation,
on any Keras backend.

An epoch's order is a seeded permutation of (seed, epoch) (``epoch_order``, numpy); batch ``b``
gathers its samples and, on the training split, is augmented with the seed pair of (seed, epoch,
b) (``batch_seed``). Nothing depends on iteration state, so the same call always yields the same
batches, a resumed run continues exactly, and ``first_training_samples`` (the preview) reproduces
a training batch without running the pipeline.

With the TensorFlow backend the stream is tf.data (in-memory arrays are gathered in-graph, which
is the fastest path); with JAX or PyTorch it is a ``keras.utils.PyDataset`` (``batches.py``) and
TensorFlow is never imported. Streamed image folders (``store.ImageStore``) are read batch by batch
in both; samples whose file vanished or stopped decoding are dropped from their batch and reported.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np

from studio.core.augment.builder import Augmenter, batch_seed
from studio.core.augment.catalog import AugmentationError, needs_soft_labels, validate_steps
from studio.core.data.dataset import Dataset, DataError
from studio.core.tasks import TaskError, get_task


def steps_per_epoch(dataset: Dataset, split: str, batch_size: int) -> int:
    """Number of batches in one epoch of ``split`` (the last batch may be smaller).

    Raises:
        DataError: ``split`` is not train, val or test.
    """
    return math.ceil(len(dataset.split(split)[0]) / batch_size)


def backend() -> str:
    """The Keras backend training will use (read from Keras itself, without importing TF)."""
    import keras

    return keras.backend.backend()


def make_pipeline(
    dataset: Dataset,
    split: str,
    batch_size: int,
    seed: int = 0,
    augmentation: list[dict] | None = None,
    epoch: int = 0,
    shuffle: bool | None = None,
    epochs: int | None = 1,
    one_hot: bool = False,
    transform=None,
):
    """A stream of ``(x, y)`` batches for ``split``: tf.data on TensorFlow, else a PyDataset.

    The training split is shuffled (``shuffle=None`` means: only "train") and augmented by the
    ``augmentation`` steps; other splits are never augmented but take the same label form, so pass
    the project's augmentation for every split. Labels are sparse class indices, except when a step
    mixes labels (MixUp, CutMix, see ``needs_soft_labels``) or ``one_hot``: then one-hot float32
    (N, classes), or float32 (N, 1) for a binary task mixed by a step.

    The stream covers ``epochs`` consecutive epochs starting at ``epoch`` (``None``: endless; use
    ``steps_per_epoch`` with ``model.fit``). ``transform(x)`` maps every batch of inputs after
    augmentation (e.g. generative models rescale images to [0, 1]).

    Args:
        dataset: the loaded dataset.
        split: "train", "val" or "test".
        batch_size: samples per batch, from 1.
        seed: seeds the shuffle order and the augmentation of each (epoch, batch).
        augmentation: the project's augmentation steps; applied to the training split only.
        epoch: the first epoch the stream covers (its order and augmentation seeds).
        shuffle: shuffle every epoch; None shuffles the training split only.
        epochs: how many epochs the stream covers; None for an endless stream.
        one_hot: give float one-hot labels even without a mixing step.
        transform: a function applied to each batch of inputs after augmentation, or None.

    Returns:
        A ``tf.data.Dataset`` (TensorFlow backend) or a ``keras.utils.PyDataset`` of ``(x, y)`` batches.

    Raises:
        DataError: ``batch_size`` is not a whole number above 0, or the split is unknown or empty.
        AugmentationError: an augmentation step is invalid, or its labels cannot be mixed for the task.
    """
    plan = _Plan(dataset, split, batch_size, seed, augmentation, shuffle, one_hot, transform)
    if backend() == "tensorflow":
        return _tf_stream(plan, epoch, epochs)
    from studio.core.data.batches import batch_dataset

    return batch_dataset(plan, epoch, epochs)


class _Plan:
    """What a stream needs, checked once: samples, label form, augmenter, order rule."""

    def __init__(self, dataset, split, batch_size, seed, augmentation, shuffle, one_hot, transform=None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise DataError(f"batch_size must be a whole number above 0, got {batch_size!r}")
        self.x, y = dataset.split(split)
        if not len(self.x):
            raise DataError(f"the {split} split is empty; give it a larger ratio in the dataset split")
        steps = validate_steps(augmentation)
        self.labels = training_labels(dataset, y, needs_soft_labels(steps), one_hot)
        self.augmenter = cached_augmenter(dataset, steps, seed) if split == "train" and steps else None
        self.shuffle = split == "train" if shuffle is None else shuffle
        self.transform = transform
        self.batch_size, self.seed, self.count = batch_size, int(seed), len(self.x)
        self.steps = math.ceil(self.count / batch_size)

    def order(self, epoch: int) -> np.ndarray:
        return epoch_order(self.count, self.seed, int(epoch), self.shuffle)

    def batch(self, epoch: int, batch_index: int, order: np.ndarray | None = None):
        """Batch ``batch_index`` of ``epoch`` as numpy ``(x, y)`` (augmented on the backend)."""
        order = self.order(epoch) if order is None else order
        indices = order[batch_index * self.batch_size:(batch_index + 1) * self.batch_size]
        xb, yb = gather(self.x, self.labels, indices)
        xb, yb = augment_batch(self.augmenter, xb, yb, batch_seed(self.seed, int(epoch), batch_index))
        return (xb if self.transform is None else self.transform(xb)), yb


def _tf_stream(plan: _Plan, epoch: int, epochs: int | None):
    import tensorflow as tf

    streamed = not isinstance(plan.x, np.ndarray)
    x_all = None if streamed else tf.constant(plan.x)
    y_all = tf.constant(plan.labels)
    sample_shape, label_shape = tuple(plan.x.shape[1:]), tuple(plan.labels.shape[1:])

    def read(indices):  # streamed: decode/cache outside the graph, drop vanished samples
        xb, yb = gather(plan.x, plan.labels, indices)
        return np.asarray(xb, np.float32), np.asarray(yb, plan.labels.dtype)

    def load(indices):
        if not streamed:
            return tf.gather(x_all, indices), tf.gather(y_all, indices)
        xb, yb = tf.numpy_function(read, [indices], (tf.float32, y_all.dtype))
        return tf.ensure_shape(xb, (None, *sample_shape)), tf.ensure_shape(yb, (None, *label_shape))

    def one_epoch(epoch_index):
        order = tf.numpy_function(plan.order, [epoch_index], tf.int64)
        batches = tf.data.Dataset.from_tensor_slices(tf.ensure_shape(order, (plan.count,)))
        batches = batches.batch(plan.batch_size).enumerate()

        def step(batch_index, indices):
            xb, yb = load(indices)
            seed_pair = tf.stack([  # the arithmetic of augment.builder.batch_seed, in int64
                tf.constant(plan.seed % (1 << 30), tf.int64),
                (epoch_index * (1 << 24) + batch_index) % (1 << 30),
            ])
            xb, yb = augment_batch(plan.augmenter, xb, yb, seed_pair)
            return (xb if plan.transform is None else plan.transform(xb)), yb

        return batches.map(step, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    if not plan.shuffle and plan.augmenter is None and not streamed:
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
    with the same seed and batch size (batch composition matters to MixUp/CutMix).

    Args:
        dataset: the loaded dataset.
        augmentation: the project's augmentation steps, or None.
        seed: the pipeline's seed.
        epoch: the epoch whose order and augmentation to reproduce.
        n: how many samples; fewer when the training split is smaller.
        batch_size: the training batch size.

    Returns:
        ``(x, y)`` numpy arrays of the first ``n`` samples, augmented, with the labels in the form
        training uses (see ``training_labels``).

    Raises:
        DataError: ``batch_size`` is invalid or the training split is empty.
        AugmentationError: an augmentation step is invalid.
    """
    plan = _Plan(dataset, "train", batch_size, seed, augmentation, True, False)
    order = plan.order(epoch)
    images, targets = [], []
    for batch_index in range(math.ceil(min(n, plan.count) / batch_size)):
        xb, yb = plan.batch(epoch, batch_index, order)
        images.append(np.asarray(xb))
        targets.append(np.asarray(yb))
    return np.concatenate(images)[:n], np.concatenate(targets)[:n]


def training_labels(dataset: Dataset, y: np.ndarray, soft: bool, one_hot: bool = False) -> np.ndarray:
    """Labels in the form the loss needs: sparse indices, or float labels for mixing steps and
    for ``one_hot`` (metrics that need one-hot multi-class labels).

    Args:
        dataset: the dataset the labels belong to (its task and class count).
        y: the labels of one split as stored in the dataset.
        soft: an augmentation step mixes labels (``needs_soft_labels``).
        one_hot: float one-hot labels are wanted anyway.

    Returns:
        ``y`` unchanged when neither is asked, else the task's float labels.

    Raises:
        AugmentationError: the task's labels cannot be given as floats (e.g. mixing steps on a
            regression target).
    """
    if not soft and not one_hot:
        return y
    try:
        return get_task(dataset.task).float_labels(y, dataset.num_classes, one_hot)
    except TaskError as exc:
        raise AugmentationError(str(exc)) from None


def epoch_order(count: int, seed: int, epoch: int, shuffle: bool) -> np.ndarray:
    """Sample indices of one epoch: a seeded permutation of (seed, epoch), or 0..count-1."""
    if not shuffle:
        return np.arange(count, dtype=np.int64)
    return np.random.default_rng([int(seed) % (1 << 32), int(epoch)]).permutation(count).astype(np.int64)


def gather(x, labels: np.ndarray, indices: np.ndarray):
    """``(x[indices], labels[indices])``; a streamed store may drop samples it can no longer read."""
    read = getattr(x, "read_batch", None)
    if read is None:
        return x[indices], labels[indices]
    xb, ok = read(indices)
    return xb, labels[indices][ok]


def augment_batch(augmenter: Augmenter | None, xb, yb, seed_pair):
    """Augment one gathered batch: the code path shared by the pipeline and the preview."""
    if augmenter is not None:
        xb, yb = augmenter.apply(xb, yb, seed_pair)
    return xb, yb


def cached_augmenter(dataset: Dataset, steps: list[dict], seed: int) -> Augmenter:
    """The augmenter for ``steps`` on this data, reused across calls (keeps previews fast)."""
    augmenter = _augmenter(json.dumps(steps, sort_keys=True), int(seed), dataset.value_range,
                           get_task(dataset.task).box_targets)
    augmenter.check_input(dataset.input_shape, dataset.task)
    return augmenter


@functools.lru_cache(maxsize=16)
def _augmenter(steps_json: str, seed: int, value_range: tuple[float, float], boxes: bool) -> Augmenter:
    return Augmenter(json.loads(steps_json), seed, value_range, boxes)
