"""What an export starts from: a model plus, when known, its run, project snapshot and dataset.

A run folder gives everything (the model is loaded safely, the dataset from the snapshot). A live
Keras model or a Graph can be exported too; a Graph is built with fresh weights, which the result
warns about. Generative runs export one part (generator, decoder, ...) resolved through
``studio.core.generative.exportable_model(run_dir, part, which)`` when that hook exists (part
"auto": the part that makes images).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from studio.core.export.report import ExportError
from studio.core.tasks import get_task

GENERATIVE_HOOK = ("studio.core.generative", "exportable_model")
CALIBRATION_SAMPLES = 200


@dataclass
class ExportSource:
    """The model to export and its context; ``warnings`` travel into every result made from it."""

    model: Any  # keras.Model
    name: str
    project: Any = None  # studio.core.project.Project snapshot
    dataset: Any = None  # studio.core.data.Dataset
    run_dir: Path | None = None
    run_info: dict[str, Any] = field(default_factory=dict)
    part: str | None = None
    warnings: list[str] = field(default_factory=list)
    model_file: str | None = None  # the run's file exported, relative to the run folder

    def input_specs(self) -> list[tuple[tuple[int | None, ...], str]]:
        """``(shape without batch, dtype)`` of each model input."""
        return [(tuple(t.shape[1:]), str(t.dtype)) for t in self.model.inputs]

    def uses_dataset_inputs(self) -> bool:
        """Whether the model reads the dataset's samples (a generator reads latent vectors instead)."""
        if self.dataset is None or len(self.model.inputs) != 1:
            return False
        shape = self.input_specs()[0][0]
        return len(shape) == len(self.dataset.input_shape) and all(
            d is None or d == e for d, e in zip(shape, self.dataset.input_shape))

    def samples(self, split: str = "test", limit: int | None = 64, seed: int = 0) -> list[np.ndarray]:
        """Real samples of ``split`` (falling back to other splits) or, without them, seeded noise."""
        if self.uses_dataset_inputs():
            dtype = self.input_specs()[0][1]  # token ids stay integers
            for name in (split, "test", "val", "train"):
                x = self.dataset.split(name)[0]
                if len(x):
                    return [np.asarray(x[:limit], dtype=dtype if "int" in dtype else "float32")]
        rng = np.random.default_rng(seed)
        count = limit or 64
        arrays = []
        for shape, dtype in self.input_specs():
            full = (count, *(d or 1 for d in shape))
            if "int" in dtype:
                arrays.append(rng.integers(0, 2, full).astype(dtype))
            else:
                arrays.append(rng.standard_normal(full).astype(dtype))
        return arrays

    def calibration_samples(self) -> list[np.ndarray]:
        """Training samples for full-integer quantization (the representative dataset)."""
        return self.samples("train", CALIBRATION_SAMPLES, seed=1)

    @property
    def classifies(self) -> bool:
        """Whether the output is a class score, so argmax agreement means something."""
        return self.dataset is not None and self.uses_dataset_inputs() and get_task(self.dataset.task).has_classes


def open_source(source, part: str | None = None, which: str = "auto", dataset=None,
                project=None) -> ExportSource:
    """An ExportSource from a run folder, an ExportSource, a Keras model or a Graph.

    Args:
        source: run folder path, ``ExportSource``, ``keras.Model`` or ``Graph``.
        part: sub-model of a generative run ("generator", "decoder", ...); None for the whole model
            (or, for a generative run, the part the generative module exports by default).
        which: the run's model file: auto, final, best or last.
        dataset, project: context for a live model or Graph (samples, class names, normalization).

    Returns:
        The ExportSource; ``source`` itself when it is one. A run's dataset is loaded for
        verification samples (a warning when it cannot be); a Graph is built with random weights.

    Raises:
        ExportError: not a run folder or a damaged one, a graph with errors, ``part`` given for
            something other than a generative run, or an object that is not a model.
    """
    if isinstance(source, ExportSource):
        return source
    if isinstance(source, (str, os.PathLike)):
        return _open_run(Path(source), part, which)
    from studio.core.graph.model import Graph

    if part is not None:
        raise ExportError(f"part={part!r} needs a generative run folder, not a model")
    if isinstance(source, Graph):
        from studio.core.graph.keras_io import GraphBuildError, to_keras

        try:
            model = to_keras(source)
        except GraphBuildError as exc:
            raise ExportError(str(exc)) from None
        warning = "the model is untrained: its weights are random, so the export predicts nothing useful"
        return ExportSource(model, getattr(project, "name", None) or "model", project, dataset,
                            warnings=[warning])
    if not hasattr(source, "inputs") or not hasattr(source, "layers"):
        raise ExportError(f"cannot export a {type(source).__name__}: pass a run folder, a Keras model or a graph")
    return ExportSource(source, source.name, project, dataset)


def _open_run(run_dir: Path, part: str | None, which: str) -> ExportSource:
    from studio.core.data import DataError, load_dataset
    from studio.core.project import ProjectError, load_project
    from studio.core.training import TrainingError, read_run
    from studio.core.training.runs import RunFolder

    try:
        info = read_run(run_dir)
    except TrainingError as exc:
        raise ExportError(str(exc)) from None
    warnings = _run_warnings(info)
    folder = RunFolder(run_dir)
    project = dataset = None
    if folder.project_file.is_file():
        try:
            project = load_project(folder.project_file)
        except ProjectError as exc:
            raise ExportError(f"run {run_dir.name}: {exc}") from None
        try:
            dataset = load_dataset(project.dataset)
        except DataError as exc:
            warnings.append(f"the run's dataset cannot be loaded ({exc}); verification uses random inputs")
    else:
        warnings.append("the run has no project snapshot: no class names, normalization or real samples")
    generative = bool(project and project.generative)
    model_file = None if part is not None or generative else _model_file(folder, which, warnings)
    model = _run_model(run_dir, part, which, generative)
    name = (project.name if project else run_dir.name) + (f"-{part}" if part else "")
    return ExportSource(model, name, project, dataset, run_dir, info, part, warnings, model_file)


def _model_file(folder, which: str, warnings: list[str]) -> str | None:
    """The run's model file ``which`` picks, relative to the run; a warning when "auto" falls back
    from the final model.keras to a checkpoint."""
    from studio.core.inspect.errors import InspectError
    from studio.core.inspect.runs import run_model_path

    try:
        path = run_model_path(folder.path, which)
    except InspectError:
        return None  # _run_model says why
    if which == "auto" and path != folder.model_file:
        warnings.append(f"the run has no final {folder.model_file.name}: exported "
                        f"{path.relative_to(folder.path).as_posix()} instead")
    return path.relative_to(folder.path).as_posix()


def _run_warnings(info: dict[str, Any]) -> list[str]:
    warnings = []
    if not info.get("epochs_done"):
        warnings.append(f"run {info['name']} finished no epoch: the exported weights are untrained")
    if info.get("status") not in ("completed", "stopped"):
        warnings.append(f"run {info['name']} ended as {info.get('status')}: exporting its last saved model")
    return warnings


def _run_model(run_dir: Path, part: str | None, which: str, generative: bool):
    """The run's model, or the requested part of a generative run (through the generative hook)."""
    if part is not None or generative:
        hook = _generative_hook()
        if hook is not None:
            from studio.core.training import TrainingError

            try:
                return hook(run_dir, part or "auto", which)
            except (TrainingError, ValueError) as exc:
                raise ExportError(f"run {run_dir.name}: {exc}") from None
        if part is not None:
            raise ExportError(f"cannot export part {part!r}: this install has no generative export support")
    from studio.core.inspect.errors import InspectError
    from studio.core.inspect.runs import load_run_model

    try:
        return load_run_model(run_dir, which)
    except InspectError as exc:
        raise ExportError(str(exc)) from None


def _generative_hook():
    module_name, function = GENERATIVE_HOOK
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    return getattr(module, function, None)
