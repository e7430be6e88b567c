"""What a task is: the kind of target a dataset holds, and everything that follows from it.

A ``Task`` declares its losses and metrics, how a model's output is fitted to its targets, how a
trained model is scored on it and how one prediction is shown. Pure Python: the numbers are
computed in the modules a task imports when asked (numpy, Keras).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

CROSS_ENTROPIES = ("sparse_categorical_crossentropy", "categorical_crossentropy", "binary_crossentropy")


class TaskError(ValueError):
    """A loss, model or target that does not fit the task; the message says what to do instead."""


@dataclass
class Shown:
    """One prediction as the Inspect area shows it.

    ``value`` is the prediction itself (class probabilities, values, a mask, class scores + box);
    ``bars`` (named by ``bar_names``, ``highlight`` marked) are plotted under ``title``; ``picture``
    is an RGB uint8 overlay of the sample (None: the task draws none); ``text`` is one sentence.
    """

    value: Any
    bars: Any
    title: str
    text: str
    bar_names: list[str] | None = None
    highlight: int | None = None
    picture: Any | None = None


class Report:
    """What a task's evaluation returns; front ends show any report through these three methods
    (the classification and regression reports also have views of their own)."""

    def table(self) -> tuple[list[str], list[list[str]]]:
        """Column headers and rows of text: the scores."""
        raise NotImplementedError

    def summary(self) -> str:
        """One sentence with the main scores."""
        raise NotImplementedError

    def pictures(self, x) -> dict[str, Any]:
        """PNG file names -> RGB uint8 pictures of the scored samples ``x`` (none by default)."""
        return {}

    def row_samples(self, row: int) -> tuple[str, list[int], list[str]] | None:
        """The samples behind row ``row`` of ``table()``, worst first: ``(title, indices, captions)``, or
        None when a row has none (the Evaluation tab lists them when a row is clicked)."""
        return None

    def sample_picture(self, x, index: int) -> Any | None:
        """An RGB uint8 picture of sample ``index`` of ``x`` with what the report found in it, or None."""
        return None


class Task:
    """One kind of target. Subclasses set the attributes and override what differs; a module
    registers one instance with ``studio.core.tasks.registry.register``."""

    name = ""
    targets = ""  # what the targets are, for messages ("class labels", "per-pixel masks")
    has_classes = True  # the dataset names classes (class names, class-conditioned models, argmax agreement)
    class_labels = False  # targets are class indices (one per sample or per step): counted, stratified, mixed
    values_last_axis = False  # targets keep values on their last axis: only the axes before it are time steps
    dense_output = True  # a Dense layer sizes the output (output_units); else fit_output fits the model
    explains_class = False  # one vector of class scores per sample: Grad-CAM explains the top class
    picture_title = ""  # what show()'s picture of a prediction is ("predicted mask"); empty: it draws none
    metric = "accuracy"  # logged when no metric is chosen
    output_note = ""  # how to read the model's raw outputs, when they need decoding (export meta)
    box_targets = False  # targets are box rows [x0, y0, x1, y1, class]: augmentation moves them with the pixels
    counted = "samples"  # what target_classes gives a class for (the Data panel's class distribution)
    own_losses: tuple[str, ...] = ()  # names of the losses the task brings (see loss_function)

    def default_loss(self, out_units: int, soft_labels: bool) -> str:
        """The loss ``auto`` stands for.

        Args:
            out_units: the model's output units.
            soft_labels: an augmentation step mixes labels, so labels are floats.

        Returns:
            A Keras loss name or one of ``own_losses``.
        """
        raise NotImplementedError

    def check_loss(self, name: str, out_units: int, soft_labels: bool) -> None:
        """Raise TaskError when the explicit loss ``name`` cannot train this task.

        Args:
            name: the loss chosen in the training settings.
            out_units: the model's output units.
            soft_labels: labels are floats (a label-mixing step).

        Raises:
            TaskError: the loss does not fit (the base class accepts every loss).
        """

    def loss_function(self, name: str) -> Callable:
        """The function of one of ``own_losses`` (``loss(y_true, y_pred)``, written with keras.ops)."""
        raise KeyError(name)

    def metrics(self, names: list[str], loss: str, num_classes: int, from_logits: bool,
                top_k: int) -> tuple[list[Any], list[str]]:
        """Keras metrics for the chosen ``names``, and a note for each one skipped as unfit.

        Args:
            names: the metric names chosen in the training settings.
            loss: the resolved loss name.
            num_classes: the dataset's class count.
            from_logits: the model outputs logits rather than probabilities.
            top_k: k of the top-k accuracy metric.

        Returns:
            The Keras metric objects and the notes (the base class skips every metric).
        """
        return [], [f"metric {name} does not fit a {self.name} task: skipped" for name in names]

    def wants_one_hot(self, names: list[str], loss: str) -> bool:
        """Whether labels must be one-hot for these metrics (and the categorical form of ``loss``)."""
        return False

    def float_labels(self, y, num_classes: int, one_hot: bool):
        """Labels as floats for label-mixing augmentation (``one_hot``: for metrics that need one-hot).

        Args:
            y: the labels of one split.
            num_classes: the dataset's class count.
            one_hot: one-hot float labels wanted for the metrics.

        Returns:
            A float32 array of labels.

        Raises:
            TaskError: the task's targets cannot be mixed (the base class refuses).
        """
        raise TaskError("MixUp and CutMix blend class labels: they need a classification dataset")

    def output_units(self, num_classes: int | None, target_size: int, current: int | None) -> int:
        """How many output units the targets need (``current``: the model's now)."""
        return target_size

    def target_text(self, num_classes: int | None, target_size: int) -> str:
        """The targets, as a message names them ("10 classes")."""
        return f"{target_size} target value(s)"

    def output_activation(self, units: int) -> str:
        """The activation of an output Dense layer added for this task."""
        return "linear"

    def activation_problem(self, activation: str, units: int) -> tuple[str, str] | None:
        """``(activation to use, what is wrong)`` when the output's ``activation`` cannot fit the targets."""
        return None

    def fit_output(self, graph, output_id: str, shape: tuple, input_shape: tuple, num_classes: int | None) -> list[str]:
        """For tasks without a Dense output: fit ``graph`` (in place) so its output gives the targets.

        Args:
            graph: the model graph, edited in place.
            output_id: the id of its output node.
            shape: the output's shape now (no batch axis).
            input_shape: the dataset's sample shape.
            num_classes: the dataset's class count, or None.

        Returns:
            The changes made, as sentences; raises TaskError naming the node when it cannot.
        """
        raise NotImplementedError

    def evaluate(self, y_true, outputs, class_names):
        """Score model ``outputs`` against ``y_true``: a ``Report`` (a ClassificationReport or
        RegressionReport for the tasks that have those).

        Args:
            y_true: the targets, one per sample.
            outputs: the model's raw outputs for the same samples.
            class_names: the dataset's class names.

        Returns:
            The task's Report.

        Raises:
            TaskError: targets and outputs that the task cannot score together.
        """
        raise NotImplementedError

    def target_classes(self, y):
        """The class index of each counted thing (see ``counted``) in the targets ``y``.

        Args:
            y: the targets of a split.

        Returns:
            A flat int array, or None when the targets name no class (numbers).
        """
        import numpy as np

        return np.asarray(y).ravel().astype(int) if self.class_labels else None

    def label_text(self, value, class_names: list[str]) -> str:
        """One target as text (a class name, values)."""
        return str(value)

    def target_picture(self, sample, target, class_names: list[str]):
        """An RGB uint8 picture of ``sample`` with its ``target`` drawn on it, or None when the
        target is shown as a caption (the Data and Augment previews ask)."""
        return None

    def show(self, output, sample, truth, class_names: list[str]) -> Shown:
        """How the model ``output`` for one ``sample`` is shown (``truth``: its target, or None).

        Args:
            output: the model's output for the sample, without the batch axis.
            sample: the input, as the model read it.
            truth: the sample's target, or None when it is unknown.
            class_names: the dataset's class names.

        Returns:
            The Shown: the value, bars, title, sentence and (if the task draws one) an overlay picture.
        """
        raise NotImplementedError
