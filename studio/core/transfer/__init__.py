"""Transfer learning: pretrained backbones (runs, .keras files, cached keras.applications weights,
the studio's own small ones), a new head for the current dataset, freezing, and the two-phase schedule.

A backbone lives in the project graph as ordinary layers named ``backbone_<layer>`` (one collapsible
group on the canvas); ``training.backbone`` names where their starting weights come from, and
``training.fine_tune_epochs`` turns the last epochs of the run into a fine-tuning phase.
"""

from studio.core.transfer.attach import (BACKBONE_PREFIX, FREEZE_HELP, apply_freeze, backbone_layers, parse_freeze,
                                         with_backbone)
from studio.core.transfer.backbones import (Backbone, BackboneError, builtin_backbones, keras_weights_file,
                                            load_backbone, resolve)

__all__ = ["BACKBONE_PREFIX", "FREEZE_HELP", "Backbone", "BackboneError", "apply_freeze", "backbone_layers",
           "builtin_backbones", "keras_weights_file", "load_backbone", "parse_freeze",
           "resolve", "with_backbone"]
