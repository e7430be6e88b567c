"""Read the training engine's ``weights_hist`` and ``grad_norms`` events for plotting and diagnosis.

The engine (studio.core.training) computes the numbers; this module groups them per layer and
points out vanishing or exploding gradients.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

VANISHING_RATIO = 1e-4  # a layer's norm this far below the median layer norm
EXPLODING_RATIO = 1e3  # ... or this far above it


@dataclass
class LayerHistograms:
    """One layer's histograms over the epochs: each entry is [counts, edges] (empty when absent)."""

    epochs: list[int] = field(default_factory=list)
    weights: list[list] = field(default_factory=list)
    grads: list[list] = field(default_factory=list)


def histograms_by_layer(events) -> dict[str, LayerHistograms]:
    """Collect the ``weights_hist`` events of a run per layer, in epoch order."""
    layers: dict[str, LayerHistograms] = {}
    for event in events:
        if event.get("type") != "weights_hist":
            continue
        for name, entry in event.get("layers", {}).items():
            series = layers.setdefault(name, LayerHistograms())
            series.epochs.append(event.get("epoch"))
            series.weights.append(entry.get("weights", [[], []]))
            series.grads.append(entry.get("grads", [[], []]))
    return layers


def gradient_norm_series(events) -> dict[str, list[tuple[int, float]]]:
    """Per layer, the (global step, norm) points of the ``grad_norms`` events."""
    series: dict[str, list[tuple[int, float]]] = {}
    for index, event in enumerate(e for e in events if e.get("type") == "grad_norms"):
        step = event.get("global_step", index)
        for name, norm in event.get("norms", {}).items():
            series.setdefault(name, []).append((step, float(norm)))
    return series


def gradient_warnings(norms: dict[str, float]) -> list[str]:
    """Plain-language warnings for one ``grad_norms`` reading: NaN/inf, vanishing, exploding.

    Vanishing and exploding are judged against the median layer norm, so the overall loss scale
    does not matter.
    """
    warnings = [f"{name}: gradient is {norm} (training diverged; lower the learning rate or clip gradients)"
                for name, norm in norms.items() if not math.isfinite(norm)]
    finite = sorted(norm for norm in norms.values() if math.isfinite(norm))
    if not finite:
        return warnings
    median = finite[len(finite) // 2]
    for name, norm in norms.items():
        if not math.isfinite(norm):
            continue
        if norm == 0 or (median > 0 and norm < VANISHING_RATIO * median):
            warnings.append(f"{name}: gradient {norm:.3g} is vanishing next to the median {median:.3g} "
                            "(try ReLU-like activations, batch normalization or skip connections)")
        elif median > 0 and norm > EXPLODING_RATIO * median:
            warnings.append(f"{name}: gradient {norm:.3g} is exploding next to the median {median:.3g} "
                            "(try a lower learning rate or gradient clipping)")
    return warnings
