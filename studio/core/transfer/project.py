"""Switch a project to a pretrained backbone with a new head for its dataset."""

from __future__ import annotations


def attach_backbone(project, source: str, freeze: str = "all", dataset=None):
    """``project`` with its graph replaced by backbone ``source`` + a head for its dataset (loaded
    unless given), frozen as ``freeze`` says, ``training.backbone`` set and the objective supervised
    (the new head learns from the labels, e.g. after a contrastive pretraining run). Returns the
    project. Raises BackboneError (or ValueError for a bad ``freeze``)."""
    from studio.core.data import load_dataset
    from studio.core.transfer.attach import parse_freeze, with_backbone
    from studio.core.transfer.backbones import load_backbone

    parse_freeze(freeze)  # refuse a bad value before loading anything
    dataset = dataset if dataset is not None else load_dataset(project.dataset)
    backbone = load_backbone(source)
    targets = dataset.y_train.shape[1] if dataset.y_train.ndim > 1 else 1
    project.graph = with_backbone(backbone, dataset.input_shape, dataset.task, dataset.num_classes, targets, freeze)
    project.training = {**project.training, "backbone": str(source), "objective": "supervised"}
    project.view = {}
    return project
