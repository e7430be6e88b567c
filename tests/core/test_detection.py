"""Detection: scenes whose boxes match their pixels, COCO and YOLO files with bad entries reported, the
grid loss and decoding, NMS, pycocotools scores, refusal of classifiers, a short run that learns."""

import json

import numpy as np
import pytest

keras = pytest.importorskip("keras")
pytest.importorskip("pycocotools")

from studio.core.data import load_dataset  # noqa: E402
from studio.core.data.dataset import DataError  # noqa: E402
from studio.core.data.detection import load_shape_scenes  # noqa: E402
from studio.core.graph.templates import load_template  # noqa: E402
from studio.core.tasks import get_task  # noqa: E402
from studio.core.tasks.coco_scores import Detections, detection_report  # noqa: E402
from studio.core.tasks.grid_boxes import decode, detection_loss, nms, object_recall  # noqa: E402
from studio.core.training.adapt import adapt_graph  # noqa: E402
from studio.core.training.errors import TrainingError  # noqa: E402

SCENES = {"source": "shape_scenes", "count": 60, "image_size": 32, "noise": 0.0, "seed": 3}
NAMES = ["circle", "square", "triangle", "cross"]


def test_every_scene_box_is_the_tight_box_of_a_drawn_shape_and_covers_all_pixels():
    raw = load_shape_scenes(SCENES)
    assert raw.task == "detection" and raw.y.shape == (60, 4, 5)
    counts = (raw.y[..., 4] >= 0).sum(axis=1)
    assert counts.min() >= 1 and counts.max() == 4
    for image, rows in zip(raw.x[..., 0] > 0, raw.y):
        covered = np.zeros_like(image)
        for x0, y0, x1, y1 in (rows[rows[:, 4] >= 0, :4] * 32).round().astype(int):
            inside = image[y0:y1, x0:x1]
            assert inside[:, 0].any() and inside[:, -1].any() and inside[0].any() and inside[-1].any()
            covered[y0:y1, x0:x1] = True
        assert not (image & ~covered).any()
        assert np.all(rows[rows[:, 4] < 0, :4] == 0)  # unused rows come last, empty


def test_scenes_are_seeded_and_split_unstratified():
    a, b = load_dataset(SCENES), load_dataset(SCENES)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert a.task == "detection" and a.class_names == NAMES and a.input_shape == (32, 32, 1)


def _png(path, size=(40, 20)):
    from PIL import Image

    Image.new("L", size, 128).save(path)


def test_coco_file_reads_boxes_as_fractions_and_reports_each_bad_entry(tmp_path):
    _png(tmp_path / "a.png")
    _png(tmp_path / "b.png")
    (tmp_path / "broken.png").write_bytes(b"not a png")
    document = {
        "images": [{"id": 1, "file_name": "a.png", "width": 40, "height": 20},
                   {"id": 2, "file_name": "b.png", "width": 40, "height": 20},
                   {"id": 3, "file_name": "broken.png", "width": 40, "height": 20},
                   {"id": 4, "file_name": "gone.png", "width": 40, "height": 20}],
        "categories": [{"id": 7, "name": "cat"}, {"id": 9, "name": "dog"}],
        "annotations": [
            {"image_id": 1, "category_id": 9, "bbox": [10, 5, 20, 10]},
            {"image_id": 1, "category_id": 7, "bbox": [30, 10, 20, 20]},  # partly outside: clipped
            {"image_id": 2, "category_id": 7, "bbox": [5, 5, 0, 4]},  # zero area
            {"image_id": 2, "category_id": 7, "bbox": [50, 5, 4, 4]},  # outside
            {"image_id": 2, "category_id": 3, "bbox": [5, 5, 4, 4]},  # unknown class
            {"image_id": 2, "bbox": [5, 5, 4, 4]},  # no category
        ]}
    (tmp_path / "instances.json").write_text(json.dumps(document))
    data = load_dataset({"source": "coco", "path": str(tmp_path / "instances.json"), "image_size": 16,
                         "max_boxes": 3, "split": {"train": 1.0, "val": 0.0, "test": 0.0}})
    assert data.class_names == ["cat", "dog"] and data.y_train.shape == (2, 3, 5)
    first = data.y_train[np.argmax((data.y_train[..., 4] >= 0).sum(axis=1))]
    np.testing.assert_allclose(first[0], [0.25, 0.25, 0.75, 0.75, 1])
    np.testing.assert_allclose(first[1], [0.75, 0.5, 1.0, 1.0, 0])
    report = "\n".join(data.report)
    for reason in ("box of zero area", "box outside the image", "unknown class", "unreadable annotation",
                   "broken.png", "gone.png: no such image file"):
        assert reason in report


def test_yolo_labels_with_bad_lines_reported(tmp_path):
    (tmp_path / "images").mkdir()
    (tmp_path / "labels").mkdir()
    for name in ("a", "b", "c"):
        _png(tmp_path / "images" / f"{name}.png", (20, 20))
    (tmp_path / "classes.txt").write_text("ball\nbox\n")
    (tmp_path / "labels" / "a.txt").write_text("1 0.5 0.5 0.2 0.4\n5 0.5 0.5 0.2 0.2\n0 0.5 0.5 0 0.2\nnonsense\n")
    (tmp_path / "labels" / "b.txt").write_text("0 1.5 1.5 0.2 0.2\n")
    data = load_dataset({"source": "yolo", "path": str(tmp_path), "image_size": 16,
                         "split": {"train": 1.0, "val": 0.0, "test": 0.0}})
    assert data.class_names == ["ball", "box"] and len(data.y_train) == 3  # c: no label file, no object
    boxes = data.y_train[data.y_train[..., 4] >= 0]
    np.testing.assert_allclose(boxes, [[0.4, 0.3, 0.6, 0.7, 1]], atol=1e-6)
    report = "\n".join(data.report)
    for reason in ("unknown class", "box of zero area", "unreadable line", "box outside the image"):
        assert reason in report


def test_a_folder_without_labels_and_a_file_that_is_not_coco_are_refused(tmp_path):
    with pytest.raises(DataError, match="images/ and a labels/"):
        load_dataset({"source": "yolo", "path": str(tmp_path)})
    (tmp_path / "instances.json").write_text('{"images": 3}')
    with pytest.raises(DataError, match="is not a COCO annotation file"):
        load_dataset({"source": "coco", "path": str(tmp_path / "instances.json")})


def _grid_output(rows, grid=4, classes=2, miss=-8.0, hit=8.0):
    """Raw outputs that say exactly ``rows`` ([x0, y0, x1, y1, class]) on a ``grid``: the inverse of decoding."""
    out = np.zeros((grid, grid, classes + 4), "float32")
    out[..., :classes] = miss
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    for x0, y0, x1, y1, label in rows:
        cx, cy = (x0 + x1) / 2 * grid, (y0 + y1) / 2 * grid
        col, row = int(cx), int(cy)
        out[row, col, int(label)] = hit
        out[row, col, classes:] = [logit(cx - col), logit(cy - row), logit(x1 - x0), logit(y1 - y0)]
    return out


TRUE = np.array([[[0.1, 0.1, 0.3, 0.35, 0], [0.55, 0.5, 0.9, 0.8, 1], [0, 0, 0, 0, -1]]], "float32")


def test_the_loss_is_least_for_the_true_grid_and_decoding_gives_back_the_boxes():
    right = _grid_output(TRUE[0, :2])[None]
    shifted = _grid_output(TRUE[0, :2] + [0.05, 0.05, 0.05, 0.05, 0])[None]
    assert float(detection_loss(TRUE, right)[0]) < 0.01 < float(detection_loss(TRUE, shifted)[0])
    assert float(object_recall(TRUE, right)[0]) == 1.0
    boxes, scores, classes = (keras.ops.convert_to_numpy(part) for part in decode(right))
    kept = scores[0] > 0.5
    assert sorted(classes[0][kept]) == [0, 1]
    found = boxes[0][kept][np.argsort(classes[0][kept])]
    np.testing.assert_allclose(found, TRUE[0, :2, :4], atol=1e-4)


def test_nms_drops_an_overlapping_box_of_the_same_class_only():
    boxes = np.array([[[0, 0, 0.5, 0.5], [0.02, 0, 0.52, 0.5], [0.02, 0, 0.52, 0.5], [0.6, 0.6, 1, 1],
                       [0.6, 0.6, 1, 1]]], "float32")
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.01]], "float32")
    classes = np.array([[0, 0, 1, 0, 0]], "int32")
    keep = keras.ops.convert_to_numpy(nms(boxes, scores, classes, score_threshold=0.05, iou_threshold=0.5))
    np.testing.assert_array_equal(keep[0], [1, 0, 1, 1, 0])


def _detections(rows, score=0.9):
    boxes = np.array([[row[:4] for row in image] for image in rows], "float32")
    return Detections(boxes, np.full(boxes.shape[:2], score, "float32"),
                      np.array([[row[4] for row in image] for image in rows], "int32"))


def test_pycocotools_scores_perfect_boxes_one_and_shifted_boxes_lower():
    truth = np.concatenate([TRUE, TRUE])
    perfect = detection_report(truth, _detections(truth[:, :2]), ["a", "b"], (64, 64))
    assert perfect.map50 == pytest.approx(1.0) and perfect.map == pytest.approx(1.0)
    assert perfect.mistakes.sum() == 0 and perfect.worst_images(0) == [] and perfect.object_recall == 1.0
    moved = truth[:, :2] + [0.04, 0.04, 0.04, 0.04, 0]
    shifted = detection_report(truth, _detections(moved), ["a", "b"], (64, 64))
    assert shifted.map < 0.9 * perfect.map and shifted.map50 <= 1.0
    wrong = truth[:, :2].copy()
    wrong[1, 0, 4] = 1  # image 1 calls its class-0 box class 1
    mixed = detection_report(truth, _detections(wrong), ["a", "b"], (64, 64))
    assert mixed.class_ap50[0] < 1 and mixed.worst_images(0) == [1] and mixed.object_recall == 0.75
    headers, rows = mixed.table()
    assert headers[1] == "AP@0.5" and rows[-1][0] == "all classes (mean)"
    assert "mAP@0.5" in mixed.summary() and mixed.pictures(np.zeros((2, 8, 8, 1)))["boxes.png"].shape[2] == 3


def test_the_task_evaluates_and_shows_raw_grid_outputs():
    task = get_task("detection")
    outputs = np.stack([_grid_output(TRUE[0, :2])] * 2)
    report = task.evaluate(np.concatenate([TRUE, TRUE]), outputs, ["a", "b"])
    assert report.map50 == pytest.approx(1.0)
    shown = task.show(outputs[0], np.zeros((16, 16, 1)), TRUE[0], ["a", "b"])
    assert shown.picture.shape == (64, 64, 3) and list(shown.bars.round(2)) == [1.0, 1.0]
    assert task.label_text(TRUE[0], ["a", "b"]) == "2 objects: a, b"


def test_a_classifier_is_refused_and_the_detector_fits_the_classes():
    with pytest.raises(TrainingError, match="a detector outputs a grid"):
        adapt_graph(load_template("small_cnn_28").graph, "detection", (64, 64, 1), 3)
    graph, changes = adapt_graph(load_template("detector_64").graph, "detection", (64, 64, 1), 3)
    assert graph.by_name("grid_out").params["filters"] == 7 and "filters 8 -> 7" in changes[0]


@pytest.mark.parametrize("step", [{"type": "flip", "mode": "horizontal_and_vertical"},
                                  {"type": "translation", "factor": 0.2, "fill_mode": "constant"},
                                  {"type": "zoom", "factor": 0.3, "fill_mode": "constant"},
                                  {"type": "rotation", "factor": 0.05, "fill_mode": "constant"},
                                  {"type": "random_crop", "padding": 6}])
def test_augmentation_that_moves_pixels_moves_the_boxes(step):
    from studio.core.augment import build_augmenter
    from studio.core.augment.builder import batch_seed

    raw = load_shape_scenes({**SCENES, "count": 8})
    x, y = raw.x / 255, raw.y
    images, rows = build_augmenter([step], seed=1, boxes=True).apply(x, y, batch_seed(1, 0, 0))
    images, rows = keras.ops.convert_to_numpy(images), keras.ops.convert_to_numpy(rows)
    assert rows.shape == y.shape and not np.allclose(images, x)
    for image, boxes in zip(images[..., 0] > 0.5, rows):
        covered = np.zeros_like(image)
        for x0, y0, x1, y1 in boxes[boxes[:, 4] >= 0, :4] * 32:
            covered[max(0, int(y0) - 1):int(np.ceil(y1)) + 1, max(0, int(x0) - 1):int(np.ceil(x1)) + 1] = True
            assert image[int(y0):int(np.ceil(y1)), int(x0):int(np.ceil(x1))].any()
        assert not (image & ~covered).any()


@pytest.mark.slow
def test_a_short_detector_run_learns_and_evaluate_prints_the_coco_scores(tmp_path, capsys):
    from studio.cli import main
    from studio.core.generative.templates import apply_template
    from studio.core.graph.keras_io import to_keras
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder

    project = apply_template(default_project(), load_template("detector_64"))
    project.dataset = {"source": "shape_scenes", "count": 400, "seed": 1}
    project.training["epochs"] = 12
    data = load_dataset(project.dataset)
    plan = plan_run(project, data)
    untrained = get_task("detection").evaluate(data.y_test, to_keras(project.graph).predict(data.x_test, verbose=0),
                                               data.class_names)
    folder = prepare_run_folder(plan, tmp_path / "run")
    assert train_run(folder) == "completed"
    assert main(["evaluate", str(folder.path), "-o", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "AP@[.5:.95]" in out and (tmp_path / "out" / "boxes.png").is_file()
    trained = float(out.split("mAP@0.5 ")[1].split(",")[0])
    assert trained > untrained.map50 + 0.2
    assert main(["export", str(folder.path), "--format", "onnx", "-o", str(tmp_path / "det.onnx")]) == 0
    meta = json.loads((tmp_path / "det.onnx.meta.json").read_text())
    assert meta["outputs"] == [{"shape": [8, 8, 8]}] and "non-maximum suppression" in meta["output_note"]


def test_sliding_windows_cover_the_image_and_crops_are_resized_windows():
    from studio.core.detection.lesson import WINDOWS, crop_windows, proposals

    windows = proposals(32, 4)
    assert windows.min() == 0 and windows[:, 2:].max() <= 32
    assert sorted(set((windows[:, 2] - windows[:, 0]).tolist())) == list(WINDOWS)
    image = np.zeros((32, 32, 1), "float32")
    image[8:16, 4:12] = 1
    crops = crop_windows(image, np.array([[4, 8, 12, 16], [20, 20, 30, 30]], "float32"), side=16)
    assert crops.shape == (2, 16, 16, 1) and crops[0].min() == 1 and crops[1].max() == 0


def test_the_crop_set_labels_boxed_shapes_and_background_windows():
    from studio.core.detection.lesson import crop_set

    raw = load_shape_scenes({**SCENES, "count": 20, "image_size": 64})
    crops, labels = crop_set(raw.x / 255, raw.y, classes=4)
    boxes = int((raw.y[..., 4] >= 0).sum())
    assert crops.shape[1:] == (28, 28, 1) and (labels < 4).sum() == boxes and (labels == 4).sum() > 0
    assert crops[labels < 4].mean() > 2 * crops[labels == 4].mean()  # shapes fill their crops, background does not


@pytest.mark.slow
def test_the_rcnn_lesson_scores_both_detectors_on_the_same_scenes(tmp_path):
    from studio.cli import main

    result = tmp_path / "result.json"
    assert main(["lesson", "rcnn", "--count", "120", "--epochs", "2", "--classifier-epochs", "2", "--stride", "8",
                 "--runs-dir", str(tmp_path / "runs"), "--result", str(result)]) == 0
    rows = json.loads(result.read_text())["rows"]
    assert [row["name"] for row in rows] == ["two-stage (R-CNN idea)", "one-stage (detector_64)"]
    assert all(0 <= row["map"] <= row["map50"] <= 1 and row["ms_per_image"] > 0 for row in rows)
    assert all((tmp_path / "runs" / row["run_dir"]).is_dir() for row in rows)
    assert (tmp_path / "runs" / "rcnn_lesson.png").is_file()
