"""The R-CNN lesson's options (for the CLI and the app's lesson dialog; importing this loads no numpy)."""

from __future__ import annotations

from studio.core.params import ParamSpec

SETTINGS = (  # the lesson's options, for the CLI
    ParamSpec("count", "int", 1500, "shape scenes drawn (70% train, 15% validation, 15% test)", 100, 20_000),
    ParamSpec("epochs", "int", 40, "epochs of the one-stage detector (detector_64)", 1, 1000),
    ParamSpec("classifier_epochs", "int", 10, "epochs of the crop classifier (small_cnn_28)", 1, 1000),
    ParamSpec("stride", "int", 4, "pixels between sliding windows (smaller: more proposals, slower)", 1, 32),
)
QUICK = {"count": 300, "epochs": 6, "classifier_epochs": 3, "stride": 6}  # a first look in a few minutes
