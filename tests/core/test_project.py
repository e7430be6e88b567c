import json

import pytest

from studio.core.project import SCHEMA_VERSION, ProjectError, default_project, load_project, save_project


def test_save_and_load_keep_everything(tmp_path):
    project = default_project()
    project.view["positions"] = {next(iter(project.graph.nodes)): [10.0, 20.0]}
    path = tmp_path / "p.dlstudio"
    save_project(project, path)
    loaded = load_project(path)
    assert loaded.to_dict() == project.to_dict()
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    assert [p.name for p in tmp_path.iterdir()] == ["p.dlstudio"]  # no temp file left behind


def test_version_1_files_migrate_positions_out_of_the_graph(tmp_path):
    data = default_project().to_dict()
    data["schema_version"] = 1
    first = data["graph"]["nodes"][0]
    first["pos"] = [5, 6]
    del data["generative"], data["view"]
    path = tmp_path / "old.dlstudio"
    path.write_text(json.dumps(data))
    project = load_project(path)
    assert project.view["positions"] == {first["id"]: [5, 6]}
    assert "pos" not in project.graph.to_dict()["nodes"][0]


@pytest.mark.parametrize("text, message", [
    ('{"schema_version": 99, "graph": {"nodes": []}}', "newer DL Studio"),
    ('{"schema_version": 2, "graph": {"nodes": [', "not valid JSON.*truncated"),
    ('{"graph": {"nodes": []}}', "schema_version"),
    ('{"schema_version": 2, "graph": {"nodes": [{"id": 1}]}}', r"graph.nodes\[0\]"),
    ('{"schema_version": 2, "graph": {"nodes": []}, "training": []}', "'training' should be a dict"),
    ('[1, 2]', "JSON object"),
])
def test_bad_files_are_refused_with_one_line(tmp_path, text, message):
    path = tmp_path / "bad.dlstudio"
    path.write_text(text)
    with pytest.raises(ProjectError, match=message) as info:
        load_project(path)
    assert "\n" not in str(info.value)


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "p.dlstudio"
    save_project(default_project(), path)
    before = path.read_bytes()
    project = default_project()
    project.training["bad"] = object()  # not JSON-serializable: the write fails mid-way
    with pytest.raises(TypeError):
        save_project(project, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.dlstudio"]


def test_default_project_takes_its_settings_from_the_specs():
    import numpy as np

    from studio.core.data import load_dataset
    from studio.core.data.source_options import DATASET_FIELD, DEFAULT_SPLIT
    from studio.core.project.file import DEFAULT_PROJECT_TRAINING
    from studio.core.training.config import TrainingConfig

    project = default_project()
    assert project.training == DEFAULT_PROJECT_TRAINING  # every other setting is its spec's default
    config = TrainingConfig.from_dict(project.training)
    assert (config.epochs, config.grad_norm_every) == (5, 10) and config.optimizer == TrainingConfig().optimizer
    assert project.dataset == {"source": "digits", "image_size": 28}  # the template's input size, nothing else
    data = load_dataset(project.dataset)  # the specs' defaults: the same data as the spec written in full
    written = load_dataset({"source": "digits", "image_size": 28, "split": DEFAULT_SPLIT,
                            "seed": DATASET_FIELD["seed"].default, "normalize": "scale"})
    assert all(np.array_equal(data.split(name)[0], written.split(name)[0]) for name in ("train", "val", "test"))
