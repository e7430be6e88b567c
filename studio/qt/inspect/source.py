"""What the Inspect panel looks at: a run's model or the graph's current weights, with its dataset.

The loaders run on the worker thread (they import TensorFlow and build models); the resulting
``InspectSource`` carries the layer lists the GUI needs, so the GUI never touches the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from studio.core.data.cache import load_cached
from studio.core.inspect import InspectError, default_cam_layer, run_model_path, spatial_layers
from studio.core.inspect.layers import input_shape
from studio.core.tasks import Task, get_task


@dataclass
class InspectSource:
    """A model to inspect plus the dataset it was made for."""

    label: str
    model: object  # keras.Model, used on the worker thread only
    dataset: object  # studio.core.data.Dataset
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)
    trained: bool = True  # False: a run without a saved model yet, shown with fresh weights
    layers: list[str] = field(init=False)  # every layer but the inputs, in model order
    spatial: list[str] = field(init=False)  # layers Grad-CAM can use
    conv_layers: dict[str, int] = field(init=False)  # layers with a 2-D kernel -> input channels
    cam_layer: str | None = field(init=False)
    input_shape: tuple = field(init=False)

    def __post_init__(self) -> None:
        model = self.model
        self.layers = [layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"]
        self.spatial = spatial_layers(model)
        self.conv_layers = {}
        for layer in model.layers:
            kernel = getattr(layer, "depthwise_kernel", None)
            if kernel is None:
                kernel = getattr(layer, "kernel", None)
            if kernel is not None and len(kernel.shape) == 4:
                transposed = type(layer).__name__ == "Conv2DTranspose"
                self.conv_layers[layer.name] = int(kernel.shape[3 if transposed else 2])
        self.cam_layer = default_cam_layer(model)
        self.input_shape = input_shape(model)

    @property
    def task(self) -> Task:
        """The dataset's task: how its targets are scored, written and shown."""
        return get_task(self.dataset.task)

    @property
    def class_names(self) -> list[str]:
        return [str(name) for name in self.dataset.class_names]

    @property
    def x_test(self) -> np.ndarray:
        return self.dataset.x_test

    @property
    def y_test(self) -> np.ndarray:
        return self.dataset.y_test

    def label_text(self, index: int) -> str:
        """The true label of test sample ``index`` as text (class name or target values)."""
        return self.task.label_text(self.y_test[index], self.class_names)


def load_run_source(run_dir: str | Path) -> InspectSource:
    """A run's model (final, else best, else last checkpoint) and its dataset (shared cache).

    A run that has saved no model yet (its first epoch is still running) gives its snapshot's
    graph with fresh weights, so its layers and samples can already be chosen.
    """
    from studio.core.inspect.runs import load_run_model
    from studio.core.project import load_project
    from studio.core.training import RunFolder

    run_dir = Path(run_dir)
    snapshot = RunFolder(run_dir).project_file
    kind = (load_project(snapshot).generative or {}).get("kind") if snapshot.is_file() else None
    if kind in ("gan", "vae"):  # a model of several parts trained as one: not a layer graph to inspect
        raise InspectError(f"this is a {kind.upper()} run: its samples and latent space are in the Generate "
                           "area; Inspect reads single models such as classifiers")
    try:
        run_model_path(run_dir)
    except InspectError as exc:
        if not snapshot.is_file():
            raise
        source = load_graph_source(load_project(snapshot))
        source.label, source.run_dir, source.trained = f"run {run_dir.name}", run_dir, False
        source.notes = [str(exc)]
        return source
    if not snapshot.is_file():
        raise InspectError(f"run {run_dir} has no {snapshot.name} snapshot, so its dataset is unknown")
    model = load_run_model(run_dir)
    dataset = load_cached(load_project(snapshot).dataset)
    return InspectSource(f"run {run_dir.name}", model, dataset, run_dir)


def load_graph_source(project) -> InspectSource:
    """The project's graph built with fresh (untrained) weights, fitted to its dataset as training would.

    The dataset comes from the shared cache: the one the Data panel and training starts use.
    """
    from studio.core.graph.keras_io import to_keras
    from studio.core.training.adapt import adapt_to_dataset

    dataset = load_cached(project.dataset)
    graph, changes = adapt_to_dataset(project.graph, dataset)
    return InspectSource("current weights", to_keras(graph), dataset, None, changes)
