"""The Inspect area on segmentation and localization runs: their scores in Evaluation, mask overlays
and boxes in Predict."""

import numpy as np
import pytest

from run_helpers import completed_run
from studio.core.graph.templates import load_template
from studio.core.project import Project
from studio.core.training import RunFolder
from studio.core.training.adapt import adapt_graph

WAIT_MS = 30_000


def _open(qtbot, tmp_path, dataset, template, task):
    from studio.qt.main_window import MainWindow

    graph, _changes = adapt_graph(load_template(template).graph, task, (28, 28, 1), 3)
    project = Project(name="seg", dataset=dataset, graph=graph)
    completed_run(tmp_path, "seg", project)

    window = MainWindow(project, tmp_path / "seg.dlstudio")
    qtbot.addWidget(window)
    window.show()
    window.show_area("Inspect")
    panel = window.area_widget("Inspect")
    qtbot.waitUntil(lambda: panel.source is not None, timeout=WAIT_MS)
    return panel


def test_evaluation_scores_masks_and_predict_overlays_them(qtbot, tmp_path):
    dataset = {"source": "shape_masks", "classes": ["circle", "cross"], "count": 15, "seed": 0}
    panel = _open(qtbot, tmp_path, dataset, "unet_28", "segmentation")
    panel.tabs.setCurrentWidget(panel.evaluation)
    qtbot.waitUntil(lambda: panel.evaluation.report is not None, timeout=WAIT_MS)
    table = panel.evaluation.table
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == ["class", "IoU", "Dice"]
    assert [table.item(r, 0).text() for r in range(3)] == ["background", "circle", "cross"]
    assert "mean IoU" in panel.evaluation.message.text()

    predict = panel.prediction
    panel.tabs.setCurrentWidget(predict)
    qtbot.waitUntil(lambda: predict.result is not None, timeout=WAIT_MS)
    assert predict.result.shape == (28, 28) and predict.overlay.image is not None
    assert predict.overlay.image.width() > 2 * 28 * 4  # predicted beside true, enlarged
    assert np.isclose(predict.bars.bar_values.sum(), 1.0)
    assert "Predicted mask" in predict.message.text()


def test_localization_scores_and_boxes(qtbot, tmp_path):
    dataset = {"source": "shape_boxes", "classes": ["circle", "square", "cross"], "count": 15, "seed": 0}
    panel = _open(qtbot, tmp_path, dataset, "localizer_28", "localization")
    panel.tabs.setCurrentWidget(panel.evaluation)
    qtbot.waitUntil(lambda: panel.evaluation.report is not None, timeout=WAIT_MS)
    assert panel.evaluation.table.item(1, 0).text() == "mean box IoU"
    predict = panel.prediction
    panel.tabs.setCurrentWidget(predict)
    qtbot.waitUntil(lambda: predict.result is not None, timeout=WAIT_MS)
    assert predict.overlay.image.width() == 28 * 8 and "red box" in predict.message.text()
    assert len(predict.bars.bar_values) == 3


@pytest.mark.parametrize("dataset, template, task, layer, title", [
    ({"source": "shape_masks", "classes": ["circle", "cross"], "count": 15, "seed": 0}, "unet_28", "segmentation",
     "down2_a", "predicted mask"),
    ({"source": "shape_boxes", "classes": ["circle", "square", "cross"], "count": 15, "seed": 0}, "localizer_28",
     "localization", "conv2", "predicted box"),
])
def test_live_probes_show_the_picture_the_task_draws(qtbot, tmp_path, dataset, template, task, layer, title):
    from studio.core.inspect import load_run_model
    from studio.core.training.callbacks import RunState
    from studio.core.inspect.live_probes import LiveProbes
    from studio.core.training.probes import write_probes_config
    from studio.core.training.runs import read_events

    panel = _open(qtbot, tmp_path, dataset, template, task)
    run = RunFolder(tmp_path / "runs" / "20260101-000000-seg")
    panel.tabs.setCurrentWidget(panel.live)
    panel.live.set_events(run.path, [])
    write_probes_config(run.path, [0, 1], layer)
    engine_side = LiveProbes(run, RunState(), panel.source.x_test)
    engine_side.set_model(load_run_model(run.path))
    engine_side.on_epoch_end(0)
    panel.live.set_events(run.path, read_events(run.path))
    labels = [panel.live.grid.itemAt(i).widget().text() for i in range(panel.live.grid.count())
              if hasattr(panel.live.grid.itemAt(i).widget(), "text")]
    assert title in labels and len(panel.live.grid_pictures()) == 2 * 3
