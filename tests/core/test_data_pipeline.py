"""tf.data pipelines: determinism, splits, label forms, and previews equal to training batches."""

import numpy as np
import pytest

from studio.core.augment import AugmentationError, default_augmentation
from studio.core.data import (
    DataError,
    first_training_samples,
    load_dataset,
    make_pipeline,
    needs_soft_labels,
    steps_per_epoch,
)


@pytest.fixture(scope="module")
def shapes():
    return load_dataset({"source": "shapes", "count": 15, "image_size": 16})


def batches(stream):
    return [(np.asarray(x), np.asarray(y)) for x, y in stream]


def test_training_pipeline_is_deterministic_and_reshuffles_per_epoch(shapes):
    aug = default_augmentation()
    first = batches(make_pipeline(shapes, "train", 8, seed=1, augmentation=aug))
    again = batches(make_pipeline(shapes, "train", 8, seed=1, augmentation=aug))
    next_epoch = batches(make_pipeline(shapes, "train", 8, seed=1, augmentation=aug, epoch=1))
    other_seed = batches(make_pipeline(shapes, "train", 8, seed=2, augmentation=aug))
    assert len(first) == steps_per_epoch(shapes, "train", 8) == 6  # 44 samples, last batch of 4
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not np.array_equal(first[0][1], next_epoch[0][1])
    assert not np.array_equal(first[0][0], other_seed[0][0])
    labels = np.concatenate([y for _, y in first])
    assert sorted(labels) == sorted(shapes.y_train)  # every sample exactly once per epoch


def test_consecutive_epochs_in_one_stream_match_single_epoch_pipelines(shapes):
    aug = default_augmentation()
    stream = batches(make_pipeline(shapes, "train", 16, seed=3, augmentation=aug, epoch=2, epochs=2))
    epoch2 = batches(make_pipeline(shapes, "train", 16, seed=3, augmentation=aug, epoch=2))
    epoch3 = batches(make_pipeline(shapes, "train", 16, seed=3, augmentation=aug, epoch=3))
    expected = epoch2 + epoch3
    assert len(stream) == len(expected)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(stream, expected))


def test_endless_stream_keeps_going(shapes):
    stream = make_pipeline(shapes, "train", 32, epochs=None)
    assert len(list(stream.take(10))) == 10


def test_validation_split_is_neither_shuffled_nor_augmented(shapes):
    (x, y), = batches(make_pipeline(shapes, "val", 64, augmentation=default_augmentation()))
    assert np.array_equal(x, shapes.x_val) and np.array_equal(y, shapes.y_val)
    twice = batches(make_pipeline(shapes, "val", 4, epochs=2))
    assert len(twice) == 2 * steps_per_epoch(shapes, "val", 4)


def test_training_without_augmentation_returns_the_raw_samples(shapes):
    x, y = batches(make_pipeline(shapes, "train", 64))[0]
    order = [np.flatnonzero((shapes.x_train == sample).all(axis=(1, 2, 3)))[0] for sample in x]
    assert sorted(order) == list(range(len(shapes.x_train)))
    assert np.array_equal(y, shapes.y_train[order])


def test_augmentation_changes_training_images(shapes):
    x_aug, y_aug = batches(make_pipeline(shapes, "train", 64, augmentation=[{"type": "flip", "mode": "vertical"}]))[0]
    x_raw, y_raw = batches(make_pipeline(shapes, "train", 64))[0]
    assert np.array_equal(y_aug, y_raw)
    flipped = [np.array_equal(a, b[::-1]) for a, b in zip(x_aug, x_raw)]
    unchanged = [np.array_equal(a, b) for a, b in zip(x_aug, x_raw)]
    assert all(f or u for f, u in zip(flipped, unchanged)) and 5 < sum(flipped) < 40


@pytest.mark.parametrize(
    "steps",
    [
        None,
        [{"type": "rotation", "factor": 0.1}, {"type": "zoom"}, {"type": "translation"}],
        [{"type": "random_crop", "padding": 2}, {"type": "contrast"}, {"type": "brightness"},
         {"type": "gaussian_noise"}, {"type": "random_erasing", "probability": 1.0}],
        [{"type": "flip"}, {"type": "mixup"}],
        [{"type": "cutmix"}],
    ],
)
def test_preview_is_exactly_what_training_receives(shapes, steps):
    for epoch in (0, 3):
        x, y = next(iter(make_pipeline(shapes, "train", 16, seed=7, augmentation=steps, epoch=epoch)))
        images, labels = first_training_samples(shapes, steps, 7, epoch, 10, 16)
        assert np.array_equal(images, np.asarray(x)[:10])
        assert np.array_equal(labels, np.asarray(y)[:10])


def test_preview_spanning_several_batches(shapes):
    steps = default_augmentation()
    expected = np.concatenate([x for x, _ in batches(make_pipeline(shapes, "train", 8, seed=4, augmentation=steps))])
    assert np.array_equal(first_training_samples(shapes, steps, 4, 0, 20, 8)[0], expected[:20])


def test_mixing_steps_switch_every_split_to_soft_labels(shapes):
    steps = [{"type": "mixup", "alpha": 0.4}]
    assert needs_soft_labels(steps) and not needs_soft_labels(default_augmentation())
    x, y = batches(make_pipeline(shapes, "train", 44, augmentation=steps))[0]
    assert y.shape == (44, 4) and y.dtype == np.float32
    assert np.allclose(y.sum(axis=1), 1.0, atol=1e-5)
    assert (y.max(axis=1) < 0.999).any()  # some labels really are blends
    _, y_val = batches(make_pipeline(shapes, "val", 64, augmentation=steps))[0]
    assert np.array_equal(y_val, np.eye(4, dtype=np.float32)[shapes.y_val])


def test_binary_soft_labels_are_one_column():
    data = load_dataset({"source": "toy", "name": "xor", "samples": 60})
    _, y = next(iter(make_pipeline(data, "train", 8, augmentation=[{"type": "mixup"}])))
    assert y.shape == (8, 1)


def test_image_steps_on_tables_and_mixing_on_regression_are_refused():
    table = load_dataset({"source": "toy", "name": "moons", "samples": 60})
    with pytest.raises(AugmentationError, match="Rotation needs images"):
        make_pipeline(table, "train", 8, augmentation=[{"type": "rotation"}])
    noisy = batches(make_pipeline(table, "train", 64, augmentation=[{"type": "gaussian_noise", "stddev": 0.1}]))[0][0]
    assert noisy.shape == table.x_train.shape and not np.isin(noisy, table.x_train).all()


def test_bad_pipeline_arguments(shapes):
    with pytest.raises(DataError, match="batch_size"):
        make_pipeline(shapes, "train", 0)
    with pytest.raises(DataError, match="unknown split 'holdout'"):
        make_pipeline(shapes, "holdout", 8)
    empty = load_dataset({"source": "shapes", "count": 10, "image_size": 16, "split": {"train": 0.8, "val": 0.2}})
    with pytest.raises(DataError, match="the test split is empty"):
        make_pipeline(empty, "test", 8)


def test_backend_neutral_stream_skips_like_tf_data_and_prefetches_only_slow_batches(shapes):
    from studio.core.data.batches import WORKERS, batch_dataset, prefetch_workers
    from studio.core.data.pipeline import _Plan

    plan = _Plan(shapes, "train", 4, 0, None, True, False)
    stream = batch_dataset(plan, epoch=1, epochs=2)
    later = stream.skip(plan.steps + 1)  # the second batch of the second epoch
    assert later.num_batches == stream.num_batches - plan.steps - 1
    for mine, reference in zip(later[0], stream[plan.steps + 1]):
        np.testing.assert_array_equal(mine, reference)
    assert prefetch_workers(plan) == 0  # an in-memory gather: made on the training thread
    augmented = _Plan(shapes, "train", 4, 0, default_augmentation(), True, False)
    assert prefetch_workers(augmented) == WORKERS
