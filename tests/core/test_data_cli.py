"""`studio data info` and `studio data preview`."""

import json

import numpy as np
from PIL import Image

from studio.cli import main
from studio.core.augment import grid_image
from studio.core.data import first_training_samples, load_dataset

SHAPES = {"source": "shapes", "count": 12, "image_size": 16}


def test_info_from_inline_spec(capsys):
    assert main(["data", "info", json.dumps(SHAPES)]) == 0
    out = capsys.readouterr().out
    assert "classes (4): circle, square, triangle, cross" in out
    assert "train: 32 samples (circle 8, square 8, triangle 8, cross 8)" in out


def test_info_from_project_file_and_source_name(tmp_path, capsys):
    from studio.core.project import default_project, save_project

    path = tmp_path / "p.dlstudio"
    save_project(default_project(), path)
    assert main(["data", "info", str(path)]) == 0
    assert "input shape: (28, 28, 1)" in capsys.readouterr().out
    assert main(["data", "info", "toy"]) == 0
    assert "input shape: (2,)" in capsys.readouterr().out


def test_info_lists_the_report(tmp_path, capsys):
    for label in "ab":
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.new("L", (8, 8), 40 * i).save(tmp_path / label / f"{i}.png")
    (tmp_path / "a" / "broken.png").write_bytes(b"")
    assert main(["data", "info", json.dumps({"source": "folder", "path": str(tmp_path)})]) == 0
    assert "skipped a/broken.png: empty file" in capsys.readouterr().out


def test_errors_exit_2_with_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert main(["data", "info", '{"source": "keras", "name": "cifar10"}']) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cifar10 is not in the Keras cache") and err.count("\n") == 1
    assert main(["data", "info", "{not json"]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["data", "info", "no_such_thing"]) == 2
    assert main(["data", "preview", "toy", "-o", str(tmp_path / "t.png")]) == 2
    assert "not images" in capsys.readouterr().err
    assert main(["data", "preview", json.dumps(SHAPES), "--augment", '[{"type": "warp"}]', "-o", str(tmp_path / "w.png")]) == 2
    assert "unknown type 'warp'" in capsys.readouterr().err


def test_preview_writes_the_training_samples(tmp_path, capsys):
    out = tmp_path / "grid.png"
    steps = [{"type": "rotation", "factor": 0.2}]
    args = ["data", "preview", json.dumps(SHAPES), "--seed", "3", "--epoch", "1", "-n", "6",
            "--batch-size", "8", "--augment", json.dumps(steps), "-o", str(out)]
    assert main(args) == 0
    assert "6 training samples, seed 3, epoch 1 (rotation)" in capsys.readouterr().out
    data = load_dataset(SHAPES)
    images, labels = first_training_samples(data, steps, 3, 1, 6, 8)
    expected = grid_image(images, [data.class_names[i] for i in labels], value_range=data.value_range)
    with Image.open(out) as image:
        assert np.array_equal(np.asarray(image.convert("RGB")), expected)
