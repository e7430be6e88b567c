"""Decision boundaries of models with a 2-D input: what the model answers everywhere on the plane.

``decision_boundary(model, x)`` evaluates the model (and each hidden unit of its rank-1 hidden
layers) on a 200x200 grid spanning the data, in one compiled call; ``boundary_image`` paints the
class regions (or one unit's activation) with the data points on top. Row 0 of every grid is the
lowest y, so pictures are flipped to put y up.

A training run writes ``RUN/boundary/epoch_NNN.npz`` after every epoch (``LiveBoundary``) and emits
``boundary {epoch, path}`` so the app can follow the boundary as it moves.
"""

from __future__ import annotations

import io
import os
import threading
from dataclasses import dataclass, field

import numpy as np

from studio.core.fileio import atomic_write_bytes
from studio.core.inspect.errors import InspectError
from studio.core.inspect.layers import input_shape
from studio.core.tasks.class_scores import class_probabilities
from studio.core.inspect.per_model import PerModel
from studio.core.inspect.render import colormap
from studio.core.pictures import CLASS_COLOURS, normalize01
from studio.core.tasks import TASKS

GRID = 200
MAX_UNITS = 16  # hidden units kept per snapshot (the first ones, layer by layer)
MARGIN = 0.15  # share of the data's span added around it
BOUNDARY_DIR = "boundary"
PALETTE = CLASS_COLOURS


@dataclass
class Boundary:
    """A model's answers on a ``size`` x ``size`` grid over ``extent`` (x_min, x_max, y_min, y_max).

    ``probabilities`` (size, size, classes) for classifiers; ``values`` (size, size) the raw output of
    a one-output regression; ``units`` (n, size, size) the activations of the hidden units named in
    ``unit_names`` ("layer[k]").
    """

    extent: tuple[float, float, float, float]
    probabilities: np.ndarray | None = None
    values: np.ndarray | None = None
    units: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0), "float32"))
    unit_names: list[str] = field(default_factory=list)

    @property
    def classes(self) -> np.ndarray | None:
        """The predicted class on each grid cell (None for regressions)."""
        return None if self.probabilities is None else self.probabilities.argmax(axis=-1)


def check_planar(model) -> None:
    """Raise an InspectError unless ``model`` reads points of the plane (input shape (2,))."""
    if tuple(input_shape(model)) != (2,):
        raise InspectError(f"decision boundaries need a model with 2 inputs (x1, x2); this one reads "
                           f"{tuple(input_shape(model))}: use a 2-D toy dataset")


def grid_extent(x, margin: float = MARGIN) -> tuple[float, float, float, float]:
    """The data's bounding box widened by ``margin`` of its span on each side."""
    x = np.asarray(x, dtype="float64").reshape(-1, 2)
    if not len(x):
        return (-1.0, 1.0, -1.0, 1.0)
    low, high = x.min(axis=0), x.max(axis=0)
    pad = np.maximum((high - low) * margin, 1e-3)
    return (float(low[0] - pad[0]), float(high[0] + pad[0]), float(low[1] - pad[1]), float(high[1] + pad[1]))


def grid_points(extent, size: int = GRID) -> np.ndarray:
    """(size * size, 2) float32 cell centres, row by row from the lowest y."""
    x_min, x_max, y_min, y_max = extent
    xs = np.linspace(x_min, x_max, size, dtype="float32")
    ys = np.linspace(y_min, y_max, size, dtype="float32")
    grid_x, grid_y = np.meshgrid(xs, ys)
    return np.stack([grid_x.ravel(), grid_y.ravel()], axis=1)


def hidden_layers(model) -> list:
    """Layers between input and output with a kernel and a rank-1 output (Dense-like), in order."""
    outputs = {id(tensor) for tensor in model.outputs}
    found = []
    for layer in model.layers:
        output = getattr(layer, "output", None)
        if (getattr(layer, "kernel", None) is not None and output is not None and len(output.shape) == 2
                and id(output) not in outputs):
            found.append(layer)
    return found


class BoundaryProbe:
    """The model's output and its hidden layers' outputs as one compiled call (shares the weights)."""

    def __init__(self, model) -> None:
        import keras

        from studio.core.backends import stateless

        check_planar(model)
        self.layers = hidden_layers(model)
        sub_model = keras.Model(model.inputs[0], [model.outputs[0], *(layer.output for layer in self.layers)])
        self._call = stateless(model, lambda x: sub_model(x, training=False))  # any backend
        self._lock = threading.Lock()

    def __call__(self, points: np.ndarray) -> list[np.ndarray]:
        import keras

        with self._lock:
            parts = self._call(np.asarray(points, np.float32))
        return [np.asarray(keras.ops.convert_to_numpy(part))
                for part in (parts if isinstance(parts, (list, tuple)) else [parts])]


_PROBES = PerModel(BoundaryProbe)


def decision_boundary(model, x=None, size: int = GRID, extent=None, task: str = "auto") -> Boundary:
    """The model's answers over a grid covering ``x`` (or ``extent``); a ``task`` without classes
    (regression) keeps raw values, any other (or "auto") reads outputs as class scores."""
    if not 2 <= size <= 1000:
        raise InspectError(f"grid size must be from 2 to 1000, got {size}")
    extent = tuple(float(v) for v in (extent or grid_extent(x if x is not None else np.zeros((0, 2)))))
    probe = _PROBES(model)
    output, *hidden = probe(grid_points(extent, size))
    boundary = Boundary(extent)
    kind = TASKS.get(task)  # "auto": outputs are class scores
    if kind is not None and not kind.has_classes:
        boundary.values = output.reshape(size, size, -1)[..., 0].astype("float32")
    else:
        boundary.probabilities = class_probabilities(output).reshape(size, size, -1).astype("float32")
    units, names = [], []
    for layer, values in zip(probe.layers, hidden):
        for unit in range(values.shape[1]):
            if len(units) < MAX_UNITS:
                units.append(values[:, unit].reshape(size, size))
                names.append(f"{layer.name}[{unit}]")
    if units:
        boundary.units, boundary.unit_names = np.stack(units).astype("float32"), names
    return boundary


def save_boundary(path: str | os.PathLike, boundary: Boundary) -> None:
    """Atomically write a boundary as .npz (float16 grids: a few hundred KB at 200x200)."""
    arrays = {"extent": np.asarray(boundary.extent, "float64"), "units": boundary.units.astype("float16"),
              "unit_names": np.asarray(boundary.unit_names, dtype="U64")}
    if boundary.probabilities is not None:
        arrays["probabilities"] = boundary.probabilities.astype("float16")
    if boundary.values is not None:
        arrays["values"] = boundary.values.astype("float32")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def load_boundary(path: str | os.PathLike) -> Boundary:
    """Read a boundary written by ``save_boundary``."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return Boundary(
                tuple(float(v) for v in data["extent"]),
                data["probabilities"].astype("float32") if "probabilities" in data.files else None,
                data["values"] if "values" in data.files else None,
                data["units"].astype("float32"), [str(name) for name in data["unit_names"]])
    except (OSError, ValueError, KeyError, EOFError) as exc:
        raise InspectError(f"{path} is not a readable decision-boundary file ({exc})") from exc


def region_colours(boundary: Boundary) -> np.ndarray:
    """(size, size, 3) uint8 picture of the class regions (pale where the model is unsure), y up."""
    if boundary.probabilities is None:
        return colormap(normalize01(boundary.values))[::-1]
    probabilities = boundary.probabilities
    classes = probabilities.argmax(axis=-1)
    confidence = probabilities.max(axis=-1)
    floor = 1.0 / probabilities.shape[-1]
    strength = ((confidence - floor) / max(1e-6, 1 - floor))[..., None] * 0.55 + 0.15
    colours = PALETTE[classes % len(PALETTE)] * strength + 255 * (1 - strength)
    edge = np.zeros(classes.shape, bool)  # the boundary itself: where the predicted class changes
    edge[1:, :] |= classes[1:, :] != classes[:-1, :]
    edge[:, 1:] |= classes[:, 1:] != classes[:, :-1]
    colours[edge] = 40
    return colours.round().astype("uint8")[::-1]


def unit_colours(boundary: Boundary, unit: int) -> np.ndarray:
    """(size, size, 3) uint8 picture of one hidden unit's activation (blue low, red high), y up."""
    values = boundary.units[unit].astype("float64")
    scale = max(float(np.abs(values).max()), 1e-6)
    signed = (values / scale)[..., None]
    blue, red, white = np.array([33, 102, 172.0]), np.array([178, 24, 43.0]), np.full(3, 247.0)
    colours = np.where(signed < 0, white + (blue - white) * -signed, white + (red - white) * signed)
    return colours.round().astype("uint8")[::-1]


def boundary_image(boundary: Boundary, x=None, y=None, unit: int | None = None, scale: int = 2) -> np.ndarray:
    """The regions (or hidden ``unit``) at ``scale`` pixels per cell with the points ``x`` on top,
    coloured by their labels ``y``."""
    picture = region_colours(boundary) if unit is None else unit_colours(boundary, unit)
    picture = picture.repeat(scale, axis=0).repeat(scale, axis=1)
    if x is None or not len(x):
        return picture
    height, width = picture.shape[:2]
    x_min, x_max, y_min, y_max = boundary.extent
    points = np.asarray(x, dtype="float64").reshape(-1, 2)
    columns = np.round((points[:, 0] - x_min) / (x_max - x_min) * (width - 1)).astype(int)
    rows = np.round((y_max - points[:, 1]) / (y_max - y_min) * (height - 1)).astype(int)
    labels = _labels(y, len(points))
    radius = max(2, scale + 1)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            distance = dx * dx + dy * dy
            if distance > radius * radius:
                continue
            r, c = rows + dy, columns + dx
            inside = (r >= 0) & (r < height) & (c >= 0) & (c < width)
            fill = PALETTE[labels[inside] % len(PALETTE)] if distance < (radius - 1) ** 2 else 20
            picture[r[inside], c[inside]] = fill
    return picture


def _labels(y, count: int) -> np.ndarray:
    """Integer labels from integer or one-hot ``y`` (all 0 without labels)."""
    if y is None:
        return np.zeros(count, int)
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype(int)
