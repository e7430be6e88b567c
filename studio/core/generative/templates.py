"""Starting a project from a template, including a generative template's extra sections."""

from __future__ import annotations

import copy


def apply_template(project, template):
    """``project`` switched to ``template``: its graph and ``generative`` section, plus the dataset
    and training settings the template suggests (generative templates carry ``dataset`` and
    ``training``: a GAN wants other settings than a classifier). Returns the same project."""
    project.graph = template.graph.copy()
    project.generative = copy.deepcopy(template.generative)
    if "dataset" in template.extra:
        project.dataset = copy.deepcopy(template.extra["dataset"])
    if "training" in template.extra:
        project.training = {**project.training, **copy.deepcopy(template.extra["training"])}
    project.view = {"template": template.name}
    return project
