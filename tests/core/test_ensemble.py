"""Ensembles: members averaged exactly, safe round trip, incompatible members refused, the CLI."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.data import load_dataset  # noqa: E402
from studio.core.ensemble import EnsembleError, combine, member_scores  # noqa: E402
from studio.core.graph.keras_io import load_keras_file  # noqa: E402
from studio.core.project import Project, save_project  # noqa: E402

TOY = {"source": "toy", "name": "moons", "samples": 120, "seed": 0}


def _model(seed, classes=2, activation="softmax", hidden=4):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((2,), name="input")
    x = keras.layers.Dense(hidden, activation="relu", name="hidden")(inputs)
    x = keras.layers.BatchNormalization(name="norm")(x)
    return keras.Model(inputs, keras.layers.Dense(classes, activation=activation, name="out")(x))


def _save(path, model):
    model.save(path)
    return path


def _run(folder, model):
    folder.mkdir()
    save_project(Project(name=folder.name, dataset=TOY), folder / "project.dlstudio")
    model.save(folder / "model.keras")
    return folder


def test_the_ensemble_is_the_mean_of_its_members_and_loads_safely(tmp_path):
    models = [_model(seed, hidden=3 + seed) for seed in range(3)]
    files = [_save(tmp_path / f"m{i}.keras", model) for i, model in enumerate(models)]
    ensemble = combine(files)
    x = np.random.default_rng(1).normal(size=(9, 2)).astype("float32")
    expected = np.mean([model.predict(x, verbose=0) for model in models], axis=0)
    np.testing.assert_allclose(ensemble.model.predict(x, verbose=0), expected, atol=1e-6)
    average = ensemble.graph.by_name("ensemble_average")
    assert average.type == "Average" and len(ensemble.graph.inputs(average.id)) == 3
    assert {node.name for node in ensemble.graph.nodes.values()} >= {"member1_hidden", "member3_norm"}
    ensemble.model.save(tmp_path / "e.keras")
    graph, reloaded = load_keras_file(tmp_path / "e.keras", with_model=True)
    np.testing.assert_allclose(reloaded.predict(x, verbose=0), expected, atol=1e-6)
    assert ensemble.project is None  # no member run, so no dataset


@pytest.mark.parametrize("other, message", [
    (lambda: _model(5, classes=3), r"maps \(2,\) -> \(3,\)"),
    (lambda: _model(5, activation="linear"), "ends in linear"),
])
def test_incompatible_members_are_refused_with_the_reason(tmp_path, other, message):
    files = [_save(tmp_path / "a.keras", _model(0)), _save(tmp_path / "b.keras", other())]
    with pytest.raises(EnsembleError, match=message):
        combine(files)


def test_too_few_or_missing_members_are_refused(tmp_path):
    file = _save(tmp_path / "a.keras", _model(0))
    with pytest.raises(EnsembleError, match="2 to 16 members"):
        combine([file])
    with pytest.raises(EnsembleError, match="not a run folder or a .keras file"):
        combine([file, tmp_path / "nothing"])


def test_cli_scores_members_beside_the_ensemble_and_writes_an_exportable_run(tmp_path, capsys):
    runs = [_run(tmp_path / f"run{i}", _model(i)) for i in range(2)]
    out_file, out_run = tmp_path / "e.keras", tmp_path / "ens"
    assert main(["ensemble", *map(str, runs), "-o", str(out_file), "--run-dir", str(out_run)]) == 0
    lines = capsys.readouterr().out.splitlines()
    ensemble = combine(runs)
    expected = member_scores(ensemble, load_dataset(TOY))
    for (label, metric, value), line in zip(expected, lines):
        assert line.split() == [label, "test", metric, f"{value:.4f}"]
    assert out_file.is_file() and (out_run / "model.keras").is_file()
    assert main(["export", str(out_run), "--format", "keras", "-o", str(tmp_path / "x.keras")]) == 0
    assert main(["ensemble", str(runs[0]), str(runs[1]), "-o", str(tmp_path / "e.txt")]) == 2
    assert main(["ensemble", str(runs[0]), str(runs[1]), "--run-dir", str(out_run)]) == 2  # exists already
    assert "already exists" in capsys.readouterr().err
