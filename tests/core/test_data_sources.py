"""Built-in sources, splits, normalization and spec validation."""

import numpy as np
import pytest

from studio.core.data import DataError, default_dataset_spec, load_dataset

SMALL_SHAPES = {"source": "shapes", "count": 15, "image_size": 16}


def test_default_spec_is_digits_28x28_with_ten_classes():
    data = load_dataset(default_dataset_spec())
    assert data.input_shape == (28, 28, 1)
    assert data.num_classes == 10 and data.task == "classification"
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert len(data.x_train) + len(data.x_val) + len(data.x_test) == 1797


def test_digits_native_8x8():
    data = load_dataset({"source": "digits", "image_size": 8, "max_samples": 200})
    assert data.input_shape == (8, 8, 1)
    assert sum(len(data.split(s)[0]) for s in ("train", "val", "test")) == pytest.approx(200, abs=10)


def test_shapes_are_deterministic_by_seed_and_differ_across_seeds():
    first, again = load_dataset(SMALL_SHAPES), load_dataset(SMALL_SHAPES)
    other = load_dataset({**SMALL_SHAPES, "seed": 1})
    assert np.array_equal(first.x_train, again.x_train)
    assert first.fingerprint() == again.fingerprint()
    assert not np.array_equal(first.x_train, other.x_train)
    assert first.fingerprint() != other.fingerprint()
    assert first.class_names == ["circle", "square", "triangle", "cross"]


def test_shapes_colour_and_noise_options():
    data = load_dataset({**SMALL_SHAPES, "colour": True, "noise": 0.0, "classes": ["ring", "triangle"]})
    assert data.input_shape == (16, 16, 3)
    assert data.task == "binary" and data.class_names == ["ring", "triangle"]
    clean = load_dataset({**SMALL_SHAPES, "noise": 0.0})
    assert set(np.unique(clean.x_train)) <= {0.0, 1.0}  # no noise: pure background and shape


def test_shapes_are_recognisably_different():
    data = load_dataset({**SMALL_SHAPES, "noise": 0.0, "classes": ["circle", "ring"]})
    filled = [data.x_train[data.y_train == c].mean() for c in range(2)]
    assert filled[0] > filled[1]  # a disc covers more pixels than a ring of the same radius


@pytest.mark.parametrize("name,classes", [("xor", 2), ("moons", 2), ("circles", 2), ("spirals", 3), ("blobs", 4)])
def test_toy_sets(name, classes):
    data = load_dataset({"source": "toy", "name": name, "samples": 120, "classes": classes})
    assert data.input_shape == (2,)
    assert data.num_classes == classes
    assert data.task == ("binary" if classes == 2 else "classification")
    # standardized with training statistics
    assert np.allclose(data.x_train.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(data.x_train.std(axis=0), 1, atol=1e-4)


def test_stratified_split_keeps_class_proportions():
    data = load_dataset({**SMALL_SHAPES, "count": 40, "split": {"train": 0.5, "val": 0.25, "test": 0.25}})
    assert data.class_counts("train") == {name: 20 for name in data.class_names}
    assert data.class_counts("val") == {name: 10 for name in data.class_names}
    assert data.class_counts("test") == {name: 10 for name in data.class_names}


def test_splits_are_disjoint_and_seeded():
    spec = {"source": "toy", "name": "blobs", "samples": 90}
    a, b = load_dataset(spec), load_dataset({**spec, "seed": 5})
    rows = {tuple(r) for r in a.x_train} & {tuple(r) for r in a.x_test}
    assert not rows
    assert not np.array_equal(a.y_train, b.y_train)


def test_split_that_leaves_a_class_empty_is_an_error():
    with pytest.raises(DataError, match="class 'circle' has only 3 sample.*validation split would get none"):
        load_dataset({**SMALL_SHAPES, "count": 3, "split": {"train": 0.8, "val": 0.1, "test": 0.1}})


def test_zero_ratio_split_is_empty():
    data = load_dataset({**SMALL_SHAPES, "split": {"train": 0.8, "val": 0.2}})
    assert len(data.x_test) == 0 and data.x_test.shape[1:] == (16, 16, 1)


def test_standardize_uses_training_statistics_only():
    data = load_dataset({**SMALL_SHAPES, "colour": True, "normalize": "standardize"})
    assert np.allclose(data.x_train.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    assert np.allclose(data.x_train.std(axis=(0, 1, 2)), 1, atol=1e-3)
    assert not np.allclose(data.x_val.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    assert data.normalization["mode"] == "standardize" and len(data.normalization["mean"]) == 3
    low, high = data.value_range
    assert low <= data.x_train.min() and data.x_train.max() <= high + 1e-5


def test_normalize_none_keeps_pixel_values():
    data = load_dataset({**SMALL_SHAPES, "normalize": "none", "noise": 0.0})
    assert data.x_train.max() == 255.0 and data.value_range == (0.0, 255.0)


def test_fingerprint_depends_on_spec():
    a = load_dataset(SMALL_SHAPES)
    b = load_dataset({**SMALL_SHAPES, "normalize": "none"})
    assert len(a.fingerprint()) == 16 and a.fingerprint() != b.fingerprint()


@pytest.mark.parametrize(
    "spec,message",
    [
        ({"source": "nope"}, "unknown dataset source 'nope'"),
        ({}, "source"),
        ({"source": "digits", "split": {"train": 0.5, "val": 0.1}}, "add up to 1"),
        ({"source": "digits", "split": {"train": 0.9, "valid": 0.1}}, "split must look like"),
        ({"source": "digits", "normalize": "zscore"}, "normalize must be one of"),
        ({"source": "shapes", "classes": ["circle", "hexagon"]}, "hexagon"),
        ({"source": "shapes", "classes": ["circle"]}, "at least two classes"),
        ({"source": "shapes", "count": "many"}, "shapes: count must be a whole number"),
        ({"source": "toy", "name": "donut"}, "toy: unknown name 'donut': choose one of"),
        ({"source": "digits", "image_size": 2}, "image_size must be at least 8"),
    ],
)
def test_bad_specs_raise_data_error(spec, message):
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_summary_lists_counts_and_classes():
    lines = load_dataset(SMALL_SHAPES).summary()
    assert "task: classification" in lines
    assert any(line.startswith("train: 44 samples (circle 11") for line in lines)


def test_a_source_is_declared_once_and_everything_follows(monkeypatch):
    from studio.core.data.paths import spec_for_path
    from studio.core.data.source_options import DATA_SOURCES, SourceDeclaration, describe_sources

    toy = DATA_SOURCES["toy"]
    monkeypatch.setitem(DATA_SOURCES, "points", SourceDeclaration("points", "Points again", toy.loader,
                                                                  "The toy points under another name.", toy.options))
    data = load_dataset({"source": "points", "name": "xor", "samples": 40})
    assert data.input_shape == (2,) and data.spec["source"] == "points"
    assert spec_for_path("points") == {"source": "points"}
    assert "points: Points again" in describe_sources()
    assert {s.name for s in DATA_SOURCES.values() if s.takes_path} == {
        "folder", "image_list", "csv", "text_csv", "text_folder", "corpus", "npz", "npy", "mask_folder", "coco", "yolo"}
    assert {s.name for s in DATA_SOURCES.values() if s.scanned} == {"folder", "image_list", "csv"}
