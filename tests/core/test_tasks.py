"""Tasks are registered objects: a new one flows through losses, metrics, the model check and
evaluation without editing training, inspect or the app."""

import numpy as np
import pytest

from studio.core.project import default_project
from studio.core.tasks import TASKS, Shown, Task, TaskError, get_task, register
from studio.core.training import TrainingError
from studio.core.training.adapt import adapt_graph
from studio.core.training.build import loss_name, make_loss, make_metrics, wants_one_hot
from studio.core.training.compat import DataFacts, check_compat
from studio.core.training.config import TrainingConfig


def count_loss(y_true, y_pred):
    return (y_pred - y_true) ** 2


class Counting(Task):
    """A toy task: how many objects an image holds (one non-negative number, a softplus output)."""

    name = "counting"
    targets = "object counts"
    has_classes = False
    metric = "mae"
    own_losses = ("count_loss",)

    def default_loss(self, out_units, soft_labels):
        return "count_loss"

    def check_loss(self, name, out_units, soft_labels):
        if name != "mae":
            raise TaskError(f"loss {name} does not fit counts: use auto or mae")

    def loss_function(self, name):
        return count_loss

    def metrics(self, names, loss, num_classes, from_logits, top_k):
        return [name for name in names if name == "mae"], []

    def output_units(self, num_classes, target_size, current):
        return 1

    def target_text(self, num_classes, target_size):
        return "a count"

    def output_activation(self, units):
        return "softplus"

    def activation_problem(self, activation, units):
        return None if activation == "softplus" else ("softplus", f"applies {activation}, which can go below zero")

    def evaluate(self, y_true, outputs, class_names):
        return {"off_by": float(np.abs(np.ravel(outputs) - np.ravel(y_true)).mean())}

    def show(self, output, sample, truth, class_names):
        return Shown(output, np.ravel(output), "count", f"about {float(np.ravel(output)[0]):.0f}")


@pytest.fixture
def counting():
    task = register(Counting())
    yield task
    del TASKS[task.name]


def test_a_registered_task_picks_its_loss_and_metrics(counting):
    assert get_task("counting") is counting
    assert loss_name(TrainingConfig(), "counting", 1, False) == "count_loss"
    assert make_loss("count_loss", from_logits=False) is count_loss
    assert loss_name(TrainingConfig(loss="mae"), "counting", 1, False) == "mae"
    with pytest.raises(TrainingError, match="loss mse does not fit counts"):
        loss_name(TrainingConfig(loss="mse"), "counting", 1, False)
    with pytest.raises(TrainingError, match="the count_loss loss needs object counts .a counting dataset."):
        loss_name(TrainingConfig(loss="count_loss"), "regression", 1, False)
    assert make_metrics(TrainingConfig(metrics=[]), "counting", "count_loss", 0, False) == (["mae"], [])
    assert not wants_one_hot(TrainingConfig(metrics=["precision"]), "counting", "count_loss")


def test_a_registered_task_fits_and_checks_the_model(counting):
    project = default_project()  # small_cnn_28: Dense(10, softmax)
    problems = check_compat(project, DataFacts("counting", (28, 28, 1), None))
    assert [problem.message for problem in problems] == [
        "output 'predictions' has 10 units but the data has a count",
        "output 'predictions' applies softmax, which can go below zero: use softplus"]
    for problem in problems:
        for node_id, key, value in problem.fix.params:
            project.graph.set_param(node_id, key, value)
    assert check_compat(project, DataFacts("counting", (28, 28, 1), None)) == []
    graph, changes = adapt_graph(default_project().graph, "counting", (28, 28, 1), None)
    assert changes == ["output 'predictions': units 10 -> 1 (a count)",
                       "output 'predictions': activation softmax -> softplus (counting)"]


def test_a_registered_task_scores_a_model(counting):
    from studio.core.inspect import evaluate_predictions

    assert evaluate_predictions(np.array([1, 3]), np.array([[2.0], [3.0]]), "counting") == {"off_by": 0.5}


def test_an_unknown_task_is_named_with_the_known_ones():
    with pytest.raises(TrainingError, match="unknown task 'tracking'; expected one of classification, binary"):
        loss_name(TrainingConfig(), "tracking", 1, False)
