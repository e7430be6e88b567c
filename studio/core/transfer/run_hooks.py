"""What transfer learning adds to a run (plugin of ``studio.core.hooks``, listed in
``studio.core.features``): contrastive pretraining as an objective, the starting weights of
``training.backbone`` and ``training.init_from`` (``weights.load_weights``) and the fine-tuning phase."""

from __future__ import annotations

from studio.core.training.build import RunAddition
from studio.core.training.errors import TrainingError


def _contrastive(project) -> bool:
    return (project.training or {}).get("objective") == "contrastive" and not getattr(project, "generative", None)


def objective_builder(project):
    """``transfer.contrastive.build`` for self-supervised pretraining."""
    if _contrastive(project):
        from studio.core.transfer.contrastive import build

        return build
    return None


def plan_objective(project, dataset):
    """A contrastive run fits its encoder to the images itself (labels unused)."""
    if _contrastive(project):
        from studio.core.transfer.contrastive import fit_to_dataset

        return fit_to_dataset(project, dataset)
    return None


def check_run(project, config) -> None:
    """TrainingError before a run starts when ``backbone`` or ``init_from`` cannot be served."""
    from studio.core.transfer.attach import backbone_layers
    from studio.core.transfer.backbones import BackboneError, resolve

    for setting in ("backbone", "init_from"):
        source = getattr(config, setting)
        try:
            if source:
                resolve(source)
        except BackboneError as exc:
            raise TrainingError(f"{setting}: {exc}") from None
    if config.backbone and not backbone_layers(project.graph):
        raise TrainingError("training.backbone is set but the graph has no backbone_* layers: attach the "
                            "backbone first (studio train --backbone, or clear the setting)")


def extend_run(run) -> RunAddition | None:
    """Starting weights (a new run only: a resumed one continues from its backup) and fine-tuning."""
    if not run.supervised:
        return None
    from studio.core.training.build import make_optimizer
    from studio.core.transfer.training import FineTune
    from studio.core.transfer.weights import start_weights

    config, addition = run.config, RunAddition()
    if run.start_epoch == 0:
        addition.notes += start_weights(run.model, config)
    if config.fine_tune_epochs:
        addition.folder_callbacks.append(
            lambda folder: FineTune(folder, config, lambda c: make_optimizer(c, run.steps_per_epoch)))
        addition.notes.append(f"fine-tuning the backbone for the last {config.fine_tune_epochs} epochs at "
                              f"learning rate {config.fine_tune_learning_rate:g}")
    return addition
