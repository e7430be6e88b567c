"""Sequence models: per-step targets meet the model's output shape; layers and wiring for transformers."""

import pytest

from studio.core.data import load_dataset
from studio.core.graph.builder import Builder
from studio.core.training import TrainingError
from studio.core.training.adapt import adapt_to_dataset


def _recurrent(return_sequences):
    b = Builder()
    x = b.add("Input", shape=[48, 1])
    x = b.add("LSTM", x, units=8, return_sequences=return_sequences)
    b.add("Dense", x, units=3, name="out")
    return b.graph


def test_per_step_target_needs_a_per_step_output():
    steps = load_dataset({"source": "sequences", "name": "signals_steps", "samples": 30})
    with pytest.raises(TrainingError, match=r"gives shape \(3,\).*per time step, shape \(48, 1\)"):
        adapt_to_dataset(_recurrent(False), steps)
    graph, changes = adapt_to_dataset(_recurrent(True), steps)
    assert graph.by_name("out").params["units"] == 1 and "units 3 -> 1" in changes[0]
    sample = load_dataset({"source": "sequences", "name": "signals", "samples": 30})
    with pytest.raises(TrainingError, match=r"gives shape \(48, 3\).*per sample"):
        adapt_to_dataset(_recurrent(True), sample)
    assert adapt_to_dataset(_recurrent(False), sample)[0].by_name("out").params["units"] == 1
