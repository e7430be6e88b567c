"""Backbones: attaching one with a new head, freezing, the cache-only keras.applications rule, frozen
weights bit-identical after training, the two-phase schedule, the CLI and the lesson."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.data import load_dataset  # noqa: E402
from studio.core.graph.groups import find_groups  # noqa: E402
from studio.core.graph.infer import analyze  # noqa: E402
from studio.core.graph.keras_io import load_keras_file  # noqa: E402
from studio.core.project import default_project, load_project  # noqa: E402
from studio.core.training.config import TrainingConfig  # noqa: E402
from studio.core.training.errors import TrainingError  # noqa: E402
from studio.core.training.plan import plan_run, prepare_run_folder  # noqa: E402
from studio.core.training.runs import read_events, read_run  # noqa: E402
from studio.core.transfer import (BackboneError, apply_freeze, backbone_layers, builtin_backbones,  # noqa: E402
                                  load_backbone, parse_freeze, resolve)
from studio.core.transfer.project import attach_backbone  # noqa: E402

SHAPES = {"source": "shapes", "classes": ["circle", "square", "cross"], "count": 40, "image_size": 28, "seed": 0}
SOURCE = "builtin:digits_cnn_28"


def _project(freeze="all", **training):
    project = default_project()
    project.dataset = SHAPES
    project.training = {**project.training, "epochs": 2, "batch_size": 16, "grad_norm_every": 0, **training}
    return attach_backbone(project, SOURCE, freeze)


def _weights(model, prefix=""):
    return {layer.name[len(prefix):]: layer.get_weights() for layer in model.layers
            if layer.name.startswith(prefix) and layer.get_weights()}


def test_the_studio_ships_its_own_small_backbones():
    found = builtin_backbones()
    assert {"digits_cnn_28", "shapes_cnn_28"} <= set(found)
    assert sum(path.stat().st_size for path in found.values()) < 5_000_000
    readme = (next(iter(found.values())).parent / "README.md").read_text()
    assert "pretrained **by DL Studio itself**" in readme and "digits_cnn_28" in readme


def test_a_backbone_gets_a_new_head_for_the_dataset_and_folds_into_one_group():
    project = _project()
    graph = project.graph
    names = [node.name for node in graph.nodes.values()]
    assert "backbone_conv1" in names and "backbone_classes" not in names  # the old classifier is dropped
    head = graph.by_name("head")
    assert head.params["units"] == 3 and head.params["activation"] == "softmax"
    analysis = analyze(graph)
    assert analysis.ok and analysis.trainable_params == analysis.nodes[head.id].params  # only the head trains
    [group] = [g for g in find_groups(graph) if g.id == "backbone"]
    assert set(group.members) == set(backbone_layers(graph))
    assert project.training["backbone"] == SOURCE


def test_freezing_all_none_or_from_a_layer_on():
    graph = _project().graph
    trainable = lambda: [graph.nodes[i].params["trainable"] for i in backbone_layers(graph)]  # noqa: E731
    apply_freeze(graph, "until:conv2")
    names = [graph.nodes[i].name for i in backbone_layers(graph)]
    assert trainable() == [position >= names.index("backbone_conv2") for position in range(len(names))]
    apply_freeze(graph, "none")
    assert all(trainable())
    with pytest.raises(ValueError, match="no layer 'nope'; it starts with conv1, bn1"):
        apply_freeze(graph, "until:nope")
    with pytest.raises(ValueError, match="freeze must be all"):
        parse_freeze("half")


def test_sources_are_checked_and_missing_keras_weights_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    with pytest.raises(BackboneError) as missing:
        resolve("keras:MobileNetV2")
    message = str(missing.value)
    assert "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5" in message
    assert str(tmp_path / "kh" / "models") in message and "https://storage.googleapis.com/" in message
    for bad, says in (("keras:Nope", "not offered"), ("builtin:nope", "digits_cnn_28"),
                      (str(tmp_path / "x.keras"), "not a run folder")):
        with pytest.raises(BackboneError, match=says):
            load_backbone(bad)
    shapes_gray = {**SHAPES, "colour": True}
    project = default_project()
    project.dataset = shapes_gray
    with pytest.raises(BackboneError, match=r"reads \(28, 28, 1\) but the dataset gives \(28, 28, 3\)"):
        attach_backbone(project, SOURCE)


def test_plan_refuses_a_backbone_setting_it_cannot_serve():
    project = default_project()
    project.training = {**project.training, "backbone": SOURCE}
    with pytest.raises(TrainingError, match="no backbone_\\* layers"):
        plan_run(project)
    project = _project()
    project.training["backbone"] = "builtin:missing"
    with pytest.raises(TrainingError, match="backbone: no built-in backbone 'missing'"):
        plan_run(project)
    project.training.update(backbone=SOURCE, fine_tune_epochs=2)
    with pytest.raises(TrainingError, match="fine_tune_epochs \\(2\\) must be fewer than epochs \\(2\\)"):
        plan_run(project)


@pytest.mark.slow
def test_frozen_weights_are_bit_identical_after_training(tmp_path):
    from studio.core.training.engine import train_run

    folder = prepare_run_folder(plan_run(_project(epochs=1)), tmp_path / "run")
    assert train_run(folder) == "completed"
    _graph, trained = load_keras_file(folder.model_file, with_model=True)
    pretrained = _weights(load_backbone(SOURCE).model)
    after = _weights(trained, "backbone_")
    assert set(after) == {"conv1", "bn1", "conv2", "conv3"}
    for name, weights in after.items():  # BatchNorm's moving statistics included: it ran in inference mode
        for new, old in zip(weights, pretrained[name]):
            assert np.array_equal(new, old), name
    assert not trained.get_layer("backbone_bn1").trainable and trained.get_layer("head").trainable


def test_cli_refuses_bad_backbone_options_before_training(tmp_path, capsys):
    data = '{"source": "shapes", "count": 20, "image_size": 28}'
    assert main(["train", "small_cnn_28", "--data", data, "--backbone", "builtin:nope"]) == 2
    assert "no built-in backbone 'nope'" in capsys.readouterr().err
    assert main(["train", "small_cnn_28", "--data", data, "--backbone", SOURCE, "--freeze", "until:nope"]) == 2
    assert "the backbone has no layer 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_trains_from_a_backbone_with_two_phases_fine_tuning_all_but_batchnorm(tmp_path, capsys):
    run = tmp_path / "run"
    data = '{"source": "shapes", "classes": ["circle", "square"], "count": 30, "image_size": 28}'
    assert main(["train", "small_cnn_28", "--data", data, "--backbone", SOURCE, "--freeze", "until:conv3",
                 "--epochs", "2", "--fine-tune-epochs", "1", "--run-dir", str(run)]) == 0
    err = capsys.readouterr().err
    assert "backbone weights from builtin:digits_cnn_28 (4 layers)" in err and "epoch 2: fine-tuning" in err
    graph = load_project(run / "project.dlstudio").graph  # phase 1: frozen up to conv3
    assert graph.by_name("backbone_conv1").params["trainable"] is False
    assert graph.by_name("backbone_conv3").params["trainable"] is True
    events = read_events(run)
    [phase] = [event for event in events if event["type"] == "phase"]
    config = TrainingConfig.from_dict(read_run(run)["config"])
    assert config.fine_tune_learning_rate != config.learning_rate
    assert (phase["epoch"], phase["name"], phase["learning_rate"]) == (2, "fine_tune", config.fine_tune_learning_rate)
    epochs = {event["epoch"]: event["lr"] for event in events if event["type"] == "epoch"}
    assert (epochs[1], epochs[2]) == pytest.approx((config.learning_rate, config.fine_tune_learning_rate))
    _graph, model = load_keras_file(run / "model.keras", with_model=True)  # phase 2 unfroze all but BatchNorm
    assert model.get_layer("backbone_conv1").trainable and not model.get_layer("backbone_bn1").trainable
    pretrained = _weights(load_backbone(SOURCE).model)
    after = _weights(model, "backbone_")
    assert not np.array_equal(after["conv1"][0], pretrained["conv1"][0])  # frozen in phase 1, fine-tuned in 2
    for new, old in zip(after["bn1"], pretrained["bn1"]):
        assert np.array_equal(new, old)  # BatchNorm stayed frozen


@pytest.mark.slow
def test_the_less_data_lesson_pretrained_beats_from_scratch(tmp_path):
    from studio.core.transfer.lesson import TARGET, run_lesson

    # half the lesson's images and epochs: the margins below held over target seeds 1, 2 and 3
    rows = {row.name: row for row in run_lesson(tmp_path, say=lambda _text: None, epochs=20, fine_tune_epochs=10,
                                                contrastive_epochs=8, target={**TARGET, "count": 300})}
    data = load_dataset(load_project(rows["transferred"].run_dir / "project.dlstudio").dataset)
    assert len(data.x_train) < 0.06 * (len(data.x_train) + len(data.x_val) + len(data.x_test))
    assert list(rows) == ["transferred", "self_supervised", "from_scratch"]
    assert rows["transferred"].accuracy > rows["from_scratch"].accuracy + 0.1, rows
    assert rows["self_supervised"].accuracy > rows["from_scratch"].accuracy + 0.1, rows
