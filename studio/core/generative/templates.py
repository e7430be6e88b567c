"""Starting a project from a template, including a generative template's extra sections."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

SECTIONS = ("model", "generative", "dataset", "training")  # what a template can change, in order


@dataclass(frozen=True)
class SectionChange:
    """One section of a project that opening a template replaces: ``text`` says from what to what."""

    section: str
    text: str


def apply_template(project, template, sections=SECTIONS):
    """``project`` switched to ``template``: its graph and ``generative`` section, plus the dataset
    and training settings the template suggests (generative templates carry ``dataset`` and
    ``training``: a GAN wants other settings than a classifier). Only ``sections`` (of SECTIONS)
    are applied, so a user can keep their dataset. Returns the same project."""
    if "model" in sections:
        project.graph = template.graph.copy()
        project.view = {"template": template.name}
    if "generative" in sections:
        project.generative = copy.deepcopy(template.generative)
    if "dataset" in sections and "dataset" in template.extra:
        project.dataset = copy.deepcopy(template.extra["dataset"])
    if "training" in sections and "training" in template.extra:
        project.training = {**project.training, **copy.deepcopy(template.extra["training"])}
    return project


def template_changes(project, template) -> list[SectionChange]:
    """What opening ``template`` would change in ``project``, one entry per changed section (in
    SECTIONS order), each saying what it is now and what it becomes."""
    target = apply_template(project.copy(), template)
    changes = [SectionChange("model", f"Model: {len(project.graph.nodes)} layers replaced by "
                                      f"{template.title} ({len(template.graph.nodes)} layers)")]
    if target.generative != project.generative:
        changes.append(SectionChange("generative", f"Generative: {_kind(project.generative)} → "
                                                   f"{_kind(target.generative)}"))
    if target.dataset != project.dataset:
        changes.append(SectionChange("dataset", _dataset_change(project.dataset, target.dataset)))
    if target.training != project.training:
        keys = [k for k in target.training if target.training.get(k) != project.training.get(k)]
        changes.append(SectionChange("training", "Training: " + ", ".join(
            f"{k} {project.training.get(k)} → {target.training[k]}" for k in keys)))
    return changes


def dataset_label(spec: dict) -> str:
    """A dataset spec in a few words, e.g. ``shapes 70/15/15``."""
    split = spec.get("split") or {}
    name = spec.get("name") or (Path(spec["path"]).name if spec.get("path") else spec.get("source", "?"))
    return f"{name} {_split_text(split)}" if split else str(name)


def _split_text(split: dict) -> str:
    return "/".join(str(round(100 * float(split.get(k, 0)))) for k in ("train", "val", "test"))


def _dataset_change(old: dict, new: dict) -> str:
    """``Dataset: shapes 70/15/15 → digits 80/10/10``; within one source, each option that changes
    (``Dataset shape_scenes: count 150 → default``), so that no setting of the user's goes unnoticed."""
    if old.get("source") != new.get("source"):
        return f"Dataset: {dataset_label(old)} → {dataset_label(new)}"

    def shown(spec: dict, key: str) -> str:
        if key not in spec:
            return "default"
        return _split_text(spec[key]) if key == "split" else str(spec[key])

    keys = [key for key in dict.fromkeys([*old, *new]) if old.get(key) != new.get(key)]
    return f"Dataset {new.get('source')}: " + ", ".join(f"{key} {shown(old, key)} → {shown(new, key)}"
                                                         for key in keys)


def _kind(generative: dict | None) -> str:
    return generative["kind"].upper() if generative else "none"
