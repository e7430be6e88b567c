"""Dropped-image loading and the PNG pictures of maps, filters and confusion matrices."""

import io

import numpy as np
import pytest
from PIL import Image

from studio.core.inspect import InspectError, load_image
from studio.core.inspect.render import (
    colormap,
    confusion_matrix_image,
    feature_map_grid,
    filter_grid,
    heatmap_overlay,
    save_png,
)


def write_image(path, mode, size, colour):
    Image.new(mode, size, colour).save(path)
    return path


def test_rgb_image_is_resized_and_converted_to_grey(tmp_path):
    path = write_image(tmp_path / "red.png", "RGB", (40, 30), (255, 0, 0))
    sample = load_image(path, (28, 28, 1))
    assert sample.shape == (28, 28, 1) and sample.dtype == np.float32
    expected = Image.new("RGB", (1, 1), (255, 0, 0)).convert("L").getpixel((0, 0)) / 255
    np.testing.assert_allclose(sample, expected, atol=1e-6)


def test_grey_bytes_become_rgb_and_none_keeps_range(tmp_path):
    buffer = io.BytesIO()
    Image.new("L", (8, 8), 100).save(buffer, format="JPEG")
    sample = load_image(buffer.getvalue(), (16, 12, 3), normalization={"mode": "none"})
    assert sample.shape == (16, 12, 3)
    assert abs(sample.mean() - 100) < 2 and np.allclose(sample[..., 0], sample[..., 2])


def test_free_dimensions_keep_the_image_size(tmp_path):
    path = write_image(tmp_path / "a.bmp", "RGBA", (7, 5), (0, 0, 255, 128))
    assert load_image(path, (None, None, 4)).shape == (5, 7, 4)
    assert load_image(path, (9, 9)).shape == (9, 9)


def test_non_images_and_non_image_models_are_explained(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    with pytest.raises(InspectError, match="notes.txt is not an image"):
        load_image(text, (28, 28, 1))
    with pytest.raises(InspectError, match="dropped data is not an image"):
        load_image(b"\x00\x01garbage", (28, 28, 1))
    with pytest.raises(InspectError, match="does not exist"):
        load_image(tmp_path / "missing.png", (28, 28, 1))
    image = write_image(tmp_path / "ok.png", "RGB", (4, 4), (1, 2, 3))
    with pytest.raises(InspectError, match=r"model input \(10,\) is not an image"):
        load_image(image, (10,))
    with pytest.raises(InspectError, match="unknown normalization"):
        load_image(image, (4, 4, 3), normalization={"mode": "whiten"})
    with pytest.raises(InspectError, match="standardized over 2 channels"):
        load_image(image, (4, 4, 3), normalization={"mode": "standardize", "mean": [0, 0], "std": [1, 1]})


def test_standardize_follows_the_dataset_record(tmp_path):
    path = write_image(tmp_path / "c.png", "RGB", (3, 3), (51, 102, 255))
    record = {"mode": "standardize", "divide": 255.0, "mean": [0.1, 0.2, 0.5], "std": [0.1, 0.2, 0.25]}
    sample = load_image(path, (3, 3, 3), normalization=record)
    np.testing.assert_allclose(sample[1, 1], [1.0, 1.0, 2.0], rtol=1e-5)


def test_feature_map_grid_tiles_every_channel():
    activation = np.zeros((4, 4, 5))
    activation[1, 2, 3] = 7.0
    picture = feature_map_grid(activation, columns=5)
    assert picture.dtype == np.uint8 and picture.shape[2] == 3
    tile = (picture.shape[1] + 2) // 5  # tiles are upscaled and separated by 2 white pixels
    assert picture.shape[1] == 5 * tile - 2 and picture.shape[0] == tile - 2
    hot = colormap(1.0)
    bright = np.all(picture == hot, axis=2)
    columns = np.flatnonzero(bright.any(axis=0))
    assert columns.min() >= 3 * tile and columns.max() < 4 * tile - 2  # only channel 3 lights up


def test_dense_and_sequence_activations_render():
    bars = feature_map_grid(np.array([1.0, -2.0, 0.5]))
    assert bars.ndim == 3 and bars.shape[1] == 3 * 6
    rows = feature_map_grid(np.random.default_rng(0).random((10, 3)))
    assert rows.shape[0] == 3 * 8


def test_filter_grid_and_overlay_shapes():
    assert filter_grid(np.random.default_rng(0).random((6, 3, 3, 3))).shape[2] == 3
    assert filter_grid(np.random.default_rng(0).random((6, 3, 3))).shape[2] == 3
    overlay = heatmap_overlay(np.zeros((8, 8, 1)), np.ones((8, 8)), alpha=1.0)
    assert overlay.shape == (8, 8, 3) and np.all(overlay == colormap(1.0))


def test_confusion_matrix_png_round_trip(tmp_path):
    counts = np.array([[5, 1, 0], [0, 3, 2], [1, 0, 9]])
    picture = confusion_matrix_image(counts, ["cat", "dog", "bird"])
    bigger = confusion_matrix_image(np.ones((6, 6), int), list("abcdef"))
    assert bigger.shape[0] > picture.shape[0] and bigger.shape[1] > picture.shape[1]
    path = tmp_path / "cm.png"
    save_png(path, picture)
    with Image.open(path) as reopened:
        np.testing.assert_array_equal(np.asarray(reopened), picture)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cm.png"]
