"""XOR built by hand: a 2-2-1 network of sigmoid units whose nine weights a learner sets, evaluated in
numpy (cheap enough to redraw on every slider move), with the decision boundary it draws.

The classic answer is ``XOR = AND(NAND(x1, x2), OR(x1, x2))``: each hidden unit draws one line (the
NAND and the OR gates), the output unit keeps the band between them. ``PRESETS`` holds it, so a
learner can start from a working network, move one weight and watch the band break; then a
training run (the one-hidden-layer MLP template) finds weights of its own.
"""

from __future__ import annotations

import numpy as np

from studio.core.inspect.boundary import Boundary, grid_points
from studio.core.params import ParamSpec

EXTENT = (-0.5, 1.5, -0.5, 1.5)  # the plane around the four corners of the truth table
CORNERS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype="float64")
XOR = np.array([0, 1, 1, 0])
LIMIT = 20.0
GRID = 120  # cells per side: a redraw takes a few milliseconds


def _weight(name: str, label: str, help: str) -> ParamSpec:
    return ParamSpec(name, "float", 0.0, help, -LIMIT, LIMIT, label=label)


# h_i = sigmoid(w_i1 * x1 + w_i2 * x2 + b_i); output = sigmoid(v1 * h1 + v2 * h2 + c)
WEIGHTS: tuple[ParamSpec, ...] = (
    _weight("w11", "x1 → h1", "How strongly input x1 pushes hidden unit 1."),
    _weight("w12", "x2 → h1", "How strongly input x2 pushes hidden unit 1."),
    _weight("b1", "bias of h1", "Hidden unit 1's offset: where its line sits."),
    _weight("w21", "x1 → h2", "How strongly input x1 pushes hidden unit 2."),
    _weight("w22", "x2 → h2", "How strongly input x2 pushes hidden unit 2."),
    _weight("b2", "bias of h2", "Hidden unit 2's offset: where its line sits."),
    _weight("v1", "h1 → output", "How much the output listens to hidden unit 1."),
    _weight("v2", "h2 → output", "How much the output listens to hidden unit 2."),
    _weight("c", "bias of output", "The output's offset: how many hidden units must be on."),
)
PRESETS: dict[str, dict[str, float]] = {
    # h1 = NAND (off only at (1, 1)), h2 = OR (off only at (0, 0)), output = AND of the two
    "NAND and OR into AND": {"w11": -10.0, "w12": -10.0, "b1": 15.0, "w21": 10.0, "w22": 10.0, "b2": -5.0,
                             "v1": 10.0, "v2": 10.0, "c": -15.0},
    "One line only (no hidden help)": {"w11": 10.0, "w12": 10.0, "b1": -5.0, "w21": 0.0, "w22": 0.0, "b2": 0.0,
                                       "v1": 10.0, "v2": 0.0, "c": -5.0},
    "All zero": {spec.name: 0.0 for spec in WEIGHTS},
}


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def forward(weights: dict[str, float], points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hidden activations (n, 2) and the output (n,) of the network at ``points`` (n, 2).

    Args:
        weights: a value for every name in ``WEIGHTS``.
        points: the inputs (x1, x2), one per row.

    Returns:
        ``(hidden, output)``, both between 0 and 1.
    """
    w = {spec.name: float(weights[spec.name]) for spec in WEIGHTS}
    x1, x2 = points[:, 0], points[:, 1]
    hidden = _sigmoid(np.stack([w["w11"] * x1 + w["w12"] * x2 + w["b1"],
                                w["w21"] * x1 + w["w22"] * x2 + w["b2"]], axis=1))
    return hidden, _sigmoid(w["v1"] * hidden[:, 0] + w["v2"] * hidden[:, 1] + w["c"])


def hand_boundary(weights: dict[str, float], size: int = GRID) -> Boundary:
    """The network's class regions (output above 0.5: class 1) and both hidden units over ``EXTENT``.

    Args:
        weights: a value for every name in ``WEIGHTS``.
        size: grid cells per side.

    Returns:
        A Boundary for ``boundary_image``, its units named "h1" and "h2".
    """
    hidden, output = forward(weights, grid_points(EXTENT, size))
    probabilities = np.stack([1 - output, output], axis=-1).reshape(size, size, 2)
    units = hidden.T.reshape(2, size, size)
    return Boundary(EXTENT, probabilities.astype("float32"), units=units.astype("float32"), unit_names=["h1", "h2"])


def xor_outputs(weights: dict[str, float]) -> np.ndarray:
    """The network's output at the four corners (0,0), (0,1), (1,0), (1,1)."""
    return forward(weights, CORNERS)[1]
