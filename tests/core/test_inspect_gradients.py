"""Grouping the engine's histogram / gradient-norm events and diagnosing gradients."""

import math

from studio.core.inspect import gradient_norm_series, gradient_warnings, histograms_by_layer


def test_histograms_grouped_per_layer_in_epoch_order():
    events = [
        {"type": "start", "time": 0},
        {"type": "weights_hist", "epoch": 1, "layers": {
            "conv": {"weights": [[1, 2], [0, 1, 2]], "grads": [[3], [0, 1]]},
            "head": {"weights": [[4], [0, 1]]}}},
        {"type": "epoch", "epoch": 1, "logs": {}},
        {"type": "weights_hist", "epoch": 2, "layers": {"conv": {"weights": [[2, 1], [0, 1, 2]]}}},
    ]
    layers = histograms_by_layer(events)
    assert sorted(layers) == ["conv", "head"]
    assert layers["conv"].epochs == [1, 2]
    assert layers["conv"].weights == [[[1, 2], [0, 1, 2]], [[2, 1], [0, 1, 2]]]
    assert layers["conv"].grads == [[[3], [0, 1]], [[], []]]
    assert layers["head"].epochs == [1] and layers["head"].grads == [[[], []]]


def test_norm_series_uses_global_steps():
    events = [
        {"type": "grad_norms", "epoch": 1, "step": 5, "global_step": 5, "norms": {"a": 1.0, "b": 2.0}},
        {"type": "batch", "epoch": 1, "step": 6},
        {"type": "grad_norms", "epoch": 2, "step": 5, "global_step": 15, "norms": {"a": 0.5}},
    ]
    assert gradient_norm_series(events) == {"a": [(5, 1.0), (15, 0.5)], "b": [(5, 2.0)]}


def test_warnings_name_vanishing_exploding_and_diverged_layers():
    norms = {"conv1": 1e-9, "conv2": 0.5, "conv3": 0.7, "dense": 2e3, "head": 0.6, "bad": math.nan}
    warnings = gradient_warnings(norms)
    assert len(warnings) == 3
    assert warnings[0].startswith("bad: gradient is nan")
    assert any(w.startswith("conv1:") and "vanishing" in w for w in warnings)
    assert any(w.startswith("dense:") and "exploding" in w for w in warnings)
    assert gradient_warnings({"a": 0.1, "b": 0.3, "c": 0.2}) == []
    assert gradient_warnings({}) == []
    assert "vanishing" in gradient_warnings({"a": 0.0, "b": 0.2, "c": 0.3})[0]
