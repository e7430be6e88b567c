"""Will this model train on this data with this loss? A pure-Python check of model ⇄ data ⇄ loss.

``check_compat(project, facts)`` returns the problems that would stop (or silently change) a run:
Input shape vs the data, output units and rank vs the classes or targets, the loss vs the task,
the output activation vs the loss. Each problem may carry a ``Fix``: edits the GUI applies as one
undo step. The Model area shows these live; ``plan_run`` refuses what is left after adapting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.core import hooks
from studio.core.graph.infer import analyze
from studio.core.tasks import get_task
from studio.core.tasks.outputs import output_activation, output_dense
from studio.core.training.adapt import adapt_graph
from studio.core.training.build import loss_name
from studio.core.training.config import TrainingConfig
from studio.core.training.errors import TrainingError


@dataclass(frozen=True)
class DataFacts:
    """What the check needs to know about a dataset (no arrays): see ``of(dataset)``."""

    task: str
    input_shape: tuple[int, ...]
    num_classes: int | None
    target_size: int = 1
    target_shape: tuple[int, ...] | None = None  # one sample's target; None: one label or value(s)

    @classmethod
    def of(cls, dataset) -> "DataFacts":
        y = dataset.y_train
        return cls(dataset.task, tuple(dataset.input_shape), dataset.num_classes,
                   int(y.shape[-1]) if y.ndim > 1 else 1, tuple(int(d) for d in y.shape[1:]))

    @property
    def steps(self) -> tuple[int, ...]:
        """The time steps the output must keep (empty: one prediction per sample)."""
        shape = self.target_shape or ()
        return tuple(shape[:-1]) if get_task(self.task).values_last_axis else tuple(shape)


@dataclass(frozen=True)
class Fix:
    """A one-click repair: ``params`` edits ``(node_id, key, value)``, ``training`` settings
    ``(key, value)``, ``append`` a layer ``(type, params)`` after node ``after``."""

    text: str
    params: tuple[tuple[str, str, Any], ...] = ()
    training: tuple[tuple[str, Any], ...] = ()
    append: tuple[str, dict] | None = None
    after: str | None = None


@dataclass(frozen=True)
class CompatProblem:
    node_id: str | None
    message: str
    fix: Fix | None = None


def check_compat(project, facts: DataFacts) -> list[CompatProblem]:
    """Problems that stop ``project`` from training on data described by ``facts`` (empty: it will
    train). Graph errors are not repeated here: with any, the check waits for them to be fixed."""
    graph = project.graph
    if not analyze(graph).ok:
        return []
    objective = hooks.first("compat_problems", project, facts)  # an objective with its own check
    if objective is not None:
        return [CompatProblem(None, message) for message in objective]
    task = get_task(facts.task)
    if not task.dense_output:  # e.g. per-pixel or class + box outputs: the task fits them in adapt_graph
        try:
            adapt_graph(graph, facts.task, facts.input_shape, facts.num_classes, facts.target_size)
        except TrainingError as exc:
            return [CompatProblem(None, str(exc))]
        return []
    inputs, outputs = graph.input_nodes(), graph.output_nodes()
    if len(inputs) != 1 or len(outputs) != 1:
        return [CompatProblem(None, f"the model has {len(inputs)} inputs and {len(outputs)} outputs; "
                                    "training on a dataset needs exactly one of each")]
    problems = []
    source = graph.nodes[inputs[0]]
    have, want = tuple(source.params.get("shape") or ()), tuple(facts.input_shape)
    if have != want:
        if len(have) != len(want):
            return [CompatProblem(source.id, f"input {source.name!r} expects shape {have} but the data gives "
                                             f"{want}: pick a model made for this kind of data")]
        problems.append(CompatProblem(source.id, f"input {source.name!r} has shape {have} but the data gives {want}",
                                      Fix(f"Set the input shape to {want}", params=((source.id, "shape", list(want)),))))
    output = graph.nodes[outputs[0]]
    shape = analyze(graph).nodes[output.id].output_shape or ()
    current = shape[-1] if shape else None
    need = task.output_units(facts.num_classes, facts.target_size, current)
    what = task.target_text(facts.num_classes, facts.target_size)
    dense = output_dense(graph)
    rank_ok = tuple(shape[:-1]) == facts.steps
    if not rank_ok or dense is None and current != need:  # an output of the right size needs no Dense
        activation = task.output_activation(need)
        fix = Fix(f"Add Dense({need}, {activation}) as the output", append=("Dense", {"units": need, "activation": activation}),
                  after=output.id) if rank_ok else None
        how = "" if fix else "flatten or pool it first, then "
        return problems + [CompatProblem(output.id, f"output {output.name!r} gives shape {tuple(shape)} but the data has "
                                                    f"{what}: {how}end the model with a Dense layer of {need} units", fix)]
    if current != need:
        problems.append(CompatProblem(dense.id, f"output {dense.name!r} has {current} units but the data has {what}",
                                      Fix(f"Set {dense.name}.units to {need}", params=((dense.id, "units", need),))))
    return problems + _check_loss(project, facts, dense or output, need)


def _check_loss(project, facts: DataFacts, dense, units: int) -> list[CompatProblem]:
    """The loss against the task, and the output activation against the loss."""
    from studio.core.augment.catalog import needs_soft_labels  # the augment package loads numpy

    try:
        config = TrainingConfig.from_dict(project.training)
        loss_name(config, facts.task, units, needs_soft_labels(project.augmentation))
    except TrainingError as exc:
        return [CompatProblem(None, str(exc), Fix("Set the loss to auto", training=(("loss", "auto"),)))]
    problem = get_task(facts.task).activation_problem(output_activation(project.graph), units)
    if problem is None:
        return []
    better, wrong = problem
    return [CompatProblem(dense.id, f"output {dense.name!r} {wrong}: use {better}",
                          _activation_fix(project.graph, dense, better))]


def _activation_fix(graph, dense, activation: str) -> Fix | None:
    """Setting the output Dense's activation fixes it unless a separate activation layer follows."""
    if dense.type != "Dense" or graph.nodes[graph.output_nodes()[0]].type in ("Softmax", "Activation"):
        return None
    return Fix(f"Set {dense.name}.activation to {activation}", params=((dense.id, "activation", activation),))

