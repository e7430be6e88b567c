"""``studio runs`` / ``compare`` / ``variants`` / ``sweep``: tables, labels, diffs, variants and the
one-line refusals of bad spaces and storages."""

import json
import sqlite3

import pytest

from experiments_helpers import save_tiny, tiny_project
from studio.cli import main
from studio.core.experiments.space import SpaceError, parse_space
from studio.core.experiments.variants import VariantError, make_variants, parse_vary
from studio.core.graph.infer import analyze
from studio.core.project import default_project, load_project, save_project
from test_experiments_store import make_run


def _order(project):
    return [project.graph.node(i).type for i in project.graph.topological_order()]


def test_runs_table_sort_filter_csv_tags_and_notes(tmp_path, capsys):
    root = tmp_path / "runs"
    for name, lr in (("a", 0.1), ("b", 0.01), ("c", 0.001)):
        make_run(root / name, lr=lr, val=[0.5, lr, 0.3])
    assert main(["runs", "tag", str(root / "b"), "keeper"]) == 0
    assert main(["runs", "note", str(root / "b"), "lower", "lr", "wins"]) == 0
    capsys.readouterr()
    assert main(["runs", str(root), "--sort=-learning_rate", "--columns", "name,learning_rate,tags,note",
                 "--csv", str(tmp_path / "t.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["name", "learning_rate", "tags", "note"]
    assert [line.split()[0] for line in out[1:]] == ["a", "b", "c"]
    assert "keeper" in out[2] and "lower lr wins" in out[2]
    assert (tmp_path / "t.csv").read_text().splitlines()[2] == "b,0.01,keeper,lower lr wins"
    assert main(["runs", str(root), "--filter", "tags=keeper", "--columns", "name"]) == 0
    assert capsys.readouterr().out.split() == ["name", "b"]
    assert main(["runs", str(root), "--filter", "best.val_loss<=0.01", "--columns", "name"]) == 0
    assert capsys.readouterr().out.split() == ["name", "c", "b"]  # newest first
    assert main(["runs", str(root), "--sort", "bogus"]) == 2
    assert "unknown column 'bogus'" in capsys.readouterr().err
    assert main(["runs", str(tmp_path / "nowhere")]) == 2
    assert "no such runs folder" in capsys.readouterr().err
    assert main(["runs", "tag", str(tmp_path), "x"]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_compare_two_runs(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    for path, units, lr in ((a, 8, 0.1), (b, 32, 0.01)):
        make_run(path, lr=lr)
        project = tiny_project()
        project.graph.set_param(project.graph.by_name("dense_1").id, "units", units)
        if units == 32:
            project.graph.add_node("Dropout", {"rate": 0.5}, name="drop")
            project.dataset["max_samples"] = 80
        save_project(project, path / "project.dlstudio")
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "learning_rate: 0.1 -> 0.01" in out and "~ dense_1.units: 8 -> 32" in out
    assert "+ drop (only in b)" in out and "max_samples: 120 -> 80" in out
    assert main(["compare", str(a), str(a)]) == 0
    assert "same settings, graph and data" in capsys.readouterr().out
    assert main(["compare", str(a), str(tmp_path / "none")]) == 2
    assert "no such run folder or project file" in capsys.readouterr().err


def _vary(project, text):
    return make_variants(project, parse_vary(text, project))


def test_variants_change_one_choice_everywhere():
    project = default_project()  # conv, pool, conv, pool, flatten, dropout, dense(softmax)
    relu, sigmoid = _vary(project, "activation=relu,sigmoid")
    assert relu[0] == "activation=relu" and sigmoid[1].name.endswith("activation-sigmoid")
    acts = [n.params["activation"] for n in sigmoid[1].graph.nodes.values() if "activation" in n.params]
    assert acts == ["sigmoid", "sigmoid", "softmax"]  # the output layer keeps its activation
    (_, on), (_, off) = _vary(project, "batchnorm=on,off")
    assert _order(on).count("BatchNormalization") == 2 and analyze(on.graph).ok
    assert _order(on)[:3] == ["Input", "Conv2D", "BatchNormalization"]
    assert "BatchNormalization" not in _order(_vary(on, "batchnorm=off")[0][1])
    (_, none), (_, half) = make_variants(project, {"dropout": {"choices": [0, 0.5]}})
    assert "Dropout" not in _order(none) and analyze(none.graph).ok
    assert [n.params["rate"] for n in half.graph.nodes.values() if n.type == "Dropout"] == [0.5]
    (_, dense_drop), = _vary(tiny_project(), "dropout=0.3")
    assert _order(dense_drop) == ["Input", "Flatten", "Dense", "Dropout", "Dense"]
    lrs = _vary(project, "learning_rate=0.1, 0.01")
    assert [p.training["learning_rate"] for _, p in lrs] == [0.1, 0.01]
    assert _vary(project, "optimizer=sgd")[0][1].training["optimizer"] == "sgd"
    assert project.training.get("optimizer", "adam") == "adam"  # the original is untouched
    for text, message in (("colour=red", "unknown setting 'colour'"),
                          ("activation=bogus", "unknown activation 'bogus'"),
                          ("learning_rate=0", "learning_rate must be above 0"),
                          ("dropout=1.5", "dropout must be at most"),
                          ("activation", "write KEY=V1,V2")):
        with pytest.raises(VariantError, match=message):
            _vary(project, text)


def test_variants_are_the_grid_over_any_setting_of_the_search_space():
    project = tiny_project()
    variants = _vary(project, "dense_1.units=4,8")  # any key a sweep can search: a layer's parameter
    assert [label for label, _ in variants] == ["dense_1.units=4", "dense_1.units=8"]
    assert [p.graph.by_name("dense_1").params["units"] for _, p in variants] == [4, 8]
    assert [p.training["batch_size"] for _, p in _vary(project, "batch_size=8 .. 24 step 8")] == [8, 16, 24]
    grid = make_variants(project, {**parse_vary("optimizer=adam,sgd", project),
                                   **parse_vary("early_stopping=on,off", project)})
    assert [label for label, _ in grid] == ["optimizer=adam, early_stopping=on", "optimizer=adam, early_stopping=off",
                                            "optimizer=sgd, early_stopping=on", "optimizer=sgd, early_stopping=off"]
    assert grid[3][1].name == f"{project.name}-optimizer-sgd-early_stopping-off"
    assert grid[3][1].training["early_stopping"] is False
    with pytest.raises(VariantError, match="at most 32"):
        make_variants(project, {"batch_size": {"low": 1, "high": 40, "step": 1}})


def test_values_text_becomes_the_space_the_cli_reads():
    from studio.core.experiments.space import entry_from_text, setting_spec

    assert entry_from_text("learning_rate", "1e-4 .. 1e-1 log") == {"low": 1e-4, "high": 0.1, "log": True}
    assert entry_from_text("out.rate", "0 .. 0.5 step 0.1") == {"low": 0, "high": 0.5, "step": 0.1}
    assert entry_from_text("batch_size", "16, 32,64") == {"choices": [16, 32, 64]}
    assert entry_from_text("optimizer", "adam, sgd") == {"choices": ["adam", "sgd"]}
    project = tiny_project()
    read = {name: entry_from_text(name, text, setting_spec(name, project)[0])["choices"]
            for name, text in (("batchnorm", "on, off"), ("devices", "2, cpu"), ("learning_rate", "1, 0.5"))}
    assert read == {"batchnorm": [True, False], "devices": ["2", "cpu"], "learning_rate": [1.0, 0.5]}


@pytest.mark.parametrize("space, message", [
    ({}, "non-empty JSON object"),
    ({"lr": {"choices": [0.1]}}, "unknown setting 'lr'"),
    ({"dense_9.units": {"choices": [4]}}, "no layer 'dense_9'"),
    ({"dense_1.colour": {"choices": [4]}}, "dense_1 has no parameter 'colour'"),
    ({"learning_rate": {"low": 0.1, "high": 0.1}}, "empty range"),
    ({"learning_rate": {"low": 0, "high": 0.1, "log": True}}, "log range must start above 0"),
    ({"optimizer": {"choices": ["adam", "magic"]}}, "unknown optimizer 'magic'"),
    ({"optimizer": {"low": 1, "high": 2}}, "give choices instead of a range"),
    ({"dense_1.units": {"choices": []}}, "non-empty list"),
    ({"dense_1.units": {"low": 0, "high": 8}}, "units must be at least 1"),
    ({"batch_size": {"low": 8, "high": 64.5}}, "whole numbers"),
    ({"batch_size": {"choices": [8], "spread": 2}}, "unknown key"),
])
def test_bad_spaces_are_refused_with_one_line(space, message):
    with pytest.raises(SpaceError, match=message) as caught:
        parse_space(space, tiny_project())
    assert "\n" not in str(caught.value)


def test_sweep_command_refusals(tmp_path, capsys, monkeypatch):
    project = save_tiny(tmp_path / "tiny.dlstudio")
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"low": 0, "high": 1, "log": True}}))
    assert main(["sweep", str(project), "--space", str(space)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: learning_rate: a log range must start above 0, got low 0"]
    space.write_text(json.dumps({"learning_rate": {"choices": [0.01]}}))
    assert main(["sweep", str(project), "--space", str(space), "--sampler", "annealing"]) == 2
    assert "unknown sampler 'annealing'" in capsys.readouterr().err
    assert main(["sweep", str(project), "--space", str(space),
                 "--storage", "postgresql://u:secret@127.0.0.1:1/db"]) == 2
    err = capsys.readouterr().err
    assert "cannot open the study storage postgresql://u:***@127.0.0.1:1/db" in err and "secret" not in err
    monkeypatch.setattr("studio.core.experiments.sweep.SQLITE_WAIT_S", 0.2)
    locked = tmp_path / "locked.sqlite"
    holder = sqlite3.connect(locked)
    holder.execute("CREATE TABLE x (a)")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        code = main(["sweep", str(project), "--space", str(space), "--storage", f"sqlite:///{locked}"])
    finally:
        holder.rollback()
        holder.close()
    assert code == 2 and "cannot open the study storage" in capsys.readouterr().err
    assert main(["sweep", "best", str(project), "-o", str(tmp_path / "best.dlstudio")]) == 2
    assert "no study 'tiny'" in capsys.readouterr().err
    assert main(["variants", str(project), "--vary", "colour=red"]) == 2
    assert "unknown setting 'colour'" in capsys.readouterr().err
