"""Training settings: the project's ``training`` dict as a dataclass, declared once as ParamSpecs.

``TRAINING_FIELDS`` describes every setting (kind, default, range or choices, help): the
dataclass defaults, ``TrainingConfig.validate()``, the CLI help and the GUI form derive from it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from studio.core.backends import CHOICES as BACKEND_CHOICES
from studio.core.params import ParamError, ParamSpec

OBJECTIVES = ("supervised", "contrastive")
OPTIMIZERS = ("sgd", "momentum", "nesterov", "rmsprop", "adagrad", "adam", "adamw")
SCHEDULES = ("constant", "step", "exponential", "cosine", "warmup", "reduce_on_plateau")
LOSSES = (
    "auto",
    "sparse_categorical_crossentropy",
    "categorical_crossentropy",
    "binary_crossentropy",
    "mse",
    "mae",
    "huber",
    "dice",
)
METRICS = ("accuracy", "precision", "recall", "auc", "top_k", "mae", "mse")
DEVICES_HELP = (
    "auto (first GPU, else CPU), cpu, gpu (first GPU), all (every GPU, mirrored), "
    "N (the first N GPUs, mirrored), cpu:N (CPU split into N mirrored devices, for testing)"
)


TRAINING_FIELDS: tuple[ParamSpec, ...] = (
    ParamSpec("objective", "choice", "supervised", "What the run learns: supervised (from the labels) or "
              "contrastive (self-supervised, labels unused: two augmented views of each image should get "
              "similar features; the run's model is the encoder, a backbone for later runs).", choices=OBJECTIVES),
    ParamSpec("temperature", "float", 0.2, "Contrastive runs: the NT-Xent temperature (lower: sharper "
              "separation of the images in a batch).", minimum=0.0, maximum=10.0, exclusive_minimum=True),
    ParamSpec("optimizer", "choice", "adam", "How weights are updated from gradients.", choices=OPTIMIZERS),
    ParamSpec("learning_rate", "float", 1e-3, "Step size of each update.", minimum=0.0,
              exclusive_minimum=True),
    ParamSpec("momentum", "float", 0.9, "Momentum of the momentum and nesterov optimizers.", 0.0, 1.0),
    ParamSpec("schedule", "choice", "constant", "How the learning rate changes over epochs.",
              choices=SCHEDULES),
    ParamSpec("decay_rate", "float", 0.5,
              "Factor applied by the step, exponential and plateau schedules.", 0.0, 1.0),
    ParamSpec("decay_epochs", "int", 10, "Epochs between two decays (step, exponential).", 1),
    ParamSpec("warmup_epochs", "int", 1, "Epochs of linear warm-up before cosine decay.", 0),
    ParamSpec("min_learning_rate", "float", 0.0,
              "Lowest learning rate reached by cosine and plateau schedules.", 0.0),
    ParamSpec("plateau_patience", "int", 3,
              "Epochs without improvement before reduce-on-plateau lowers the rate.", 1),
    ParamSpec("loss", "choice", "auto",
              "Loss to minimise; auto picks it from the dataset's task.", choices=LOSSES),
    ParamSpec("metrics", "multichoice", ["accuracy"],
              "Metrics reported each epoch; ones that do not fit the task are skipped.",
              choices=METRICS),
    ParamSpec("top_k", "int", 5, "How many top guesses count as right in the top-k accuracy.", 1),
    ParamSpec("batch_size", "int", 32, "Samples per training step.", 1, 65536),
    ParamSpec("epochs", "int", 10, "Passes over the training data.", 1, 100000),
    ParamSpec("seed", "int", 0, "Seed for weights, shuffling and augmentation.", 0),
    ParamSpec("early_stopping", "bool", False, "Stop when the monitored value stops improving."),
    ParamSpec("early_stopping_monitor", "str", "val_loss",
              "Logged value watched by early stopping and the best checkpoint.",
              choices=("val_loss", "val_accuracy", "loss", "accuracy")),
    ParamSpec("early_stopping_patience", "int", 5, "Epochs without improvement before stopping.", 0),
    ParamSpec("restore_best", "bool", True, "On early stop, go back to the best weights."),
    ParamSpec("clipnorm", "optional_float", None,
              "Clip each gradient to this norm (empty: no clipping).", minimum=0.0, exclusive_minimum=True),
    ParamSpec("weight_decay", "float", 0.0, "Decoupled weight decay applied to all weights.", 0.0),
    ParamSpec("mixed_precision", "bool", False, "Compute in float16 on a GPU (ignored on CPU)."),
    ParamSpec("grad_norm_every", "int", 50,
              "Log per-layer gradient norms every N steps (0: never).", 0),
    ParamSpec("devices", "str", "auto", "Where to train: " + DEVICES_HELP + ".",
              choices=("auto", "cpu", "gpu", "all", "cpu:2")),
    ParamSpec("backup_every_steps", "int", 0,
              "Also save the resume backup every N steps (0: at epoch ends and on the timer only).", 0),
    ParamSpec("backup_every_s", "float", 60.0,
              "Also save the resume backup when this many seconds passed since the last (0: never).", 0.0),
    ParamSpec("backend", "choice", "auto", "Keras backend that trains: auto (fastest measured, see "
              "`studio doctor --bench`), tensorflow, jax or torch.", choices=BACKEND_CHOICES),
    ParamSpec("backbone", "optional_str", None,
              "Starting weights of the backbone_* layers: a run folder, a .keras file, keras:NAME or builtin:NAME.",
              label="Backbone weights"),
    ParamSpec("fine_tune_epochs", "int", 0, "The last N epochs fine-tune the whole backbone (BatchNorm "
              "stays frozen) after the head has trained alone (0: one phase).", 0, label="Fine-tune epochs"),
    ParamSpec("fine_tune_learning_rate", "float", 1e-4, "Learning rate of the fine-tuning epochs.",
              minimum=0.0, exclusive_minimum=True, label="Fine-tune learning rate"),
    ParamSpec("init_from", "folder", None, "Start from a run's weights (a run folder; empty: fresh weights): "
              "layers with the same name and weight shapes take them (the run notes name those of other "
              "shapes), e.g. a pretrained encoder before fine-tuning.", label="Start from run"),
    ParamSpec("mlflow", "optional_str", None, "Also log the run to MLflow (params, metrics each epoch, the "
              "final model): 'local' (a store in mlruns/ beside the runs folder) or a tracking URI such as "
              "http://server:5000; empty: off. Needs the mlflow extra.", label="MLflow tracking"),
    ParamSpec("mlflow_experiment", "optional_str", None, "The MLflow experiment of the run (empty: the "
              "project's name).", label="MLflow experiment"),
)

_SPECS = {spec.name: spec for spec in TRAINING_FIELDS}


def _default(name: str) -> Any:
    """The dataclass field for setting ``name``, its default taken from ``TRAINING_FIELDS``."""
    spec = _SPECS[name]
    if isinstance(spec.default, (list, dict)):
        return field(default_factory=spec.default_value)
    return field(default=spec.default)


@dataclass
class TrainingConfig:
    """All training settings; ``from_dict``/``to_dict`` map to the project's ``training`` dict.

    Fields follow ``TRAINING_FIELDS`` one to one (a test checks names and order).
    """

    objective: str = _default("objective")
    temperature: float = _default("temperature")
    optimizer: str = _default("optimizer")
    learning_rate: float = _default("learning_rate")
    momentum: float = _default("momentum")
    schedule: str = _default("schedule")
    decay_rate: float = _default("decay_rate")
    decay_epochs: int = _default("decay_epochs")
    warmup_epochs: int = _default("warmup_epochs")
    min_learning_rate: float = _default("min_learning_rate")
    plateau_patience: int = _default("plateau_patience")
    loss: str = _default("loss")
    metrics: list[str] = _default("metrics")
    top_k: int = _default("top_k")
    batch_size: int = _default("batch_size")
    epochs: int = _default("epochs")
    seed: int = _default("seed")
    early_stopping: bool = _default("early_stopping")
    early_stopping_monitor: str = _default("early_stopping_monitor")
    early_stopping_patience: int = _default("early_stopping_patience")
    restore_best: bool = _default("restore_best")
    clipnorm: float | None = _default("clipnorm")
    weight_decay: float = _default("weight_decay")
    mixed_precision: bool = _default("mixed_precision")
    grad_norm_every: int = _default("grad_norm_every")
    devices: str = _default("devices")
    backup_every_steps: int = _default("backup_every_steps")
    backup_every_s: float = _default("backup_every_s")
    backend: str = _default("backend")
    backbone: str | None = _default("backbone")
    fine_tune_epochs: int = _default("fine_tune_epochs")
    fine_tune_learning_rate: float = _default("fine_tune_learning_rate")
    init_from: str | None = _default("init_from")
    mlflow: str | None = _default("mlflow")
    mlflow_experiment: str | None = _default("mlflow_experiment")
    unknown: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingConfig:
        """Build a config from a project's ``training`` dict; missing keys take defaults.

        Values are taken as given (``validate`` reports bad ones); unknown keys are kept aside so
        ``validate`` can name them.

        Args:
            data: the project's ``training`` section, or None for every default.

        Returns:
            A new config; ``data`` is not modified.
        """
        data = dict(data or {})
        known = {name: data.pop(name) for name in list(data) if name in _SPECS}
        return cls(**known, unknown=data)

    def to_dict(self) -> dict[str, Any]:
        """The project's ``training`` dict (every known setting, JSON-ready)."""
        result = dataclasses.asdict(self)
        result.pop("unknown")
        return result

    def replace(self, **changes: Any) -> TrainingConfig:
        """A copy with some settings changed (e.g. ``epochs`` from the command line)."""
        return dataclasses.replace(self, **changes)

    def validate(self) -> list[str]:
        """Every problem with these settings, one clear sentence each (empty list: all good)."""
        problems = [f"unknown training setting {key!r}" for key in self.unknown]
        for spec in TRAINING_FIELDS:
            if spec.default is None and getattr(self, spec.name) is None:
                continue  # a setting whose default is "none" (init_from) may stay unset
            try:
                spec.check(getattr(self, spec.name))
            except ParamError as exc:
                problems.append(str(exc))
        if not problems and self.min_learning_rate > self.learning_rate:
            problems.append(
                f"min_learning_rate ({self.min_learning_rate}) is above learning_rate "
                f"({self.learning_rate}): lower it"
            )
        if not problems and self.fine_tune_epochs >= self.epochs:
            problems.append(f"fine_tune_epochs ({self.fine_tune_epochs}) must be fewer than epochs ({self.epochs}): "
                            "the head trains alone first")
        if not problems:
            from studio.core.backends.devices import parse_devices

            try:
                parse_devices(self.devices)
            except ValueError as exc:
                problems.append(str(exc))
        return problems
