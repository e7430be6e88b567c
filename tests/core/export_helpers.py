"""Tiny trained run folders for the export tests: a small CNN and a model with a skip connection."""

from __future__ import annotations

import time
from pathlib import Path

from studio.core.graph.model import Graph

DATASET = {"source": "digits", "image_size": 8, "split": {"train": 0.7, "val": 0.1, "test": 0.2},
           "seed": 0, "normalize": "scale"}


def small_cnn() -> Graph:
    graph = Graph()
    x = graph.add_node("Input", {"shape": [8, 8, 1]}, name="image")
    conv = graph.add_node("Conv2D", {"filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "relu"})
    pool = graph.add_node("MaxPooling2D", {"pool_size": [2, 2]})
    drop = graph.add_node("Dropout", {"rate": 0.2})
    flat = graph.add_node("Flatten")
    out = graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="classes")
    for a, b in ((x, conv), (conv, pool), (pool, drop), (drop, flat), (flat, out)):
        graph.connect(a.id, b.id)
    return graph


def skip_model() -> Graph:
    graph = Graph()
    x = graph.add_node("Input", {"shape": [8, 8, 1]}, name="image")
    a = graph.add_node("Conv2D", {"filters": 8, "kernel_size": [3, 3], "padding": "same", "activation": "relu"})
    b = graph.add_node("Conv2D", {"filters": 8, "kernel_size": [3, 3], "padding": "same"})
    add = graph.add_node("Add")
    norm = graph.add_node("BatchNormalization")
    pool = graph.add_node("GlobalAveragePooling2D")
    out = graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="classes")
    for src, dst in ((x, a), (a, b), (b, add), (a, add), (add, norm), (norm, pool), (pool, out)):
        graph.connect(src.id, dst.id)
    return graph


def make_run(run_dir: Path, graph: Graph, epochs: int = 3, name: str = "tiny", dataset: dict | None = None) -> Path:
    """A completed run folder holding a model trained for a few epochs (0: untrained) on 8x8 digits."""
    import keras

    from studio.core.data import load_dataset
    from studio.core.graph.keras_io import to_keras
    from studio.core.project import Project, save_project
    from studio.core.training.plan import dataset_summary, versions
    from studio.core.training.runs import RunFolder

    project = Project(name=name, dataset=dict(dataset or DATASET), graph=graph,
                      training={"epochs": epochs, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.01})
    data = load_dataset(project.dataset)
    keras.utils.set_random_seed(0)
    model = to_keras(graph, name=name)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    if epochs:
        model.fit(data.x_train, data.y_train, batch_size=32, epochs=epochs, verbose=0)
    folder = RunFolder(run_dir)
    folder.path.mkdir(parents=True)
    save_project(project, folder.project_file)
    model.save(folder.model_file)
    folder.update_info(name=name, status="completed", created=time.time(), ended=time.time(),
                       config=project.training, dataset=dataset_summary(data), versions=versions())
    for epoch in range(epochs):
        folder.emit("epoch", epoch=epoch, logs={})
    return folder.path
