"""Augmentation catalog, step validation, every step on a batch, grids and PNG files."""

import numpy as np
import pytest
from PIL import Image

from studio.core.augment.builder import batch_seed
from studio.core.augment import (
    AUGMENTATIONS,
    AugmentationError,
    build_augmenter,
    default_augmentation,
    grid_image,
    save_grid_png,
    validate_steps,
)


def test_catalog_entries_are_complete_and_within_range():
    assert {"flip", "rotation", "zoom", "translation", "random_crop", "contrast", "brightness",
            "gaussian_noise", "random_erasing", "mixup", "cutmix"} <= set(AUGMENTATIONS)
    for spec in AUGMENTATIONS.values():
        assert spec.help and spec.title and spec.params
        for param in spec.params:
            assert param.help
            if param.kind == "choice":
                assert param.default in param.choices
            else:
                assert param.minimum <= param.default <= param.maximum
    assert validate_steps([{"type": t} for t in AUGMENTATIONS])  # defaults validate


def test_default_chain_does_not_flip():
    steps = validate_steps(default_augmentation())
    assert [s["type"] for s in steps] == ["rotation", "zoom", "translation"]


def test_validate_fills_defaults():
    assert validate_steps([{"type": "zoom", "factor": 0.2}]) == [{"type": "zoom", "factor": 0.2, "fill_mode": "reflect"}]


@pytest.mark.parametrize(
    "steps,message",
    [
        ({"type": "flip"}, "must be a list"),
        ([{"mode": "horizontal"}], "needs a \"type\""),
        ([{"type": "warp"}], "unknown type 'warp'"),
        ([{"type": "rotation", "angle": 3}], "unknown parameter.*angle"),
        ([{"type": "rotation", "factor": 0.9}], "rotation step: factor must be at most 0.5"),
        ([{"type": "rotation", "factor": "big"}], "must be a number"),
        ([{"type": "flip", "mode": "diagonal"}], "flip step: unknown mode 'diagonal': choose one of"),
        ([{"type": "random_crop", "padding": 2.5}], "whole number"),
    ],
)
def test_bad_steps_are_refused(steps, message):
    with pytest.raises(AugmentationError, match=message):
        validate_steps(steps)


@pytest.mark.parametrize("step_type", sorted(AUGMENTATIONS))
def test_every_step_changes_a_batch_deterministically_and_keeps_its_shape(step_type):
    rng = np.random.default_rng(0)
    images = rng.random((8, 12, 12, 3)).astype(np.float32)
    labels = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 8)]
    step = {"type": step_type, "probability": 1.0} if step_type == "random_erasing" else {"type": step_type}
    augmenter = build_augmenter([step], seed=1)
    out, out_labels = augmenter.apply(images, labels, batch_seed(1, 0, 0))
    again, _ = augmenter.apply(images, labels, batch_seed(1, 0, 0))
    later, _ = augmenter.apply(images, labels, batch_seed(1, 0, 1))
    assert out.shape == images.shape and out_labels.shape == labels.shape
    assert not np.array_equal(np.asarray(out), images)
    assert np.array_equal(np.asarray(out), np.asarray(again))
    assert not np.array_equal(np.asarray(out), np.asarray(later))
    if AUGMENTATIONS[step_type].mixes_labels:
        assert np.allclose(np.asarray(out_labels).sum(axis=1), 1.0, atol=1e-5)
    else:
        assert np.array_equal(np.asarray(out_labels), labels)


def test_random_crop_moves_whole_pixels_per_image():
    images = np.arange(2 * 6 * 6, dtype=np.float32).reshape(2, 6, 6, 1) + 1
    out = np.asarray(build_augmenter([{"type": "random_crop", "padding": 2}], seed=3).apply(images, images, batch_seed(3, 0, 0))[0])
    for original, cropped in zip(images, out):
        kept = cropped[cropped > 0]
        assert set(kept) <= set(original.ravel())  # values are copied, never interpolated


def test_brightness_respects_the_value_range():
    images = np.full((4, 8, 8, 1), 0.5, np.float32)
    out = build_augmenter([{"type": "brightness", "factor": 1.0}], value_range=(0.0, 1.0)).apply(images, images, batch_seed(0, 0, 0))[0]
    assert 0.0 <= float(np.min(out)) and float(np.max(out)) <= 1.0


def test_grid_image_tiles_and_captions():
    images = np.random.default_rng(0).random((5, 10, 10, 1)).astype(np.float32)
    grid = grid_image(images, cols=3)
    assert grid.dtype == np.uint8 and grid.ndim == 3 and grid.shape[2] == 3
    scale = 7  # ceil(64 / 10): small tiles are enlarged
    assert grid.shape[1] == 3 * (10 * scale + 4) + 4 and grid.shape[0] == 2 * (10 * scale + 4) + 4
    captioned = grid_image(images, labels=list("abcde"), cols=3)
    assert captioned.shape[0] > grid.shape[0]
    with pytest.raises(ValueError):
        grid_image(np.zeros((0, 4, 4, 1)))


def test_save_grid_png_writes_a_readable_png(tmp_path):
    images = np.random.default_rng(0).random((4, 8, 8, 3)).astype(np.float32)
    path = tmp_path / "grid.png"
    grid = save_grid_png(path, images, labels=["w", "x", "y", "z"], value_range=(0.0, 1.0))
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (grid.shape[1], grid.shape[0])
        assert np.array_equal(np.asarray(image.convert("RGB")), grid)
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]  # no temp file left behind
