"""The Experiments area: hyperparameter sweeps (see ``sweep_panel``)."""

from __future__ import annotations

from studio.qt.experiments.sweep_panel import SweepPanel


def create_panel(window) -> SweepPanel:
    return SweepPanel(window)
