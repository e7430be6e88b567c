"""Live probes of the training engine: the callback on a tiny model, and a real in-process run."""

import numpy as np
import pytest

from studio.core.graph.templates import load_template
from studio.core.inspect import load_probe_snapshot, probe_snapshot
from studio.core.project import default_project
from studio.core.training.callbacks import RunState
from studio.core.training.engine import train_run
from studio.core.training.plan import plan_run, prepare_run_folder
from studio.core.inspect.live_probes import LiveProbes
from studio.core.training.probes import read_probes_config, write_probes_config
from studio.core.training.runs import RunFolder, read_events


def _conv_model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 1))
    features = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    pooled = keras.layers.GlobalAveragePooling2D(name="pool")(features)
    return keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="out")(pooled))


def _probes(tmp_path, model, x_test):
    probes = LiveProbes(RunFolder(tmp_path), RunState(), x_test)
    probes.set_model(model)
    return probes


def test_no_config_no_snapshot_then_snapshots_match_the_core(tmp_path):
    model = _conv_model()
    x_test = np.random.default_rng(0).random((10, 8, 8, 1), dtype="float32")
    probes = _probes(tmp_path, model, x_test)
    probes.on_epoch_end(0)
    assert read_events(tmp_path) == [] and not (tmp_path / "probes").exists()

    write_probes_config(tmp_path, [7, 2], "conv")
    assert read_probes_config(tmp_path) == {"samples": [7, 2], "layer": "conv"}
    probes.on_epoch_end(1)
    event = read_events(tmp_path)[-1]
    assert (event["type"], event["epoch"], event["samples"]) == ("probes", 2, [7, 2])
    assert event["path"] == "probes/epoch_002.npz"
    snapshot = load_probe_snapshot(tmp_path / event["path"])
    expected = probe_snapshot(model, x_test[[7, 2]], "conv")
    assert list(snapshot["samples"]) == [7, 2]
    np.testing.assert_allclose(snapshot["activations"], expected["activations"], rtol=1e-5)
    np.testing.assert_allclose(snapshot["heatmaps"], expected["heatmaps"], atol=1e-5)


def test_bad_config_is_reported_once_and_training_goes_on(tmp_path):
    probes = _probes(tmp_path, _conv_model(), np.zeros((3, 8, 8, 1), "float32"))
    write_probes_config(tmp_path, [5], "conv")
    probes.on_epoch_end(0)
    probes.on_epoch_end(1)
    write_probes_config(tmp_path, [0], "nope")
    probes.on_epoch_end(2)
    errors = [event for event in read_events(tmp_path) if event["type"] == "probes"]
    assert [event["epoch"] for event in errors] == [1, 3]
    assert "sample 5 is outside the test split (0..2)" in errors[0]["error"]
    assert "no layer named 'nope'" in errors[1]["error"]


@pytest.mark.slow  # trains for seconds; the callback tests above are the fast lane's
def test_a_real_run_writes_probe_snapshots_each_epoch(tmp_path):
    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = {"source": "digits", "max_samples": 60, "seed": 0}
    project.training = {"epochs": 2, "batch_size": 16, "grad_norm_every": 0}
    folder = prepare_run_folder(plan_run(project), tmp_path / "run")
    layer = next(node.name for node in project.graph.nodes.values() if node.type == "Conv2D")
    write_probes_config(folder.path, [0, 3, 4], layer)
    assert train_run(folder) == "completed"
    events = [event for event in read_events(folder.path) if event["type"] == "probes"]
    assert [event["epoch"] for event in events] == [1, 2]
    first, second = (load_probe_snapshot(folder.path / event["path"]) for event in events)
    assert first["activations"].shape[0] == 3 and first["heatmaps"].shape == (3, 28, 28)
    assert not np.allclose(first["activations"], second["activations"])  # the weights moved
