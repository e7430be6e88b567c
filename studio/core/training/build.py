"""The model-building step of a run: project + dataset -> compiled Keras model and tf.data inputs.

This is the one step other objectives replace: ``builder_for(project)`` returns the builder a
registered feature offers for the project's objective (hook ``objective_builder``: GAN/VAE
projects, contrastive pretraining), else ``build_supervised``, and adds what every feature adds to
the run (hook ``extend_run``: callbacks, folder callbacks, notes). A builder has the signature
``build(project, config, dataset, setup, start_epoch) -> Built`` and runs inside the distribution
strategy's scope; the engine does everything else (events, checkpoints, resume, failures).
Training knows no feature: see ``studio.core.hooks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from studio.core import hooks
from studio.core.training.adapt import output_activation
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError

_CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


@dataclass
class Built:
    """What a builder hands the engine.

    ``loss_fn(y_true, y_pred)`` and ``probe`` (a tf.data of ``(x, y)`` batches) let the engine
    compute per-layer gradient norms; leave them None when that does not apply (custom steps).
    ``callbacks`` are extra Keras callbacks (e.g. reduce-on-plateau). ``folder_callbacks`` are
    factories ``make(run_folder) -> callback`` for callbacks that write into the run folder; they
    run before the engine's own, so values they add to an epoch's logs (e.g. a generative quality
    score) reach the epoch event, history.json, checkpoints and early stopping.
    """

    model: Any
    train: Any
    val: Any | None
    steps_per_epoch: int
    loss_fn: Any | None = None
    probe: Any | None = None
    callbacks: list[Any] = field(default_factory=list)
    folder_callbacks: list[Callable[[Any], Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class RunContext:
    """What a feature sees of a run being built (hook ``extend_run``): the project, its checked
    settings, the dataset, the built model and its epoch length, the epoch the run starts at (not 0
    when resuming) and whether it is ordinary supervised training."""

    project: Any
    config: TrainingConfig
    dataset: Any
    model: Any
    steps_per_epoch: int
    start_epoch: int
    supervised: bool


@dataclass
class RunAddition:
    """What a feature adds to a run: Keras callbacks, folder-callback factories (see ``Built``) and
    notes for run.json and the start event."""

    callbacks: list[Any] = field(default_factory=list)
    folder_callbacks: list[Callable[[Any], Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def builder_for(project) -> Callable[..., Built]:
    """The build function for ``project``, adding what the registered features add to a run.

    Args:
        project: the project to train.

    Returns:
        ``build(project, config, dataset, setup, start_epoch) -> Built``.

    Raises:
        TrainingError: the project needs an objective no registered feature builds.
    """
    build = hooks.first("objective_builder", project)
    if build is None:
        objective = (project.training or {}).get("objective") or "supervised"
        if getattr(project, "generative", None) or objective != "supervised":
            kind = "generative" if getattr(project, "generative", None) else objective
            raise TrainingError(f"{kind} training is not available: no registered feature builds it")
        build = build_supervised

    def build_with_features(project, config, dataset, setup, start_epoch: int = 0) -> Built:
        built = build(project, config, dataset, setup, start_epoch)
        run = RunContext(project, config, dataset, built.model, built.steps_per_epoch, start_epoch,
                         supervised=build is build_supervised)
        for addition in hooks.call("extend_run", run):
            built.callbacks += addition.callbacks
            built.folder_callbacks += addition.folder_callbacks
            built.notes += addition.notes
        return built

    return build_with_features


def loss_name(config: TrainingConfig, task: str, out_units: int, soft_labels: bool) -> str:
    """The loss to use: the configured one, or the task's natural one for ``auto``.

    Raises TrainingError when an explicit loss cannot work with the task or labels.
    """
    name = config.loss
    if task == "localization":
        if name != "auto":
            raise TrainingError(f"loss {name} does not fit class + box targets: use auto (class cross-entropy "
                                "+ box error)")
        return "localization"
    if task == "segmentation":
        if name not in ("auto", "sparse_categorical_crossentropy", "dice"):
            raise TrainingError(f"loss {name} does not fit per-pixel masks: use auto (per-pixel cross-entropy) or dice")
        return "dice" if name == "dice" else "sparse_categorical_crossentropy"
    if name == "dice":
        raise TrainingError("the dice loss needs per-pixel masks (a segmentation dataset): use auto")
    if name == "auto":
        if task == "regression":
            return "mse"
        if task == "binary" and out_units == 1:
            return "binary_crossentropy"
        return "categorical_crossentropy" if soft_labels else "sparse_categorical_crossentropy"
    if task == "regression" and name in _CROSS_ENTROPIES:
        raise TrainingError(f"loss {name} needs class labels but the dataset is a regression: use mse, mae or huber")
    if soft_labels and name == "sparse_categorical_crossentropy":
        raise TrainingError("mixup/cutmix make soft labels: use categorical_crossentropy (or auto)")
    if name == "binary_crossentropy" and task == "classification":
        raise TrainingError("binary_crossentropy fits two classes only: use auto or a categorical loss")
    if name not in _CROSS_ENTROPIES and task != "regression" and out_units != 1:
        raise TrainingError(f"loss {name} compares numbers but the dataset has class labels and the model "
                            f"{out_units} outputs: use auto or a cross-entropy")
    return name


def make_loss(name: str, from_logits: bool, ignore_class: int | None = None):
    """The Keras loss object for ``name``; ``ignore_class`` (sparse cross-entropy only): targets of
    that class add nothing (the unmasked steps of a masked language model)."""
    import keras

    if name == "dice":
        from studio.core.segmentation import sparse_dice_loss

        return sparse_dice_loss
    if name == "localization":
        from studio.core.localization import localization_loss

        return localization_loss
    if ignore_class is not None:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)
    if name in _CROSS_ENTROPIES:
        cls = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
               "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
               "binary_crossentropy": keras.losses.BinaryCrossentropy}[name]
        return cls(from_logits=from_logits)
    return {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError,
            "huber": keras.losses.Huber}[name]()


ONE_HOT_METRICS = ("precision", "recall", "auc")


def wants_one_hot(config: TrainingConfig, task: str, loss: str) -> bool:
    """Whether multi-class labels must be one-hot: Keras' precision/recall/AUC need them."""
    return (task == "classification" and loss == "sparse_categorical_crossentropy"
            and any(name in ONE_HOT_METRICS for name in config.metrics))


def make_metrics(config: TrainingConfig, task: str, loss: str, num_classes: int,
                 from_logits: bool) -> tuple[list[Any], list[str]]:
    """Keras metrics for the configured names, and notes for those skipped as unfit for the task.

    Only built-in Keras metrics, so the saved models load anywhere. Multi-class precision, recall
    and AUC are micro-averaged over one-hot labels (see ``wants_one_hot``).
    """
    import keras

    metrics, notes = [], []
    if task == "localization":  # the class, and how well the box overlaps the true one
        from studio.core.localization import box_iou, class_accuracy

        return [class_accuracy, box_iou], []
    if task == "segmentation":  # per-pixel accuracy and the mean intersection-over-union of the classes
        return ["accuracy", keras.metrics.MeanIoU(num_classes, sparse_y_true=True, sparse_y_pred=False,
                                                  name="iou")], []
    threshold = 0.0 if from_logits else 0.5
    for name in config.metrics or (["mae"] if task == "regression" else ["accuracy"]):
        made = None
        if task == "regression":
            made = {"mae": "mae", "mse": "mse"}.get(name)
        elif loss == "binary_crossentropy":
            made = {
                "accuracy": lambda: keras.metrics.BinaryAccuracy(name="accuracy", threshold=threshold),
                "precision": lambda: keras.metrics.Precision(name="precision", thresholds=threshold),
                "recall": lambda: keras.metrics.Recall(name="recall", thresholds=threshold),
                "auc": lambda: keras.metrics.AUC(name="auc", from_logits=from_logits),
            }.get(name, lambda: None)()
        elif name == "accuracy":
            made = "accuracy"
        elif name == "top_k" and config.top_k < num_classes:
            sparse = loss == "sparse_categorical_crossentropy"
            cls = keras.metrics.SparseTopKCategoricalAccuracy if sparse else keras.metrics.TopKCategoricalAccuracy
            made = cls(k=config.top_k, name=f"top_{config.top_k}")
        elif name == "auc" and loss == "categorical_crossentropy":
            made = keras.metrics.AUC(name="auc", from_logits=from_logits)
        elif name in ("precision", "recall") and loss == "categorical_crossentropy" and not from_logits:
            made = {"precision": keras.metrics.Precision, "recall": keras.metrics.Recall}[name](name=name)
        if made is None:
            notes.append(f"metric {name} does not fit a {task} task with {loss}"
                         f"{' on logits' if from_logits else ''}: skipped")
        else:
            metrics.append(made)
    return metrics, notes


def make_learning_rate(config: TrainingConfig, steps_per_epoch: int):
    """A float or a Keras LearningRateSchedule for the configured schedule (per-step)."""
    import keras

    schedules = keras.optimizers.schedules
    rate, kind = config.learning_rate, config.schedule
    floor = config.min_learning_rate / rate if rate else 0.0
    total = max(1, config.epochs * steps_per_epoch)
    if kind in ("step", "exponential"):
        return schedules.ExponentialDecay(rate, decay_steps=config.decay_epochs * steps_per_epoch,
                                          decay_rate=config.decay_rate, staircase=kind == "step")
    if kind == "cosine":
        return schedules.CosineDecay(rate, decay_steps=total, alpha=floor)
    if kind == "warmup":
        warmup = min(config.warmup_epochs * steps_per_epoch, total - 1)
        return schedules.CosineDecay(0.0, decay_steps=max(1, total - warmup), alpha=floor,
                                     warmup_target=rate, warmup_steps=warmup)
    return rate


def make_optimizer(config: TrainingConfig, steps_per_epoch: int):
    """The configured Keras optimizer with its schedule, clipping and weight decay."""
    import keras

    common = {"learning_rate": make_learning_rate(config, steps_per_epoch),
              "clipnorm": config.clipnorm, "weight_decay": config.weight_decay or None}
    opt = keras.optimizers
    return {
        "sgd": lambda: opt.SGD(**common),
        "momentum": lambda: opt.SGD(momentum=config.momentum, **common),
        "nesterov": lambda: opt.SGD(momentum=config.momentum, nesterov=True, **common),
        "rmsprop": lambda: opt.RMSprop(**common),
        "adagrad": lambda: opt.Adagrad(**common),
        "adam": lambda: opt.Adam(**common),
        "adamw": lambda: opt.AdamW(**{**common, "weight_decay": config.weight_decay}),
    }[config.optimizer]()


MAX_STEPS_PER_EXECUTION = 8


def steps_per_execution(config: TrainingConfig, backend: str, steps: int, replicas: int = 1) -> int:
    """Training steps per call of the compiled step: fewer host round trips and batch hooks.

    Measured on 2 CPU cores (small_cnn_28, batch 32, plain fit, 8 vs 1): TensorFlow 1.4x, JAX 1.1x
    faster (a frozen-backbone fine-tune on TensorFlow: 1.9x). Keras' PyTorch trainer runs one step
    per call, and several replicas keep one too (TensorFlow's MirroredStrategy fails with more). The count divides the ``steps`` of an epoch
    (Keras runs whole executions, so an epoch would take batches of the next) and the step backups
    the user set (a kill loses at most that many steps); gradient norms come at the end of the call
    that reaches their step.
    """
    if backend == "torch" or replicas > 1:
        return 1
    cadences = [steps] + ([config.backup_every_steps] if config.backup_every_steps > 0 else [])
    return next(count for count in range(MAX_STEPS_PER_EXECUTION, 0, -1)
                if all(every % count == 0 for every in cadences))


def build_supervised(project, config: TrainingConfig, dataset, setup, start_epoch: int = 0) -> Built:
    """Compile the project's graph for its dataset and make the train/val pipelines.

    The training stream is endless and starts at ``start_epoch`` so a resumed run sees the same
    shuffles and augmentations it would have seen without the interruption. A registered feature
    may replace the loss (hook ``supervised_loss``, e.g. a masked language model's).
    """
    import keras

    from studio.core.data import make_pipeline, needs_soft_labels, steps_per_epoch
    from studio.core.graph.keras_io import to_keras

    model = to_keras(project.graph)
    steps = steps_per_epoch(dataset, "train", config.batch_size)
    out_units = int(model.outputs[0].shape[-1])
    soft = needs_soft_labels(project.augmentation)
    name = loss_name(config, dataset.task, out_units, soft)
    one_hot = wants_one_hot(config, dataset.task, name)
    if one_hot:
        name = "categorical_crossentropy"  # the same loss, on the one-hot labels
    from_logits = name in _CROSS_ENTROPIES and output_activation(project.graph) == "linear"
    loss, loss_notes = make_loss(name, from_logits), []
    replaced = hooks.first("supervised_loss", dataset, name, from_logits)
    if replaced is not None:
        loss, note = replaced
        loss_notes.append(note)
    metrics, notes = make_metrics(config, dataset.task, name, dataset.num_classes, from_logits)
    model.compile(optimizer=make_optimizer(config, steps), loss=loss, metrics=metrics,
                  jit_compile=setup.jit_compile,
                  steps_per_execution=steps_per_execution(config, keras.backend.backend(), steps,
                                                          setup.info.get("replicas", 1)))
    train = make_pipeline(dataset, "train", config.batch_size, config.seed, project.augmentation,
                          epoch=start_epoch, shuffle=True, epochs=None, one_hot=one_hot)
    # Gradient norms read their own stream so training batches are never consumed twice.
    probe = make_pipeline(dataset, "train", config.batch_size, config.seed + 1, project.augmentation,
                          shuffle=True, epochs=None, one_hot=one_hot)
    val = None
    if len(dataset.x_val):
        val = make_pipeline(dataset, "val", config.batch_size, config.seed, project.augmentation, one_hot=one_hot)
    callbacks = []
    if config.schedule == "reduce_on_plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss" if val is not None else "loss", factor=config.decay_rate,
            patience=config.plateau_patience, min_lr=config.min_learning_rate))
    return Built(model, train, val, steps, loss_fn=loss, probe=probe, callbacks=callbacks,
                 notes=notes + loss_notes)
