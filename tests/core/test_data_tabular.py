"""CSV and NPZ sources: encoding, missing values, task inference and bad files."""

import numpy as np
import pytest

from studio.core.data import DataError, load_dataset

SPLIT = {"train": 0.6, "val": 0.2, "test": 0.2}


def write_csv(path, rows):
    path.write_text("\n".join(rows) + "\n")
    return str(path)


@pytest.fixture
def flowers_csv(tmp_path):
    rows = ["length,width,colour,kind"]
    rng = np.random.default_rng(0)
    for i in range(30):
        kind = ["rose", "tulip", "daisy"][i % 3]
        length = "" if i in (4, 11) else f"{rng.normal(5 + i % 3, 0.3):.2f}"
        colour = "NA" if i == 7 else ["red", "yellow"][i % 2]
        rows.append(f"{length},{rng.normal(2, 0.2):.2f},{colour},{kind}")
    rows.append("1.0,2.0,red")  # too few fields
    rows.append("1.0,2.0,red,")  # no target
    return write_csv(tmp_path / "flowers.csv", rows)


def test_csv_classification_with_one_hot_and_imputation(flowers_csv):
    data = load_dataset({"source": "csv", "path": flowers_csv, "target": "kind", "split": SPLIT})
    assert data.task == "classification" and data.class_names == ["daisy", "rose", "tulip"]
    assert data.feature_names == ["length", "width", "colour=(missing)", "colour=red", "colour=yellow"]
    assert data.input_shape == (5,)
    assert not np.isnan(data.x_train).any() and not np.isnan(data.x_test).any()
    assert abs(data.x_train[:, 0].mean()) < 1e-5 and abs(data.x_train[:, 0].std() - 1) < 1e-4
    assert set(np.unique(data.x_train[:, 2:])) <= {0.0, 1.0}
    report = "\n".join(data.report)
    assert "skipped line 32: 3 fields, the header has 4" in report
    assert "dropped 1 row(s) with no value in target column 'kind'" in report
    assert "column 'length': 2 missing value(s) filled with the training mean" in report
    assert "'(missing)'" in report
    assert data.class_counts("train") == {"daisy": 6, "rose": 6, "tulip": 6}
    assert "features (5): length, width, colour=(missing), colour=red, colour=yellow" in data.summary()


def test_csv_default_target_is_last_column_and_numeric_targets(tmp_path):
    rows = ["a,b,price"] + [f"{i},{i % 4},{i * 1.37:.2f}" for i in range(40)]
    data = load_dataset({"source": "csv", "path": write_csv(tmp_path / "p.csv", rows), "split": SPLIT})
    assert data.task == "regression" and data.num_classes == 0 and data.y_train.dtype == np.float32
    assert data.class_counts("train") == {}
    rows = ["a,b,label"] + [f"{i},{i % 4},{i % 2}" for i in range(40)]
    data = load_dataset({"source": "csv", "path": write_csv(tmp_path / "c.csv", rows), "split": SPLIT})
    assert data.task == "binary" and data.class_names == ["0", "1"]
    forced = load_dataset({"source": "csv", "path": str(tmp_path / "c.csv"), "task": "regression", "split": SPLIT})
    assert forced.task == "regression"


def test_csv_semicolon_separated_and_id_columns_dropped(tmp_path):
    rows = ["id;x;y"] + [f"user{i};{i};{'ab'[i % 2]}" for i in range(20)]
    data = load_dataset({"source": "csv", "path": write_csv(tmp_path / "s.csv", rows), "split": {"train": 0.5, "val": 0.5}})
    assert data.feature_names == ["x"]
    assert "dropped column 'id'" in "\n".join(data.report)


@pytest.mark.parametrize(
    "rows,options,message",
    [
        (["a,b"], {}, "needs a header row and at least one data row"),
        (["a,b", "1,2"], {"target": "c"}, "no column 'c'; columns are a, b"),
        (["a,a", "1,2"], {}, "empty or repeated column names"),
        (["a,b"] + [f"{i},x{i}" for i in range(9)], {"task": "regression"}, "text values, so it cannot be a regression target"),
        (["a,b"] + [f"{i},k" for i in range(9)], {}, "at least two classes"),
        (["a"] + [str(i % 2) for i in range(9)], {}, "only the target column"),
        (["a,b"] + [f",{i % 2}" for i in range(10)], {"split": {"train": 0.5, "val": 0.5}}, "no usable feature column"),
    ],
)
def test_bad_csv_files(tmp_path, rows, options, message):
    spec = {"source": "csv", "path": write_csv(tmp_path / "bad.csv", rows), **options}
    with pytest.raises(DataError, match=message):
        load_dataset(spec)


def test_csv_that_is_not_utf8(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("a,b\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        load_dataset({"source": "csv", "path": str(path)})


def test_npz_images_and_tables(tmp_path):
    rng = np.random.default_rng(0)
    path = tmp_path / "imgs.npz"
    np.savez(path, x=rng.random((30, 8, 8)).astype(np.float32), y=np.repeat([3, 7, 9], 10),
             class_names=np.array(["three", "seven", "nine"]))
    data = load_dataset({"source": "npz", "path": str(path), "split": SPLIT})
    assert data.input_shape == (8, 8, 1) and data.class_names == ["three", "seven", "nine"]
    assert "treated as pixel fractions" in data.report[0]
    assert 0 <= data.x_train.min() and data.x_train.max() <= 1
    path = tmp_path / "onehot.npz"
    np.savez(path, features=rng.random((20, 3)), target=np.eye(2)[np.arange(20) % 2])
    data = load_dataset({"source": "npz", "path": str(path), "x_key": "features", "y_key": "target",
                         "split": {"train": 0.5, "val": 0.5}})
    assert data.task == "binary" and data.input_shape == (3,)
    assert "looked one-hot" in data.report[0]


@pytest.mark.parametrize(
    "arrays,message",
    [
        ({"x": np.zeros((10, 3)), "y": np.zeros(9)}, "x has 10 samples but y has 9"),
        ({"inputs": np.zeros((10, 3)), "y": np.zeros(10)}, "no array 'x'; it holds inputs, y"),
        ({"x": np.array([[1, None]] * 10, dtype=object), "y": np.arange(10)}, "not Python objects"),
        ({"x": np.full((10, 2), np.nan), "y": np.arange(10) % 2}, "NaN or infinite"),
        ({"x": np.zeros((10, 3, 8, 8)), "y": np.arange(10) % 2}, "channels-first"),
        ({"x": np.full((10, 4, 4), 300.0), "y": np.arange(10) % 2}, "within 0..1 or 0..255"),
    ],
)
def test_bad_npz_files(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        load_dataset({"source": "npz", "path": str(path)})


def test_npz_that_is_not_a_zip(tmp_path):
    path = tmp_path / "fake.npz"
    path.write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="not a readable .npz"):
        load_dataset({"source": "npz", "path": str(path)})
