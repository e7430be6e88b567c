"""Ensembles: N finished runs (or .keras files) with the same input and output as one averaged model.

Every member is loaded in Keras safe mode; their graphs are merged into one plain graph (one shared
Input, each member's layers renamed ``member<i>_<name>``, an ``Average`` node on their outputs), so the
ensemble is an ordinary model: it shows on the canvas, saves, loads in safe mode and exports like any
other. ``save_ensemble_run`` writes it as a finished run folder so Inspect, Export and the runs table
see it too; ``member_scores`` evaluates it beside its members.

Bagging (``bagging``) trains the members first: N ordinary runs of one project, member i on the
bootstrap resample of the training split seeded ``seed + i`` (the dataset's ``bootstrap`` option,
so the training process draws the very same resample), then combines and scores them.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from studio.core.graph.model import Graph
from studio.core.tasks import get_task

MAX_MEMBERS = 16
AVERAGE_NAME = "ensemble_average"


class EnsembleError(ValueError):
    """Members that cannot be combined (one line saying what to change)."""


@dataclass
class Member:
    label: str  # the run folder's or file's name
    graph: Graph
    model: object  # keras.Model
    project: object | None = None  # the run's project snapshot (None for a .keras file)


@dataclass
class Ensemble:
    model: object  # keras.Model
    graph: Graph
    members: list[Member] = field(default_factory=list)

    @property
    def project(self):
        """The first member run's project with the ensemble's graph (None without a member run)."""
        source = next((member.project for member in self.members if member.project is not None), None)
        if source is None:
            return None
        project = source.copy()
        project.graph = self.graph.copy()
        project.name = f"ensemble of {len(self.members)}"
        # the ensemble learnt from every member's data, not from one member's bootstrap resample
        project.dataset = {k: v for k, v in project.dataset.items() if k != "bootstrap"}
        return project


def load_member(source: str | os.PathLike) -> Member:
    """A run folder's model (final, else best, else last) or a .keras file, safely loaded."""
    from studio.core.graph.keras_io import KerasImportError, load_keras_file
    from studio.core.inspect import InspectError, run_model_path
    from studio.core.project import ProjectError, load_project
    from studio.core.training.runs import RunFolder

    path = Path(source)
    project = None
    try:
        if path.is_dir():
            snapshot = RunFolder(path).project_file
            project = load_project(snapshot) if snapshot.is_file() else None
            model_path = run_model_path(path)
        elif path.suffix == ".keras" and path.is_file():
            model_path = path
        else:
            raise EnsembleError(f"{path}: not a run folder or a .keras file")
        graph, model = load_keras_file(model_path, with_model=True)
    except (InspectError, KerasImportError, ProjectError) as exc:
        raise EnsembleError(str(exc).splitlines()[0]) from None
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise EnsembleError(f"{path.name}: only models with one input and one output can be averaged")
    return Member(path.stem if path.is_file() else path.name, graph, model, project)


def check_compatible(members: list[Member]) -> None:
    """Raise EnsembleError unless the members read the same input and give the same kind of output."""
    from studio.core.tasks.outputs import output_activation

    if not 2 <= len(members) <= MAX_MEMBERS:
        raise EnsembleError(f"an ensemble needs 2 to {MAX_MEMBERS} members, got {len(members)}")
    first = members[0]
    shapes = lambda m: (tuple(m.model.inputs[0].shape[1:]), tuple(m.model.outputs[0].shape[1:]))  # noqa: E731
    for member in members[1:]:
        if shapes(member) != shapes(first):
            raise EnsembleError(f"{member.label} maps {shapes(member)[0]} -> {shapes(member)[1]} but {first.label} "
                                f"maps {shapes(first)[0]} -> {shapes(first)[1]}: combine runs of the same dataset")
        if output_activation(member.graph) != output_activation(first.graph):
            raise EnsembleError(f"{member.label} ends in {output_activation(member.graph)} but {first.label} in "
                                f"{output_activation(first.graph)}: averaging needs outputs of the same kind")


def merged_graph(graphs: list[Graph]) -> Graph:
    """One graph: a shared Input, each graph's layers as ``member<i>_<name>``, an Average of the outputs."""
    merged = Graph()
    first_input = graphs[0].nodes[graphs[0].input_nodes()[0]]
    shared = merged.add_node("Input", dict(first_input.params), name=first_input.name)
    average = merged.add_node("Average", {}, name=AVERAGE_NAME)
    for index, graph in enumerate(graphs, start=1):
        ids = {}
        for node_id in graph.topological_order():
            node = graph.nodes[node_id]
            if node.type == "Input":
                ids[node_id] = shared.id
                continue
            ids[node_id] = merged.add_node(node.type, dict(node.params), name=f"member{index}_{node.name}").id
            for edge in sorted(graph.in_edges(node_id), key=lambda e: e.port):
                merged.connect(ids[edge.src], ids[node_id], edge.port)
        merged.connect(ids[graph.output_nodes()[0]], average.id, index - 1)
    return merged


def combine(sources: list[str | os.PathLike]) -> Ensemble:
    """Load the members and build their averaged model, carrying over every member's weights.

    Args:
        sources: 2 to ``MAX_MEMBERS`` run folders or .keras files, each with one input and one output.

    Returns:
        The Ensemble: the Keras model averaging the members' outputs, its graph and the members.

    Raises:
        EnsembleError: a source is not a run or a .keras file, does not load safely, has several
            inputs or outputs, or the members differ in input shape, output shape or activation.
    """
    from studio.core.graph.keras_io import to_keras

    members = [load_member(source) for source in sources]
    check_compatible(members)
    graph = merged_graph([member.graph for member in members])
    model = to_keras(graph, name="ensemble")
    for index, member in enumerate(members, start=1):
        for layer in member.model.layers:
            weights = layer.get_weights()
            if weights and type(layer).__name__ != "InputLayer":
                model.get_layer(f"member{index}_{layer.name}").set_weights(weights)
    return Ensemble(model, graph, members)


def member_scores(ensemble: Ensemble, dataset, split: str = "test") -> list[tuple[str, str, float]]:
    """``(label, metric, value)`` for each member and the ensemble (last) on a dataset split:
    accuracy for classifications, mean absolute error for regressions.

    Args:
        ensemble: what ``combine`` returned.
        dataset: the loaded dataset to score on.
        split: "train", "val" or "test".

    Returns:
        One tuple per member, then one labelled "ensemble".

    Raises:
        EnsembleError: the split is empty.
        InspectError: a model cannot be scored on the data.
    """
    from studio.core.inspect import evaluate_model

    x, y = dataset.split(split)
    if not len(x):
        raise EnsembleError(f"the {split} split is empty: nothing to evaluate on")
    scores = []
    for label, model in [(m.label, m.model) for m in ensemble.members] + [("ensemble", ensemble.model)]:
        report = evaluate_model(model, x, y, dataset.task, dataset.class_names or None)
        metric = get_task(dataset.task).metric  # a report attribute: accuracy, mae
        scores.append((label, metric, float(getattr(report, metric))))
    return scores


def save_ensemble_run(ensemble: Ensemble, run_dir: str | os.PathLike) -> Path:
    """Write the ensemble as a completed run folder (model.keras, project snapshot, run.json).

    Args:
        ensemble: what ``combine`` returned.
        run_dir: the folder to create; it must not exist.

    Returns:
        The run folder's path.

    Raises:
        EnsembleError: no member was a run (no project to snapshot), or the folder exists.
    """
    from studio.core import fileio
    from studio.core.project import save_project
    from studio.core.training.runs import RunFolder

    project = ensemble.project
    if project is None:
        raise EnsembleError("a run folder needs at least one member run (its dataset); save to a .keras file instead")
    folder = RunFolder(run_dir)
    if folder.path.exists():
        raise EnsembleError(f"{folder.path} already exists: choose a new folder")
    folder.path.mkdir(parents=True)
    save_project(project, folder.project_file)
    fileio.atomic_replace_with(folder.model_file, ensemble.model.save)
    now = time.time()
    folder.update_info(name=project.name, status="completed", created=now, started=now, ended=now,
                       config=project.training, notes=[f"ensemble of {', '.join(m.label for m in ensemble.members)}"])
    return folder.path


@dataclass
class Bagging:
    members: list[Path]  # the members' run folders
    run_dir: Path  # the ensemble's run folder
    scores: list[tuple[str, str, float]]  # ``member_scores`` on the test split


def bagging_projects(project, members: int, seed: int = 0) -> list:
    """``members`` copies of ``project``, copy i training on the bootstrap resample seeded ``seed + i``.

    Raises:
        EnsembleError: ``members`` is not 2 to ``MAX_MEMBERS``, or the project does not learn from labels
            (a generative model, a contrastive encoder): nothing to average and score.
    """
    if not 2 <= members <= MAX_MEMBERS:
        raise EnsembleError(f"bagging needs 2 to {MAX_MEMBERS} members, got {members}")
    objective = (project.training or {}).get("objective", "supervised")
    if project.generative or objective != "supervised":
        kind = project.generative["kind"].upper() if project.generative else objective
        raise EnsembleError(f"bagging averages models trained on labels, and this is a {kind} project: "
                            "bag a supervised run")
    copies = []
    for index in range(members):
        member = project.copy()
        member.dataset = {**project.dataset, "bootstrap": seed + index}
        member.name = f"{project.name} bag {index + 1} of {members}"
        copies.append(member)
    return copies


def bagging(project, members: int, runs_root: str | os.PathLike, seed: int = 0,
            on_event: Callable[[int, dict[str, Any]], None] | None = None) -> Bagging:
    """Train ``members`` runs of ``project`` on bootstrap resamples, one after another, then average them.

    Args:
        project: the project every member trains (its dataset, model and training settings).
        members: how many members, 2 to ``MAX_MEMBERS``.
        runs_root: the folder the member runs and the ensemble run are written to.
        seed: member i resamples with seed ``seed + i``.
        on_event: called with (member number from 1, event) for each training event.

    Returns:
        The member run folders, the ensemble's run folder and the test scores (members, then ensemble).

    Raises:
        EnsembleError: a bad member count, or a member that does not complete (stopped, crashed).
        TrainingError: a member cannot start (see ``Runner.start``).
        DataError: the dataset cannot be loaded for scoring.
    """
    from studio.core.data import load_dataset
    from studio.core.training import Runner, new_run_dir
    from studio.core.training.runs import run_name

    folders = []
    for number, member in enumerate(bagging_projects(project, members, seed), start=1):
        runner = Runner(member, new_run_dir(runs_root, f"{run_name(member)}-bag{number}"))
        runner.start()
        for event in runner.follow():
            if on_event is not None:
                on_event(number, event)
        status = runner.wait()["status"]
        if status != "completed":
            raise EnsembleError(f"member {number} ({runner.run_dir.name}) {status}: the ensemble needs every "
                                "member trained; start the bagging again")
        folders.append(runner.run_dir)
    ensemble = combine(folders)
    scores = member_scores(ensemble, load_dataset(ensemble.project.dataset))
    run_dir = save_ensemble_run(ensemble, new_run_dir(runs_root, f"bagging-{members}-{run_name(project)}"))
    return Bagging(folders, run_dir, scores)
