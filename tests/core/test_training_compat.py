"""Model ⇄ data ⇄ loss compatibility: what stops a run, with one-click fixes; plan_run agrees."""

import pytest

from studio.core.graph.model import Graph
from studio.core.graph.templates import load_template
from studio.core.project import default_project
from studio.core.training import TrainingError, plan_run
from studio.core.training.compat import DataFacts, check_compat

THREE_SHAPES = {"source": "shapes", "classes": ["circle", "square", "triangle"], "count": 8, "image_size": 28,
                "colour": False, "seed": 0}


def _project(graph=None, **training):
    project = default_project()
    if graph is not None:
        project.graph = graph
    project.training = {**project.training, **training}
    return project


def _apply(project, fix):
    for node_id, key, value in fix.params:
        project.graph.set_param(node_id, key, value)
    project.training.update(dict(fix.training))
    if fix.append:
        node = project.graph.add_node(fix.append[0], fix.append[1])
        project.graph.connect(fix.after, node.id, 0)


def test_a_matching_model_has_no_problem():
    assert check_compat(_project(), DataFacts("classification", (28, 28, 1), 10)) == []


def test_output_units_and_input_shape_are_named_with_fixes():
    project = _project()
    problems = check_compat(project, DataFacts("classification", (32, 32, 3), 4))
    assert [p.message for p in problems] == [
        "input 'input' has shape (28, 28, 1) but the data gives (32, 32, 3)",
        "output 'predictions' has 10 units but the data has 4 classes"]
    for problem in problems:
        _apply(project, problem.fix)
    assert check_compat(project, DataFacts("classification", (32, 32, 3), 4)) == []


def test_flatten_as_the_output_gets_a_dense_layer():
    graph = Graph()
    source = graph.add_node("Input", {"shape": [28, 28, 1]})
    flat = graph.add_node("Flatten")
    graph.connect(source.id, flat.id)
    project = _project(graph)
    facts = DataFacts("classification", (28, 28, 1), 3)
    [problem] = check_compat(project, facts)
    assert "gives shape (784,)" in problem.message and "Dense layer of 3 units" in problem.message
    _apply(project, problem.fix)
    assert check_compat(project, facts) == []


def test_mse_on_classes_and_softmax_on_one_binary_unit():
    project = _project(loss="mse")
    [problem] = check_compat(project, DataFacts("classification", (28, 28, 1), 10))
    assert "loss mse" in problem.message and problem.fix.training == (("loss", "auto"),)
    _apply(project, problem.fix)
    assert check_compat(project, DataFacts("classification", (28, 28, 1), 10)) == []
    binary = _project(loss="binary_crossentropy")
    binary.graph.set_param(binary.graph.by_name("predictions").id, "units", 1)
    [problem] = check_compat(binary, DataFacts("binary", (28, 28, 1), 2))
    assert "softmax to one unit" in problem.message
    _apply(binary, problem.fix)
    assert check_compat(binary, DataFacts("binary", (28, 28, 1), 2)) == []


def test_plan_run_refuses_what_adapting_cannot_fix():
    project = _project(loss="mse", epochs=1)
    project.dataset = THREE_SHAPES
    with pytest.raises(TrainingError, match="loss mse compares numbers"):
        plan_run(project)
    project.training["loss"] = "auto"
    assert plan_run(project).project.graph.by_name("predictions").params["units"] == 3


def test_a_vae_on_its_data_is_fine_and_a_wrong_latent_is_reported():
    from studio.core.generative.templates import apply_template

    project = apply_template(default_project(), load_template("vae_28"))
    assert check_compat(project, DataFacts("classification", (28, 28, 1), 10)) == []
    problems = check_compat(project, DataFacts("classification", (32, 32, 3), 10))
    assert problems and problems[0].fix is None


def test_a_time_distributed_output_fits_per_step_targets_and_a_per_sample_model_does_not():
    forecaster = _project(load_template("lstm_forecaster").graph, loss="mse")
    per_step = DataFacts("regression", (48, 1), None, 1, (48, 1))
    assert check_compat(forecaster, per_step) == []
    per_sample = DataFacts("regression", (48, 1), None, 1, (1,))
    [problem] = check_compat(forecaster, per_sample)
    assert "(48, 1)" in problem.message and problem.fix is None
