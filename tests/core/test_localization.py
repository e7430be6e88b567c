"""Localization: shapes with boxes, box IoU, the class+box loss, refusal of classifiers, a short run."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.data import load_dataset  # noqa: E402
from studio.core.graph.templates import load_template  # noqa: E402
from studio.core.tasks.boxes import box_iou_values, draw_boxes, localization_loss, localization_report  # noqa: E402
from studio.core.training.adapt import adapt_graph  # noqa: E402
from studio.core.training.errors import TrainingError  # noqa: E402

BOXES = {"source": "shape_boxes", "classes": ["circle", "square", "cross"], "count": 40, "seed": 0}


def test_each_box_is_the_tight_box_of_its_shape():
    data = load_dataset(BOXES)
    assert data.task == "localization" and data.y_train.shape[1:] == (5,)
    for image, (label, *box) in zip(data.x_train[:20, ..., 0], data.y_train[:20]):
        rows, columns = np.nonzero(image > 0.5)
        expected = np.array([columns.min(), rows.min(), columns.max() + 1, rows.max() + 1]) / 28
        assert np.abs(np.array(box) - expected).max() <= 1.5 / 28 and label in (0, 1, 2)


def test_box_iou_and_the_loss():
    a = np.array([[0.0, 0.0, 0.5, 0.5], [0.0, 0.0, 0.5, 0.5]])
    b = np.array([[0.0, 0.0, 0.5, 0.5], [0.25, 0.0, 0.75, 0.5]])
    np.testing.assert_allclose(box_iou_values(a, b), [1.0, 1 / 3], rtol=1e-5)
    y_true = np.array([[1, 0.0, 0.0, 0.5, 0.5]], "float32")
    right = np.array([[0.0, 1.0, 0.0, 0.0, 0.0, 0.5, 0.5]], "float32")
    wrong_box = np.array([[0.0, 1.0, 0.0, 0.5, 0.5, 1.0, 1.0]], "float32")
    assert float(localization_loss(y_true, right)[0]) < 1e-5 < float(localization_loss(y_true, wrong_box)[0])
    report = localization_report(np.concatenate([y_true, y_true]), np.concatenate([right, wrong_box]),
                                 ["a", "b", "c"])
    assert report.accuracy == 1.0 and report.hits == 0.5 and report.mean_iou == pytest.approx(0.5, abs=1e-6)


def test_boxes_are_drawn_in_their_colours():
    picture = draw_boxes(np.zeros((10, 10, 1)), [[0.0, 0.0, 1.0, 1.0], [0.2, 0.2, 0.6, 0.6]], scale=2)
    assert tuple(picture[0, 5]) == (40, 200, 40) and tuple(picture[4, 6]) == (230, 60, 40)
    assert tuple(picture[10, 10]) == (0, 0, 0)


def test_a_classifier_is_refused_and_the_localizer_fits_the_classes():
    with pytest.raises(TrainingError, match="box target .* a classification model predicts the class only"):
        adapt_graph(load_template("small_cnn_28").graph, "localization", (28, 28, 1), 3)
    graph, changes = adapt_graph(load_template("localizer_28").graph, "localization", (28, 28, 1), 3)
    assert graph.by_name("class_scores").params["units"] == 3 and "units 4 -> 3" in changes[0]


@pytest.mark.slow
def test_a_short_localizer_run_reports_box_iou_and_draws_boxes(tmp_path, capsys):
    from studio.core.generative.templates import apply_template
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import read_events

    project = apply_template(default_project(), load_template("localizer_28"))
    project.dataset, project.training["epochs"] = BOXES, 2
    folder = prepare_run_folder(plan_run(project), tmp_path / "run")
    assert train_run(folder) == "completed"
    logs = [event for event in read_events(folder.path) if event["type"] == "epoch"][-1]["logs"]
    assert {"box_iou", "class_accuracy", "val_box_iou"} <= set(logs)
    assert main(["evaluate", str(folder.path), "-o", str(tmp_path / "out")]) == 0
    assert "mean box IoU" in capsys.readouterr().out and (tmp_path / "out" / "boxes.png").is_file()
