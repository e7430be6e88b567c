"""``studio evaluate`` / ``studio featuremaps`` on hand-made run folders."""

import csv

import numpy as np
import pytest
from PIL import Image
from sklearn import metrics as skm

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.data import load_dataset  # noqa: E402
from studio.core.project import Project, save_project  # noqa: E402

DIGITS = {"source": "digits", "image_size": 8, "split": {"train": 0.7, "val": 0.15, "test": 0.15}, "seed": 0,
          "normalize": "scale"}


def make_run(folder, dataset_spec, model, model_file="model.keras"):
    folder.mkdir()
    save_project(Project(name="fixture", dataset=dataset_spec), folder / "project.dlstudio")
    (folder / model_file).parent.mkdir(exist_ok=True)
    model.save(folder / model_file)
    return folder


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    keras.utils.set_random_seed(0)
    dataset = load_dataset(DIGITS)
    inputs = keras.Input(dataset.input_shape)
    h = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    h = keras.layers.Flatten(name="flat")(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="head")(h)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(dataset.x_train, dataset.y_train, epochs=2, batch_size=64, verbose=0)
    run = make_run(tmp_path_factory.mktemp("runs") / "digits", DIGITS, model)
    return run, model, dataset


def test_evaluate_prints_metrics_and_writes_confusion_files(digits_run, capsys):
    run, model, dataset = digits_run
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    y_pred = model.predict(dataset.x_test, verbose=0).argmax(axis=1)
    accuracy = skm.accuracy_score(dataset.y_test, y_pred)
    assert f"{accuracy:6.4f}" in next(line for line in out.splitlines() if line.startswith("accuracy"))
    macro = skm.f1_score(dataset.y_test, y_pred, average="macro", zero_division=0)
    assert f"{macro:6.4f}" in next(line for line in out.splitlines() if line.startswith("macro avg"))
    with open(run / "confusion_matrix.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][1:] == dataset.class_names
    counts = np.array([[int(v) for v in row[1:]] for row in rows[1:]])
    np.testing.assert_array_equal(counts, skm.confusion_matrix(dataset.y_test, y_pred, labels=range(10)))
    with Image.open(run / "confusion_matrix.png") as picture:
        assert picture.mode == "RGB" and picture.width > 10 * 40


def test_evaluate_output_folder_and_best_checkpoint(digits_run, tmp_path, capsys):
    run, model, _ = digits_run
    other = make_run(tmp_path / "stopped", DIGITS, model, model_file="checkpoints/best.keras")
    assert main(["evaluate", str(other), "--split", "val", "-o", str(tmp_path / "out")]) == 0
    assert "val split" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["confusion_matrix.csv", "confusion_matrix.png"]
    assert main(["evaluate", str(other), "--model", "final"]) == 2
    assert "no model file (model.keras)" in capsys.readouterr().err


def test_run_without_model_file_is_a_clear_error(tmp_path, capsys):
    run = tmp_path / "empty"
    run.mkdir()
    save_project(Project(name="x", dataset=DIGITS), run / "project.dlstudio")
    assert main(["evaluate", str(run)]) == 2
    err = capsys.readouterr().err
    assert "has no model file" in err and "Traceback" not in err
    assert main(["evaluate", str(tmp_path / "missing")]) == 2
    assert "is not a run folder" in capsys.readouterr().err
    (run / "model.keras").write_bytes(b"truncated")
    assert main(["featuremaps", str(run), "--layer", "conv", "-o", str(tmp_path / "m.png")]) == 2
    assert "not a Keras 3 .keras file" in capsys.readouterr().err


def test_evaluate_binary_reports_roc_auc(tmp_path, capsys):
    spec = {"source": "toy", "name": "moons", "samples": 200, "seed": 0}
    dataset = load_dataset(spec)
    inputs = keras.Input(dataset.input_shape)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="out")(inputs)
    model = keras.Model(inputs, outputs)
    model.get_layer("out").set_weights([np.array([[0.5], [-1.5]], "float32"), np.array([0.2], "float32")])
    run = make_run(tmp_path / "moons", spec, model)
    assert main(["evaluate", str(run)]) == 0
    scores = model.predict(dataset.x_test, verbose=0)[:, 0]
    assert f"ROC AUC {skm.roc_auc_score(dataset.y_test, scores):.4f}" in capsys.readouterr().out


def test_evaluate_regression_prints_error_metrics_without_confusion(tmp_path, capsys):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 3)).astype("float32")
    data = tmp_path / "reg.npz"
    np.savez(data, x=x, y=x @ np.array([1.0, -2.0, 0.5], "float32"))
    spec = {"source": "npz", "path": str(data), "task": "regression", "seed": 0}
    dataset = load_dataset(spec)
    inputs = keras.Input(dataset.input_shape)
    model = keras.Model(inputs, keras.layers.Dense(1, name="out")(inputs))
    run = make_run(tmp_path / "reg", spec, model)
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    predictions = model.predict(dataset.x_test, verbose=0)[:, 0]
    assert f"MAE   {skm.mean_absolute_error(dataset.y_test, predictions):.6g}" in out
    assert "no confusion matrix" in out
    assert not (run / "confusion_matrix.csv").exists()


def test_featuremaps_writes_the_layer_grid(digits_run, tmp_path, capsys):
    run, model, dataset = digits_run
    target = tmp_path / "maps.png"
    assert main(["featuremaps", str(run), "--layer", "conv", "--sample", "3", "-o", str(target)]) == 0
    assert f"output {tuple(model.get_layer('conv').output.shape[1:])}" in capsys.readouterr().out
    with Image.open(target) as picture:
        grid = np.asarray(picture)
    assert grid.shape[2] == 3 and grid.shape[0] < grid.shape[1] * 1.5
    image = tmp_path / "digit.png"
    Image.fromarray((dataset.x_test[3, ..., 0] * 255).astype("uint8")).resize((32, 32)).save(image)
    assert main(["featuremaps", str(run), "--layer", "head", "--image", str(image), "-o", str(target)]) == 0
    assert "output (10,)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--layer", "nope"], "no layer named 'nope'; its layers are: .*conv"),
        (["--layer", "conv", "--sample", "9999"], "--sample 9999 is out of range"),
        (["--layer", "conv", "--image", "__file__"], "is not an image"),
    ],
)
def test_featuremaps_bad_input(digits_run, tmp_path, capsys, extra, message):
    import re

    run, _, _ = digits_run
    extra = [__file__ if value == "__file__" else value for value in extra]
    assert main(["featuremaps", str(run), *extra, "-o", str(tmp_path / "m.png")]) == 2
    assert re.search(message, capsys.readouterr().err)
