"""A tiny project (digits 8x8, one Dense layer, 1 epoch) for sweep and variant tests."""

from studio.core.graph.model import Graph
from studio.core.project import default_project, save_project


def tiny_project(name="tiny", samples=120):
    graph = Graph()
    ids = [graph.add_node("Input", {"shape": [8, 8, 1]}, name="input").id,
           graph.add_node("Flatten", name="flatten").id,
           graph.add_node("Dense", {"units": 8, "activation": "relu"}, name="dense_1").id,
           graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="out").id]
    for src, dst in zip(ids, ids[1:]):
        graph.connect(src, dst)
    project = default_project()
    project.name, project.graph = name, graph
    project.dataset = {"source": "digits", "max_samples": samples, "seed": 0}
    project.training = {**project.training, "epochs": 1, "batch_size": 16, "grad_norm_every": 0,
                        "devices": "cpu"}
    return project


def save_tiny(path, **kwargs):
    save_project(tiny_project(**kwargs), path)
    return path
