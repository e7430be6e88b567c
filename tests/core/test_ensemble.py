"""Ensembles: members averaged exactly, safe round trip, incompatible members refused, the CLI."""

from pathlib import Path

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


def test_bootstrap_indices_are_a_resample_with_replacement_fixed_by_the_seed():
    from studio.core.data.splits import bootstrap_indices

    draw = bootstrap_indices(1000, 7)
    assert len(draw) == 1000 and draw.min() >= 0 and draw.max() < 1000
    assert 0.58 < len(np.unique(draw)) / 1000 < 0.68  # about 1 - 1/e of the samples, some repeated
    np.testing.assert_array_equal(draw, bootstrap_indices(1000, 7))
    assert not np.array_equal(draw, bootstrap_indices(1000, 8))


def test_the_bootstrap_option_resamples_only_the_training_split():
    plain, bagged = load_dataset(TOY), load_dataset({**TOY, "bootstrap": 3})
    assert len(bagged.x_train) == len(plain.x_train)
    rows = {tuple(row) for row in plain.x_train.round(6)}
    assert {tuple(row) for row in bagged.x_train.round(6)} < rows  # a proper subset: some drawn twice
    pairs = {(tuple(x), int(y)) for x, y in zip(plain.x_train.round(6), plain.y_train)}
    assert all((tuple(x), int(y)) in pairs for x, y in zip(bagged.x_train.round(6), bagged.y_train))
    for split in ("val", "test"):
        np.testing.assert_array_equal(bagged.split(split)[1], plain.split(split)[1])
    assert any("bootstrap resample (seed 3)" in note for note in bagged.report)
    assert bagged.normalization == plain.normalization  # members share one input scaling
    np.testing.assert_array_equal(load_dataset({**TOY, "bootstrap": 3}).x_train, bagged.x_train)


def test_bagging_members_resample_with_consecutive_seeds_and_the_ensemble_forgets_them(tmp_path):
    from studio.core.ensemble import bagging_projects

    project = Project(name="p", dataset=TOY)
    members = bagging_projects(project, 3, seed=10)
    assert [m.dataset["bootstrap"] for m in members] == [10, 11, 12] and "bootstrap" not in project.dataset
    assert members[2].name == "p bag 3 of 3"
    with pytest.raises(EnsembleError, match="2 to 16 members"):
        bagging_projects(project, 1)
    for other in (Project(name="c", dataset=TOY, training={"objective": "contrastive"}),
                  Project(name="v", dataset=TOY, generative={"kind": "vae"})):
        with pytest.raises(EnsembleError, match="bag a supervised run"):  # refused before any member trains
            bagging_projects(other, 2)
    runs = []
    for index, member in enumerate(members[:2]):
        runs.append(_run(tmp_path / f"run{index}", _model(index)))
        save_project(member, runs[-1] / "project.dlstudio")
    assert combine(runs).project.dataset == TOY


@pytest.mark.slow
def test_cli_bagging_trains_two_members_and_scores_them_beside_the_ensemble(tmp_path, capsys):
    from studio.core.project import load_project

    data = '{"source": "toy", "name": "moons", "samples": 120, "seed": 0}'
    assert main(["ensemble", "--bagging", "2", "mlp_one_hidden", "--data", data, "--epochs", "2",
                 "--runs", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    members = [Path(line.split()[-1]) for line in lines if line.startswith("member ")]
    assert [load_project(m / "project.dlstudio").dataset["bootstrap"] for m in members] == [0, 1]
    scores = [line.split() for line in lines[:3]]
    assert [s[0] for s in scores] == [m.name for m in members] + ["ensemble"]
    assert all(s[1:3] == ["test", "accuracy"] and 0 <= float(s[3]) <= 1 for s in scores)
    ensemble_run = Path(lines[-1].removeprefix("wrote run folder "))
    assert (ensemble_run / "model.keras").is_file()
    assert "bootstrap" not in load_project(ensemble_run / "project.dlstudio").dataset
