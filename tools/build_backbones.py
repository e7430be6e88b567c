"""Pretrain the studio's own small backbones on built-in data (run: ``python tools/build_backbones.py``).

No package ships Keras ImageNet weights offline, so the studio ships these instead: small CNNs
trained by this script with the studio's own engine on its procedural/bundled datasets. The results
go to ``assets/backbones/<name>.keras`` (used as ``builtin:<name>``) with their test accuracy in
``assets/backbones/README.md``. Seeds are fixed; CPU training takes about a minute each.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.graph.builder import Builder  # noqa: E402
from studio.core.graph.model import Graph  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "assets" / "backbones"

# name -> (dataset, epochs, what it learnt)
BACKBONES = {
    "shapes_cnn_28": ({"source": "shapes", "classes": ["circle", "square", "triangle", "cross", "ring"],
                       "count": 600, "image_size": 28, "noise": 0.1, "seed": 0}, 20,
                      "five procedural shapes (circle, square, triangle, cross, ring), 3000 images"),
    "digits_cnn_28": ({"source": "digits", "image_size": 28, "seed": 0}, 12,
                      "the bundled handwritten digits (scikit-learn, 1797 images upscaled to 28x28)"),
}


def small_backbone(classes: int) -> Graph:
    """Three conv stages (the first with BatchNorm) and global pooling: ~25k weights, ~0.3 MB saved."""
    b = Builder()
    x = b.add("Input", shape=[28, 28, 1])
    x = b.add("Conv2D", x, filters=16, kernel_size=[3, 3], padding="same", name="conv1")
    x = b.add("BatchNormalization", x, name="bn1")
    x = b.add("Activation", x, activation="relu", name="relu1")
    x = b.add("MaxPooling2D", x, name="pool1")
    x = b.add("Conv2D", x, filters=32, kernel_size=[3, 3], padding="same", activation="relu", name="conv2")
    x = b.add("MaxPooling2D", x, name="pool2")
    x = b.add("Conv2D", x, filters=64, kernel_size=[3, 3], padding="same", activation="relu", name="conv3")
    x = b.add("GlobalAveragePooling2D", x, name="features")
    b.add("Dense", x, units=classes, activation="softmax", name="classes")
    return b.graph


def pretrain(name: str, dataset: dict, epochs: int) -> float:
    """Train ``name`` with the studio's engine; copy its model to assets/; return its test accuracy."""
    from studio.core.data import load_dataset
    from studio.core.inspect import evaluate_model, load_run_model
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder

    data = load_dataset(dataset)
    project = default_project()
    project.name, project.dataset = name, dataset
    project.graph = small_backbone(data.num_classes)
    project.training = {**project.training, "epochs": epochs, "batch_size": 32, "learning_rate": 2e-3, "seed": 0}
    with tempfile.TemporaryDirectory() as work:
        folder = prepare_run_folder(plan_run(project), Path(work) / name)
        if train_run(folder) != "completed":
            raise SystemExit(f"{name}: training failed, see {folder.path / 'run.json'}")
        accuracy = evaluate_model(load_run_model(folder.path), data.x_test, data.y_test, data.task).accuracy
        OUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(folder.model_file, OUT / f"{name}.keras")
    return accuracy


def main(names: list[str]) -> None:
    lines = ["# The studio's own backbones", "",
             "Small CNNs pretrained **by DL Studio itself** with `tools/build_backbones.py` on built-in data",
             "(no third-party weights). Use one as `builtin:<name>`",
             "(`studio train ... --backbone builtin:<name>`).", "",
             "| name | pretrained on | test accuracy |", "|---|---|---|"]
    for name, (dataset, epochs, about) in BACKBONES.items():
        if names and name not in names:
            continue
        accuracy = pretrain(name, dataset, epochs)
        lines.append(f"| {name} | {about}, {epochs} epochs | {accuracy:.1%} |")
        print(f"{name}: test accuracy {accuracy:.1%}")
    (OUT / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
