"""Features plug into runs through one hook list (studio.core.hooks); training knows none of them."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from studio.core import hooks
from studio.core.features import FEATURE_PLUGINS
from studio.core.project import default_project
from studio.core.training.build import builder_for
from studio.core.training.errors import TrainingError

PLUGIN = "run_hook_plugin"  # tests/core/run_hook_plugin.py


@pytest.fixture
def no_plugins(monkeypatch):
    """An empty hook list for the test (the session's registrations come back after it)."""
    monkeypatch.setattr(hooks, "_names", [])


def fake_plugin(monkeypatch, name: str, **functions) -> str:
    module = types.ModuleType(name)
    vars(module).update(functions)
    monkeypatch.setitem(sys.modules, name, module)
    return name


def test_hooks_answer_in_registration_order_and_skip_none(no_plugins, monkeypatch):
    a = fake_plugin(monkeypatch, "plugin_a", extend_run=lambda run: None, objective_builder=lambda p: "a")
    b = fake_plugin(monkeypatch, "plugin_b", extend_run=lambda run: "b", objective_builder=lambda p: "b")
    hooks.register(a, b, a)
    assert hooks.registered() == (a, b)
    assert hooks.call("extend_run", None) == ["b"]
    assert hooks.first("objective_builder", None) == "a"
    with pytest.raises(ValueError, match="unknown hook"):
        hooks.call("extend_runs", None)


def test_registering_imports_nothing_until_a_hook_is_called(no_plugins):
    hooks.register("no_such_plugin_module")
    assert "no_such_plugin_module" not in sys.modules
    with pytest.raises(ImportError):
        hooks.call("extend_run", None)


def test_the_session_registers_the_studio_features():
    assert set(FEATURE_PLUGINS) <= set(hooks.registered())


def test_a_generative_project_needs_its_feature_registered(no_plugins):
    project = default_project()
    project.generative = {"kind": "gan"}
    with pytest.raises(TrainingError, match="generative training is not available"):
        builder_for(project)
    project.generative, project.training["objective"] = None, "contrastive"
    with pytest.raises(TrainingError, match="contrastive training is not available"):
        builder_for(project)


def test_the_objective_builders_come_from_the_features():
    from studio.core.generative.training import build as generative_build
    from studio.core.transfer.contrastive import build as contrastive_build

    project = default_project()
    project.training["objective"] = "contrastive"
    assert hooks.first("objective_builder", project) is contrastive_build
    project.generative = {"kind": "gan"}  # a generative project wins, whatever the objective says
    assert hooks.first("objective_builder", project) is generative_build


def _build(project):
    from studio.core.data import load_dataset
    from studio.core.training.plan import check_config

    config = check_config({**project.training, "epochs": 3})
    setup = SimpleNamespace(jit_compile=False, info={})
    return builder_for(project)(project, config, load_dataset(project.dataset), setup, 0)


def test_a_registered_plugin_adds_to_every_build_and_the_store_is_a_feature(monkeypatch):
    from studio.core.experiments.hook import StoreHook

    monkeypatch.setattr(hooks, "_names", [*hooks.registered(), PLUGIN])
    built = _build(default_project())
    assert "plugin saw 3 epochs" in built.notes
    made = [type(make(SimpleNamespace(path=None))).__name__ if make is not StoreHook else "StoreHook"
            for make in built.folder_callbacks]
    assert made == ["StoreHook", "Marker"]
    monkeypatch.setattr(hooks, "_names", [])
    assert _build(default_project()).folder_callbacks == []  # training alone adds no feature


def _two_layer_model(units: int, name: str):
    import keras

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(units, name="out")(hidden), name=name)


def test_init_from_loads_by_name_and_reports_every_mismatch(tmp_path):
    from studio.core.training.config import TrainingConfig
    from studio.core.transfer.weights import load_weights, start_weights

    source = _two_layer_model(3, "source")
    source.save(tmp_path / "source.keras")
    model = _two_layer_model(5, "target")  # same names; "out" has other shapes
    notes = start_weights(model, TrainingConfig(init_from=str(tmp_path / "source.keras")))
    assert np.array_equal(model.get_layer("hidden").get_weights()[0], source.get_layer("hidden").get_weights()[0])
    assert "kept fresh (other shapes): out [(8, 5), (5,)] vs [(8, 3), (3,)]" in notes[0]
    report = load_weights(_two_layer_model(3, "same"), tmp_path / "source.keras", match="name")
    assert report.loaded == ["hidden", "out"] and report.mismatched == []


def test_a_backbone_loads_by_prefix_and_an_edited_layer_is_refused(tmp_path):
    import keras

    from studio.core.training.config import TrainingConfig
    from studio.core.transfer.backbones import BackboneError
    from studio.core.transfer.weights import load_weights, start_weights

    source = _two_layer_model(3, "source")
    source.save(tmp_path / "backbone.keras")
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, name="backbone_hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(2, name="head")(hidden))
    assert load_weights(model, tmp_path / "backbone.keras", match="prefix").loaded == ["backbone_hidden"]
    with pytest.raises(BackboneError, match="no layer of the model matches"):
        load_weights(model, tmp_path / "backbone.keras", match="name")
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, name="backbone_hidden")(inputs)
    edited = keras.Model(inputs, keras.layers.Dense(4, name="backbone_out")(hidden))  # was 3 units
    with pytest.raises(TrainingError, match=r"backbone_out \[\(8, 4\), \(4,\)\] vs .* re-attach the backbone"):
        start_weights(edited, TrainingConfig(backbone=str(tmp_path / "backbone.keras")))


@pytest.mark.slow
def test_the_spawned_training_process_gets_the_same_registrations(tmp_path, monkeypatch):
    import time

    from studio.core.training import Runner
    from studio.core.training.runs import RunFolder

    monkeypatch.setattr(hooks, "_names", [*hooks.registered(), PLUGIN])
    here = str(Path(__file__).resolve().parent)  # the child imports the plugin by name, as the parent did
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")])))
    project = default_project()
    project.dataset = {"source": "digits", "max_samples": 60, "seed": 0}
    project.training = {"epochs": 1, "batch_size": 8, "seed": 3}
    runner = Runner(project, tmp_path / "run")
    runner.start()
    deadline, events = time.monotonic() + 240, []
    while not runner.finished:
        assert time.monotonic() < deadline, "training did not finish in time"
        events += runner.poll(timeout=0.5)
    assert events[-1]["status"] == "completed"
    assert "plugin saw 1 epochs" in RunFolder(tmp_path / "run").info()["notes"]
    assert (tmp_path / "run" / "plugin.txt").read_text(encoding="utf-8") == "ran"
    assert (tmp_path / "run" / "summary.json").is_file()  # the run store, a registered feature too
