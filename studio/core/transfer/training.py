"""The fine-tuning phase of a transfer-learning run (the last ``fine_tune_epochs`` epochs).

Phase 1 trains what the graph leaves trainable (usually only the new head). At the first epoch of
phase 2 every backbone layer except BatchNormalization (kept in inference mode) becomes trainable,
a fresh optimizer of the configured kind runs at ``fine_tune_learning_rate`` (constant), and the
run emits ``phase {epoch, name: "fine_tune", learning_rate, trainable_params}``.
"""

from __future__ import annotations

from studio.core.training.callbacks import Hooks
from studio.core.transfer.attach import BACKBONE_PREFIX


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
