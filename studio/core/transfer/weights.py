"""Starting a model from earlier weights: one loader for a backbone (``training.backbone``) and for a
run to continue from (``training.init_from``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from studio.core.training.errors import TrainingError
from studio.core.transfer.attach import BACKBONE_PREFIX
from studio.core.transfer.backbones import BackboneError, load_source

MATCHES = ("prefix", "name")


@dataclass
class WeightsReport:
    """Which layers of the model took the source's weights, and which could not (other shapes)."""

    source: str
    loaded: list[str] = field(default_factory=list)
    mismatched: list[str] = field(default_factory=list)  # "layer: model shapes vs source shapes"

    def note(self) -> str:
        """One run note naming what was loaded and every mismatch."""
        text = f"weights of {len(self.loaded)} layers loaded from {self.source}: {', '.join(self.loaded)}"
        return text + (f"; kept fresh (other shapes): {'; '.join(self.mismatched)}" if self.mismatched else "")


def load_weights(model, source: str | os.PathLike, match: str = "name") -> WeightsReport:
    """Copy the weights of the model ``source`` names into ``model``, layer by layer.

    Args:
        model: the Keras model to start from those weights.
        source: a run folder, a .keras file, ``keras:NAME`` or ``builtin:NAME`` (loaded in safe mode).
        match: ``"name"``: a source layer feeds the model's layer of the same name (``init_from``);
            ``"prefix"``: source layer ``L`` feeds ``backbone_L`` (an attached backbone).

    Returns:
        The report: loaded layers and the mismatched ones (other weight shapes: they keep their
        fresh weights). Layers only one of the models has are not compared.

    Raises:
        BackboneError: the source cannot be loaded, or no layer matches.
    """
    if match not in MATCHES:
        raise ValueError(f"match must be one of {', '.join(MATCHES)}, not {match!r}")
    loaded_source = load_source(source)
    prefix = BACKBONE_PREFIX if match == "prefix" else ""
    targets = {layer.name: layer for layer in model.layers}
    report = WeightsReport(loaded_source.label)
    for layer in loaded_source.model.layers:
        weights, target = layer.get_weights(), targets.get(prefix + layer.name)
        if not weights or target is None or not target.weights:
            continue
        have = [tuple(w.shape) for w in target.weights]
        if have == [tuple(w.shape) for w in weights]:
            target.set_weights(weights)
            report.loaded.append(target.name)
        else:
            report.mismatched.append(f"{target.name} {have} vs {[tuple(w.shape) for w in weights]}")
    if not report.loaded:
        how = "by name (backbone_<name>)" if prefix else "by name and weight shapes"
        raise BackboneError(f"no layer of the model matches {loaded_source.label} {how}"
                            + (f" (other shapes: {'; '.join(report.mismatched)})" if report.mismatched else ""))
    return report


def start_weights(model, config) -> list[str]:
    """Load a new run's starting weights: ``config.backbone`` by prefix, ``config.init_from`` by name.

    Args:
        model: the built Keras model (or a contrastive run's encoder).
        config: the run's TrainingConfig.

    Returns:
        Run notes saying what was loaded; init_from's note names every layer kept fresh because its
        shapes differ.

    Raises:
        TrainingError: a source cannot be loaded, nothing matches, or a backbone layer was edited
            (other shapes: the backbone must be re-attached).
    """
    notes = []
    for setting, match in (("backbone", "prefix"), ("init_from", "name")):
        source = getattr(config, setting)
        if not source:
            continue
        try:
            report = load_weights(model, source, match=match)
        except BackboneError as exc:
            remedy = ("attach it with --backbone (its layers are named backbone_<name>)" if match == "prefix"
                      else "start from a run of the same architecture (or clear init_from)")
            raise TrainingError(f"{setting}: {exc}; {remedy}") from None
        if match == "prefix" and report.mismatched:
            raise TrainingError(f"backbone: {'; '.join(report.mismatched)} differ from {report.source}: "
                                "re-attach the backbone instead of editing its layers")
        notes.append(f"backbone weights from {source} ({len(report.loaded)} layers)" if match == "prefix"
                     else report.note())
    return notes
