"""Training settings: the project's ``training`` dict as a dataclass, plus a form schema for the GUI.

``TRAINING_FIELDS`` describes every setting (kind, default, range or choices, help) so a settings
form can be generated; ``TrainingConfig.validate()`` checks a config against it and returns
one readable message per problem.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from studio.core.backends import CHOICES as BACKEND_CHOICES
from studio.core.params import ParamSpec

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
)
METRICS = ("accuracy", "precision", "recall", "auc", "top_k", "mae", "mse")
DEVICES_HELP = (
    "auto (first GPU, else CPU), cpu, gpu (first GPU), all (every GPU, mirrored), "
    "N (the first N GPUs, mirrored), cpu:N (CPU split into N mirrored devices, for testing)"
)


TRAINING_FIELDS: tuple[ParamSpec, ...] = (
    ParamSpec("optimizer", "choice", "adam", "How weights are updated from gradients.", choices=OPTIMIZERS),
    ParamSpec("learning_rate", "float", 1e-3, "Step size of each update.", minimum=0.0),
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
              "Logged value watched by early stopping and the best checkpoint."),
    ParamSpec("early_stopping_patience", "int", 5, "Epochs without improvement before stopping.", 0),
    ParamSpec("restore_best", "bool", True, "On early stop, go back to the best weights."),
    ParamSpec("clipnorm", "optional_float", None,
              "Clip each gradient to this norm (empty: no clipping).", minimum=0.0),
    ParamSpec("weight_decay", "float", 0.0, "Decoupled weight decay applied to all weights.", 0.0),
    ParamSpec("mixed_precision", "bool", False, "Compute in float16 on a GPU (ignored on CPU)."),
    ParamSpec("grad_norm_every", "int", 50,
              "Log per-layer gradient norms every N steps (0: never).", 0),
    ParamSpec("devices", "str", "auto", "Where to train: " + DEVICES_HELP + "."),
    ParamSpec("backend", "choice", "auto", "Keras backend that trains: auto (fastest measured, see "
              "`studio doctor --bench`), tensorflow, jax or torch.", choices=BACKEND_CHOICES),
)

_SPECS = {spec.name: spec for spec in TRAINING_FIELDS}


@dataclass
class TrainingConfig:
    """All training settings; ``from_dict``/``to_dict`` map to the project's ``training`` dict."""

    optimizer: str = "adam"
    learning_rate: float = 1e-3
    momentum: float = 0.9
    schedule: str = "constant"
    decay_rate: float = 0.5
    decay_epochs: int = 10
    warmup_epochs: int = 1
    min_learning_rate: float = 0.0
    plateau_patience: int = 3
    loss: str = "auto"
    metrics: list[str] = field(default_factory=lambda: ["accuracy"])
    top_k: int = 5
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    early_stopping: bool = False
    early_stopping_monitor: str = "val_loss"
    early_stopping_patience: int = 5
    restore_best: bool = True
    clipnorm: float | None = None
    weight_decay: float = 0.0
    mixed_precision: bool = False
    grad_norm_every: int = 50
    devices: str = "auto"
    backend: str = "auto"
    unknown: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> TrainingConfig:
        """Build a config from a project's ``training`` dict; missing keys take defaults.

        Values are taken as given (``validate`` reports bad ones); unknown keys are kept aside so
        ``validate`` can name them.
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
            message = _check_field(spec, getattr(self, spec.name))
            if message:
                problems.append(message)
        if not problems and self.schedule == "reduce_on_plateau" and self.learning_rate == 0:
            problems.append("learning_rate must be above 0 for reduce_on_plateau")
        if not problems and self.min_learning_rate > self.learning_rate:
            problems.append(
                f"min_learning_rate ({self.min_learning_rate}) is above learning_rate "
                f"({self.learning_rate}): lower it"
            )
        if not problems:
            from studio.core.training.devices import parse_devices

            try:
                parse_devices(self.devices)
            except ValueError as exc:
                problems.append(str(exc))
        return problems


def _check_field(spec: ParamSpec, value: Any) -> str | None:
    """Return a message when ``value`` does not fit ``spec``, else None."""
    name = spec.name
    if spec.kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false, got {value!r}"
    if spec.kind == "str":
        return None if isinstance(value, str) and value else f"{name} must be a non-empty text"
    if spec.kind == "choice":
        if value not in spec.choices:
            return f"unknown {name} {value!r}: choose one of {', '.join(spec.choices)}"
        return None
    if spec.kind == "multichoice":
        if not isinstance(value, (list, tuple)):
            return f"{name} must be a list, got {value!r}"
        bad = [item for item in value if item not in spec.choices]
        if bad:
            return f"unknown {name} {', '.join(map(repr, bad))}: choose from {', '.join(spec.choices)}"
        return None
    if spec.kind == "optional_float" and value is None:
        return None
    numeric = (int,) if spec.kind == "int" else (int, float)
    if isinstance(value, bool) or not isinstance(value, numeric):
        wanted = "a whole number" if spec.kind == "int" else "a number"
        return f"{name} must be {wanted}, got {value!r}"
    if value != value or value in (float("inf"), float("-inf")):
        return f"{name} must be a finite number, got {value!r}"
    if spec.minimum is not None and value < spec.minimum:
        return f"{name} must be at least {spec.minimum:g}, got {value!r}"
    if name in ("learning_rate", "clipnorm") and value == 0:
        return f"{name} must be above 0, got {value!r}"
    if spec.maximum is not None and value > spec.maximum:
        return f"{name} must be at most {spec.maximum:g}, got {value!r}"
    return None
