"""Checks before a run starts: adapting templates, refusing bad graphs/settings/folders."""

import pytest

from studio.core.graph.model import Graph
from studio.core.graph.templates import load_template
from studio.core.project import Project, default_project
from studio.core.training import Runner, TrainingError, plan_run
from studio.core.training.adapt import adapt_graph, output_activation
from studio.core.training.build import loss_name
from studio.core.training.config import TrainingConfig

SHAPES = {"source": "shapes", "classes": ["circle", "square", "triangle"], "count": 8, "image_size": 24,
          "colour": True, "seed": 0}


def _project(template="small_cnn_28", dataset=None, **training):
    project = default_project()
    project.graph = load_template(template).graph
    project.dataset = dataset or {"source": "digits", "max_samples": 40}
    project.training = {"epochs": 1, **training}
    return project


def test_template_is_adapted_to_the_dataset():
    project = _project(dataset=SHAPES)
    plan = plan_run(project)
    graph = plan.project.graph
    assert graph.nodes[graph.input_nodes()[0]].params["shape"] == [24, 24, 3]
    assert graph.by_name("predictions").params["units"] == 3
    assert any("(28, 28, 1) -> (24, 24, 3)" in change for change in plan.adaptations)
    assert any("units 10 -> 3" in change for change in plan.adaptations)
    assert plan.dataset["num_classes"] == 3 and len(plan.dataset["fingerprint"]) == 16
    assert plan.config.epochs == 1
    assert project.graph.by_name("predictions").params["units"] == 10  # the caller's copy is untouched
    assert plan_run(_project()).adaptations == []


def test_binary_and_regression_outputs():
    graph = load_template("small_cnn_28").graph
    binary, changes = adapt_graph(graph, "binary", (28, 28, 1), 2)
    assert binary.by_name("predictions").params == {**binary.by_name("predictions").params,
                                                     "units": 1, "activation": "sigmoid"}
    assert len(changes) == 2
    regression, changes = adapt_graph(graph, "regression", (28, 28, 1), 0, target_size=2)
    assert regression.by_name("predictions").params["activation"] == "linear"
    assert output_activation(regression) == "linear" and output_activation(graph) == "softmax"


def test_graph_errors_are_refused_naming_the_node():
    project = _project()
    conv = project.graph.by_name("conv1")
    project.graph.set_param(conv.id, "filters", -4)
    with pytest.raises(TrainingError, match="conv1"):
        plan_run(project)


def test_mismatches_are_refused():
    with pytest.raises(TrainingError, match=r"expects shape \(2,\) but the dataset gives \(28, 28, 1\)"):
        plan_run(_project("mlp_xor"))
    graph = Graph()
    source = graph.add_node("Input", {"shape": [28, 28, 1]}, name="image")
    flat = graph.add_node("Flatten", name="flat")
    graph.connect(source.id, flat.id)
    with pytest.raises(TrainingError, match="output 'flat' gives shape"):
        adapt_graph(graph, "classification", (28, 28, 1), 10)


def test_bad_settings_are_refused_before_any_process(tmp_path):
    runner = Runner(_project(learning_rate=-1, batch_size=0, optimizer="adamax"), tmp_path / "run")
    with pytest.raises(TrainingError) as info:
        runner.start()
    message = str(info.value)
    assert "learning_rate" in message and "batch_size" in message and "adamax" in message
    assert not runner.alive and not (tmp_path / "run").exists()


def test_bad_dataset_and_folder_are_refused(tmp_path):
    with pytest.raises(TrainingError, match="dataset: unknown dataset source"):
        plan_run(_project(dataset={"source": "nowhere"}))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "other.txt").write_text("x")
    with pytest.raises(TrainingError, match="already holds files"):
        Runner(_project(), tmp_path / "run").start()
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(TrainingError, match="cannot write the run folder"):
        Runner(_project(), blocker / "run").start()


def test_loss_choice():
    auto = TrainingConfig()
    assert loss_name(auto, "classification", 10, False) == "sparse_categorical_crossentropy"
    assert loss_name(auto, "classification", 10, True) == "categorical_crossentropy"
    assert loss_name(auto, "binary", 1, False) == "binary_crossentropy"
    assert loss_name(auto, "regression", 1, False) == "mse"
    assert loss_name(TrainingConfig(loss="huber"), "regression", 1, False) == "huber"
    with pytest.raises(TrainingError, match="regression"):
        loss_name(TrainingConfig(loss="binary_crossentropy"), "regression", 1, False)
    with pytest.raises(TrainingError, match="soft labels"):
        loss_name(TrainingConfig(loss="sparse_categorical_crossentropy"), "classification", 10, True)


def test_project_without_graph_is_refused():
    project = Project(dataset={"source": "digits", "max_samples": 40})
    with pytest.raises(TrainingError, match="no Input layer"):
        plan_run(project)
