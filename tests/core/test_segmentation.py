"""Segmentation: shapes with masks, the Dice loss, IoU/Dice scores, per-pixel adaptation and refusal,
overlays, and a short U-Net run scored by ``studio evaluate``."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from studio.cli import main  # noqa: E402
from studio.core.data import load_dataset  # noqa: E402
from studio.core.graph.templates import load_template  # noqa: E402
from studio.core.tasks.masks import mask_overlay, segmentation_report, sparse_dice_loss  # noqa: E402
from studio.core.training.adapt import adapt_graph  # noqa: E402
from studio.core.training.errors import TrainingError  # noqa: E402

MASKS = {"source": "shape_masks", "classes": ["circle", "cross"], "count": 20, "seed": 0}


def test_every_pixel_is_labelled_with_its_shape_or_background():
    data = load_dataset(MASKS)
    assert data.task == "segmentation" and data.class_names == ["background", "circle", "cross"]
    assert data.y_train.shape == data.x_train.shape[:3] and data.y_train.dtype == np.int32
    for image, mask in zip(data.x_train[:10, ..., 0], data.y_train[:10]):
        assert len(np.unique(mask)) == 2  # one shape per image
        assert image[mask > 0].mean() > image[mask == 0].mean() + 0.3  # the bright pixels are the shape
    assert sum(data.class_counts().values()) == data.y_train.size  # pixels per class
    assert "segmentation" in data.summary()[1]


def test_scores_count_pixels_like_their_definitions():
    truth = np.array([[[0, 1], [1, 2]]])
    predicted = np.array([[[0, 1], [2, 2]]])
    outputs = np.eye(3)[predicted]
    report = segmentation_report(truth, outputs, ["bg", "a", "b"])
    np.testing.assert_allclose(report.iou, [1.0, 0.5, 0.5])
    np.testing.assert_allclose(report.dice, [1.0, 2 / 3, 2 / 3])
    assert report.pixel_accuracy == 0.75 and report.mean_iou == pytest.approx(2 / 3)


def test_dice_loss_is_zero_for_a_perfect_mask_and_high_for_a_wrong_one():
    truth = np.array([[[0, 1], [1, 2]]], "int32")
    perfect = np.eye(3, dtype="float32")[truth]
    wrong = np.eye(3, dtype="float32")[(truth + 1) % 3]
    assert float(np.mean(sparse_dice_loss(truth, perfect))) == pytest.approx(0.0, abs=1e-6)
    assert float(np.mean(sparse_dice_loss(truth, wrong))) > 0.6


def test_a_classifier_is_refused_and_a_unet_head_is_fitted_to_the_classes():
    with pytest.raises(TrainingError, match="per-pixel target .* a classification model outputs one label"):
        adapt_graph(load_template("small_cnn_28").graph, "segmentation", (28, 28, 1), 3)
    graph, changes = adapt_graph(load_template("unet_28").graph, "segmentation", (28, 28, 1), 3)
    assert graph.by_name("pixel_classes").params["filters"] == 3 and "filters 5 -> 3" in changes[0]


def test_overlays_tint_only_the_shape():
    image = np.zeros((4, 4, 1), "float32")
    image[1:3, 1:3] = 1
    mask = np.zeros((4, 4), int)
    mask[1:3, 1:3] = 2
    picture = mask_overlay(image, mask)
    assert picture.shape == (4, 4, 3) and (picture[0, 0] == 0).all()
    assert len(set(picture[1, 1])) > 1  # coloured, not grey


@pytest.mark.slow
def test_a_short_unet_run_is_scored_per_class(tmp_path, capsys):
    from studio.core.generative.templates import apply_template
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder

    project = apply_template(default_project(), load_template("unet_28"))
    project.dataset, project.training["epochs"] = MASKS, 2
    folder = prepare_run_folder(plan_run(project), tmp_path / "run")
    assert train_run(folder) == "completed"
    assert main(["evaluate", str(folder.path)]) == 0
    out = capsys.readouterr().out
    assert "IoU    Dice" in out and "cross" in out and "pixel accuracy" in out
    assert main(["train", "small_cnn_28", "--data", '{"source": "shape_masks", "count": 10}']) == 2
    assert "per-pixel target" in capsys.readouterr().err


def test_image_and_mask_folders_pair_by_name(tmp_path):
    from PIL import Image

    from studio.core.data import DataError

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for index in range(12):
        mask = np.zeros((20, 20), "uint8")
        mask[5:12, 4:15] = 1 + index % 2
        Image.fromarray((mask > 0).astype("uint8") * 200 + rng.integers(0, 20, (20, 20), dtype="uint8")).save(
            tmp_path / "images" / f"s{index}.png")
        Image.fromarray(mask).save(tmp_path / "masks" / f"s{index}.png")
    Image.new("L", (20, 20)).save(tmp_path / "images" / "orphan.png")
    (tmp_path / "classes.txt").write_text("background\nleaf\nstone\n")
    data = load_dataset({"source": "mask_folder", "path": str(tmp_path), "image_size": 10})
    assert data.task == "segmentation" and data.class_names == ["background", "leaf", "stone"]
    assert data.x_train.shape[1:] == (10, 10, 1) and set(np.unique(data.y_train)) == {0, 1, 2}  # nearest: whole labels
    assert any("orphan.png: no mask" in line for line in data.report)
    (tmp_path / "classes.txt").write_text("background\nleaf\n")
    with pytest.raises(DataError, match="names 2 classes but a mask holds the value 2"):
        load_dataset({"source": "mask_folder", "path": str(tmp_path), "image_size": 10})
