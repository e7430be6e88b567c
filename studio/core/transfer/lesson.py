"""The "learning with less data" lesson: a backbone pretrained on one built-in set (supervised),
an encoder pretrained without labels on other images of the target kind (self-supervised,
contrastive), each transferred to 5% of the target set, against the same network trained from
scratch on the same 5%.

Every run is an ordinary run folder (so the app overlays their curves); the scores are test accuracy
on the other 90% of the target set, which no run saw. The unlabeled pool for the self-supervised
encoder is drawn with another seed, so it shares no image with the target set.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from studio.core.params import ParamSpec

BACKBONE = "builtin:digits_cnn_28"  # pretrained on the bundled digits (tools/build_backbones.py)
UNLABELED_SEED_OFFSET = 1000
TARGET = {"source": "shapes", "classes": ["circle", "square", "triangle", "cross", "ring"], "count": 600,
          "image_size": 28, "noise": 0.1, "seed": 1}

SETTINGS = (  # the lesson's options, for the CLI and the app's lesson dialog
    ParamSpec("fraction", "float", 0.05, "share of the target set to train on", 0.01, 0.5, step=0.01),
    ParamSpec("epochs", "int", 40, "epochs per run", 1, 1000),
    ParamSpec("fine_tune_epochs", "int", 20, "of those, how many fine-tune the whole backbone", 0, 999),
    ParamSpec("contrastive_epochs", "int", 15,
              "epochs of self-supervised pretraining (0 leaves that row out)", 0, 1000),
)
QUICK = {"fraction": 0.05, "epochs": 4, "fine_tune_epochs": 2, "contrastive_epochs": 2}  # a first look in minutes


@dataclass
class LessonRow:
    name: str
    run_dir: Path
    accuracy: float  # on the held-out test split


def lesson_projects(fraction: float = 0.05, epochs: int = 40, fine_tune_epochs: int = 20,
                    backbone: str = BACKBONE, target: dict | None = None) -> dict:
    """``{"transferred": project, "from_scratch": project}``: the same graph and data, with and
    without the pretrained weights (the transferred one freezes the backbone, then fine-tunes)."""
    from studio.core.data import load_dataset
    from studio.core.project import default_project
    from studio.core.transfer.project import attach_backbone

    if not 0.01 <= fraction <= 0.5:
        raise ValueError(f"fraction must be from 0.01 to 0.5, got {fraction}")
    dataset_spec = {**(target or TARGET), "split": {"train": fraction, "val": fraction, "test": round(1 - 2 * fraction, 6)}}
    training = {"epochs": epochs, "batch_size": 16, "learning_rate": 3e-3, "seed": 0,
                "grad_norm_every": 0}
    transferred = default_project()
    transferred.name, transferred.dataset = "transferred", dataset_spec
    transferred.training = {**transferred.training, **training, "fine_tune_epochs": fine_tune_epochs,
                            "fine_tune_learning_rate": 1e-3}
    attach_backbone(transferred, backbone, "all", load_dataset(dataset_spec))
    scratch = transferred.copy()
    scratch.name = "from_scratch"
    scratch.training = {**scratch.training, "backbone": None, "fine_tune_epochs": 0}
    for node_id in scratch.graph.nodes:
        if "trainable" in scratch.graph.nodes[node_id].params:
            scratch.graph.set_param(node_id, "trainable", True)
    return {"transferred": transferred, "from_scratch": scratch}


def pretraining_project(epochs: int, backbone: str = BACKBONE, target: dict | None = None):
    """A contrastive run of the backbone's architecture (fresh weights) on an unlabeled pool of the
    target kind, drawn with another seed so it shares no image with the target set."""
    from studio.core.project import default_project
    from studio.core.transfer.backbones import load_backbone

    target = target or TARGET
    project = default_project()
    project.name = "self_supervised_pretraining"
    project.graph = load_backbone(backbone).graph
    project.dataset = {**target, "seed": int(target.get("seed", 0)) + UNLABELED_SEED_OFFSET,
                       "split": {"train": 1.0, "val": 0.0, "test": 0.0}}  # every image, no labels read
    project.training = {**project.training, "objective": "contrastive", "epochs": epochs, "batch_size": 128,
                        "learning_rate": 1e-3, "temperature": 0.2, "seed": 0, "grad_norm_every": 0}
    return project


def run_lesson(runs_root: str | Path, say: Callable[[str], None] = print, contrastive_epochs: int = 15,
               **options) -> list[LessonRow]:
    """Train the lesson runs under ``runs_root`` (in this process) and score them on the test split;
    ``contrastive_epochs`` 0 leaves out the self-supervised row."""
    from studio.core.data import load_dataset
    from studio.core.inspect import evaluate_model, load_run_model
    from studio.core.transfer.project import attach_backbone
    from studio.core.training.engine import train_lesson_run

    projects = lesson_projects(**options)
    if contrastive_epochs:
        pretraining = pretraining_project(contrastive_epochs, options.get("backbone", BACKBONE), options.get("target"))
        say("self-supervised pretraining on unlabeled images (labels unused) ...")
        encoder = train_lesson_run(pretraining, runs_root, "pretraining", say)
        ssl = projects["transferred"].copy()
        ssl.name = "self_supervised"
        attach_backbone(ssl, str(encoder), "all")
        projects = {"transferred": projects["transferred"], "self_supervised": ssl,
                    "from_scratch": projects["from_scratch"]}
    rows = []
    for name, project in projects.items():
        folder = train_lesson_run(project, runs_root, name, say)
        data = load_dataset(project.dataset)
        report = evaluate_model(load_run_model(folder), data.x_test, data.y_test, data.task)
        rows.append(LessonRow(name, folder, report.accuracy))
        say(f"{name}: test accuracy {report.accuracy:.1%} ({len(data.x_train)} training images, "
            f"{len(data.x_test)} test images)")
    return rows
