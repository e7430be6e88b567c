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
from studio.core.tasks import TaskError, get_task, loss_owner, own_loss
from studio.core.tasks.base import CROSS_ENTROPIES
from studio.core.tasks.outputs import output_activation
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError


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

    Args:
        config: the run's settings (``loss``).
        task: the dataset's task name.
        out_units: the model's output units.
        soft_labels: whether augmentation mixes labels (mixup/cutmix).

    Returns:
        The loss name; raises TrainingError when an explicit loss cannot work with the task or labels.
    """
    name = config.loss
    try:
        fitted = get_task(task)
        if name == "auto":
            return fitted.default_loss(out_units, soft_labels)
        owner = loss_owner(name)
        if owner is not None and owner is not fitted:
            raise TaskError(f"the {name} loss needs {owner.targets} (a {owner.name} dataset): use auto")
        fitted.check_loss(name, out_units, soft_labels)
    except TaskError as exc:
        raise TrainingError(str(exc)) from None
    return name


def make_loss(name: str, from_logits: bool, ignore_class: int | None = None):
    """The Keras loss object for ``name`` (a task's own loss, or a Keras one); ``ignore_class`` (sparse
    cross-entropy only): targets of that class add nothing (the unmasked steps of a masked language model)."""
    import keras

    own = own_loss(name)
    if own is not None:
        return own
    if ignore_class is not None:
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)
    if name in CROSS_ENTROPIES:
        cls = {"sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
               "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
               "binary_crossentropy": keras.losses.BinaryCrossentropy}[name]
        return cls(from_logits=from_logits)
    return {"mse": keras.losses.MeanSquaredError, "mae": keras.losses.MeanAbsoluteError,
            "huber": keras.losses.Huber}[name]()


def wants_one_hot(config: TrainingConfig, task: str, loss: str) -> bool:
    """Whether labels must be one-hot for the configured metrics (Keras' multi-class precision/recall/AUC)."""
    return get_task(task).wants_one_hot(config.metrics, loss)


def make_metrics(config: TrainingConfig, task: str, loss: str, num_classes: int,
                 from_logits: bool) -> tuple[list[Any], list[str]]:
    """Keras metrics for the configured names (the task's own metric when none), and notes for those
    skipped as unfit for the task."""
    fitted = get_task(task)
    return fitted.metrics(config.metrics or [fitted.metric], loss, num_classes, from_logits, config.top_k)


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

    Args:
        project: the planned project (its graph fitted to the data).
        config: the run's training settings.
        dataset: the loaded dataset.
        setup: the DeviceSetup (its compile mode and replica count).
        start_epoch: the first epoch of this session (0, or where a resumed run goes on).

    Returns:
        Built: the compiled model, the endless training stream, the validation stream (None without
        validation samples), a separate training stream for gradient probes, the loss, a
        reduce-on-plateau callback when scheduled, and notes on skipped metrics or a replaced loss.

    Raises:
        TrainingError: the chosen loss does not fit the task or the labels.
        GraphBuildError: the graph has errors.
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
    from_logits = name in CROSS_ENTROPIES and output_activation(project.graph) == "linear"
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
