"""Transfer learning inside a run: the backbone's pretrained weights copied into the built model,
and the fine-tuning phase (the last ``fine_tune_epochs`` epochs of the same run).

Phase 1 trains what the graph leaves trainable (usually only the new head). At the first epoch of
phase 2 every backbone layer except BatchNormalization (kept in inference mode) becomes trainable,
a fresh optimizer of the configured kind runs at ``fine_tune_learning_rate`` (constant), and the
run emits ``phase {epoch, name: "fine_tune", learning_rate, trainable_params}``.
"""

from __future__ import annotations

from studio.core.training.callbacks import Hooks
from studio.core.transfer.attach import BACKBONE_PREFIX


def check_backbone_setting(graph, source: str) -> None:
    """TrainingError before a run starts when ``training.backbone`` cannot be served."""
    from studio.core.training.errors import TrainingError
    from studio.core.transfer.attach import backbone_layers
    from studio.core.transfer.backbones import BackboneError, resolve

    try:
        resolve(source)
    except BackboneError as exc:
        raise TrainingError(f"backbone: {exc}") from None
    if not backbone_layers(graph):
        raise TrainingError("training.backbone is set but the graph has no backbone_* layers: attach the "
                            "backbone first (studio train --backbone, or clear the setting)")


def copy_backbone_weights(model, source: str) -> int:
    """Copy the weights of backbone ``source`` into ``model``'s ``backbone_*`` layers; returns how many
    layers received weights. Raises BackboneError when none match or a shape differs."""
    from studio.core.transfer.backbones import BackboneError, load_backbone

    backbone = load_backbone(source)
    copied = 0
    for layer in backbone.model.layers:
        weights = layer.get_weights()
        name = BACKBONE_PREFIX + layer.name
        if not weights or name not in {target.name for target in model.layers}:
            continue
        target = model.get_layer(name)
        if [w.shape for w in target.get_weights()] != [w.shape for w in weights]:
            raise BackboneError(f"layer {name} does not match {backbone.label}'s {layer.name}: "
                                "re-attach the backbone instead of editing its layers")
        target.set_weights(weights)
        copied += 1
    if not copied:
        raise BackboneError(f"no layer of the model matches {backbone.label}: attach it with --backbone "
                            "(its layers are named backbone_<name>)")
    return copied


class FineTune(Hooks):
    """Switches the run to its fine-tuning phase at epoch ``config.epochs - config.fine_tune_epochs``."""

    def __init__(self, folder, config, new_optimizer) -> None:
        """``new_optimizer(config)`` makes the configured optimizer (training.build.make_optimizer)."""
        self.folder, self.config, self.new_optimizer = folder, config, new_optimizer
        self.start = config.epochs - config.fine_tune_epochs
        self.done = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.done or epoch < self.start:
            return
        self.done = True
        model = self.model
        for layer in model.layers:
            if layer.name.startswith(BACKBONE_PREFIX) and type(layer).__name__ != "BatchNormalization":
                layer.trainable = True
        rate = self.config.fine_tune_learning_rate
        optimizer = self.new_optimizer(self.config.replace(learning_rate=rate, schedule="constant"))
        optimizer.build(model.trainable_variables)
        model.optimizer = optimizer
        model.make_train_function(force=True)
        trainable = int(sum(int(v.numpy().size) for v in model.trainable_variables))
        self.folder.emit("phase", epoch=epoch + 1, name="fine_tune", learning_rate=rate, trainable_params=trainable)


def transfer_setup(model, config, new_optimizer) -> tuple[list, list[str]]:
    """Copy the configured backbone's weights into ``model``; the folder-callback factories and notes
    for the run. ``new_optimizer(config)`` makes an optimizer for the fine-tuning phase."""
    notes, factories = [], []
    if config.backbone:
        from studio.core.training.errors import TrainingError
        from studio.core.transfer.backbones import BackboneError

        try:
            copied = copy_backbone_weights(model, config.backbone)
        except BackboneError as exc:
            raise TrainingError(f"backbone: {exc}") from None
        notes.append(f"backbone weights from {config.backbone} ({copied} layers)")
    if config.fine_tune_epochs:
        factories.append(lambda folder: FineTune(folder, config, new_optimizer))
        notes.append(f"fine-tuning the backbone for the last {config.fine_tune_epochs} epochs at learning rate "
                     f"{config.fine_tune_learning_rate:g}")
    return factories, notes
