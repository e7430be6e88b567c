"""Built-in sources that work offline on a fresh install: digits, procedural shapes, 2-D toy sets."""

from __future__ import annotations

import functools

import numpy as np

from studio.core.data.raw import RawData, option, task_for_classes
from studio.core.data.source_options import source_option


def load_digits(spec: dict) -> RawData:
    """scikit-learn's 8x8 handwritten digits (1797 images, bundled), optionally upscaled."""
    images, labels = _digits(source_option(spec, "digits", "image_size"))
    return RawData(
        x=images[..., None].copy(),
        y=labels.copy(),
        task="classification",
        class_names=[str(d) for d in range(10)],
    )


@functools.lru_cache(maxsize=3)  # at most 3 x 29 MB (1797 images of 64 x 64)
def _digits(size: int) -> tuple[np.ndarray, np.ndarray]:
    """The digits at ``size`` pixels, parsed and resized once per process (read-only: callers copy)."""
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = bunch.images.astype(np.float32) * np.float32(255 / 16)
    if size != 8:
        images = resize_gray(images, size)
    labels = bunch.target.astype(np.int32)
    images.flags.writeable = labels.flags.writeable = False
    return images, labels


def resize_gray(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (N, H, W) float images to (N, size, size)."""
    from PIL import Image

    out = np.empty((len(images), size, size), np.float32)
    for i, image in enumerate(images):
        out[i] = np.asarray(Image.fromarray(image, mode="F").resize((size, size), Image.BILINEAR))
    return out


def load_shapes(spec: dict) -> RawData:
    """Procedurally drawn shapes at random positions, sizes and angles; deterministic by seed."""
    classes, count, size, noise, colour = (
        source_option(spec, "shapes", key) for key in ("classes", "count", "image_size", "noise", "colour"))
    task = task_for_classes(classes)
    rng = np.random.default_rng(option(spec, "seed", 0, int))
    images, labels = [], []
    for label, shape in enumerate(classes):
        masks = _draw(shape, count, size, rng)
        images.append(_paint(masks, colour, rng))
        labels.append(np.full(count, label, np.int32))
    x = np.concatenate(images)
    if noise:
        x = np.clip(x + rng.normal(0.0, noise * 255, x.shape).astype(np.float32), 0, 255)
    return RawData(x=x, y=np.concatenate(labels), task=task, class_names=list(classes))


def load_shape_masks(spec: dict) -> RawData:
    """Segmentation: one procedural shape per image, every pixel labelled 0 (background) or 1 + the
    index of its shape (y is (N, H, W) int32)."""
    classes, count, size, noise = (source_option(spec, "shape_masks", key)
                                   for key in ("classes", "count", "image_size", "noise"))
    rng = np.random.default_rng(option(spec, "seed", 0, int))
    images, masks = [], []
    for label, shape in enumerate(classes):
        drawn = _draw(shape, count, size, rng)
        images.append(_paint(drawn, False, rng))
        masks.append(np.where(drawn, label + 1, 0).astype(np.int32))
    x = np.concatenate(images)
    if noise:
        x = np.clip(x + rng.normal(0.0, noise * 255, x.shape).astype(np.float32), 0, 255)
    return RawData(x=x, y=np.concatenate(masks), task="segmentation", class_names=["background", *classes])


def load_shape_boxes(spec: dict) -> RawData:
    """Localization: one procedural shape per image at a random place and size; y is (N, 5) float32
    ``[class, x0, y0, x1, y1]`` with the box corners as fractions of the image side."""
    classes, count, size, noise = (source_option(spec, "shape_boxes", key)
                                   for key in ("classes", "count", "image_size", "noise"))
    rng = np.random.default_rng(option(spec, "seed", 0, int))
    images, labels = [], []
    for label, shape in enumerate(classes):
        drawn = _draw(shape, count, size, rng, spread=(0.2, 0.8), radius=(0.1, 0.3))
        images.append(_paint(drawn, False, rng))
        rows, columns = drawn.any(axis=2), drawn.any(axis=1)
        boxes = np.stack([columns.argmax(1), rows.argmax(1), size - columns[:, ::-1].argmax(1),
                          size - rows[:, ::-1].argmax(1)], axis=1) / size
        labels.append(np.concatenate([np.full((count, 1), label), boxes], axis=1).astype(np.float32))
    x = np.concatenate(images)
    if noise:
        x = np.clip(x + rng.normal(0.0, noise * 255, x.shape).astype(np.float32), 0, 255)
    return RawData(x=x, y=np.concatenate(labels), task="localization", class_names=list(classes))


def _draw(shape: str, count: int, size: int, rng: np.random.Generator, spread=(0.35, 0.65),
          radius=(0.18, 0.3)) -> np.ndarray:
    """Boolean masks (count, size, size) of ``shape`` with random centre, radius and angle (centre and
    radius drawn from ``spread`` and ``radius``, fractions of the image side)."""
    centre = rng.uniform(*spread, (count, 2, 1, 1)) * size
    radius = rng.uniform(*radius, (count, 1, 1)) * size
    angle = rng.uniform(0, 2 * np.pi, (count, 1, 1))
    grid = np.arange(size) + 0.5
    dy, dx = grid[None, :, None] - centre[:, 0], grid[None, None, :] - centre[:, 1]
    u = dx * np.cos(angle) + dy * np.sin(angle)
    v = -dx * np.sin(angle) + dy * np.cos(angle)
    if shape == "circle":
        return u**2 + v**2 <= radius**2
    if shape == "ring":
        return (u**2 + v**2 <= radius**2) & (u**2 + v**2 >= (0.6 * radius) ** 2)
    if shape == "square":
        return np.maximum(abs(u), abs(v)) <= 0.8 * radius
    if shape == "cross":
        arm = 0.28 * radius
        return (abs(u) <= arm) & (abs(v) <= radius) | (abs(v) <= arm) & (abs(u) <= radius)
    # triangle: inside three half-planes whose normals are 120 degrees apart
    inside = np.ones(u.shape, bool)
    for k in range(3):
        theta = k * 2 * np.pi / 3
        inside &= u * np.cos(theta) + v * np.sin(theta) <= radius / 2
    return inside


def _paint(masks: np.ndarray, colour: bool, rng: np.random.Generator) -> np.ndarray:
    """Float 0..255 NHWC images: bright shapes on a dark background (random hues if ``colour``)."""
    count = len(masks)
    if not colour:
        return np.where(masks, np.float32(255), np.float32(0))[..., None].astype(np.float32)
    fore = rng.uniform(120, 255, (count, 1, 1, 3)).astype(np.float32)
    back = rng.uniform(0, 80, (count, 1, 1, 3)).astype(np.float32)
    return np.where(masks[..., None], fore, back).astype(np.float32)


def load_toy(spec: dict) -> RawData:
    """2-D point sets for first MLP lessons: xor, moons, circles, spirals, blobs, and, or."""
    name, samples, noise, classes = (source_option(spec, "toy", key) for key in ("name", "samples", "noise", "classes"))
    seed = option(spec, "seed", 0, int)
    rng = np.random.default_rng(seed)
    if name == "xor":
        x = rng.uniform(-1, 1, (samples, 2))
        y = (x[:, 0] * x[:, 1] < 0).astype(np.int32)
        x = x + rng.normal(0, noise, x.shape)
        names = ["same sign", "opposite signs"]
    elif name in ("and", "or"):
        x, y = _truth_table(name, samples, noise, rng)
        names = ["false", "true"]
    elif name == "moons":
        from sklearn.datasets import make_moons

        x, y = make_moons(samples, noise=noise, random_state=seed)
        names = ["upper moon", "lower moon"]
    elif name == "circles":
        from sklearn.datasets import make_circles

        x, y = make_circles(samples, noise=noise, factor=0.5, random_state=seed)
        names = ["outer", "inner"]
    elif name == "spirals":
        x, y = _spirals(samples, classes, noise, rng)
        names = [f"arm {k}" for k in range(classes)]
    else:
        from sklearn.datasets import make_blobs

        x, y = make_blobs(samples, centers=classes, cluster_std=1.0 + noise, random_state=seed)
        names = [f"blob {k}" for k in range(classes)]
    return RawData(
        x=x.astype(np.float32),
        y=y.astype(np.int32),
        task=task_for_classes(names),
        class_names=names,
        feature_names=["x1", "x2"],
    )


def _spirals(samples: int, arms: int, noise: float, rng: np.random.Generator):
    y = np.arange(samples) % arms
    t = rng.uniform(0.05, 1.0, samples)
    angle = 2 * np.pi * y / arms + 3 * np.pi * t
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return x + rng.normal(0, noise * 0.1, x.shape), y


def _truth_table(name: str, samples: int, noise: float, rng: np.random.Generator):
    """Points scattered around the four corners (+-1, +-1) of a logic gate's truth table (+1 = true):
    AND is true at one corner, OR at three; both are separable by one straight line."""
    corners = rng.integers(0, 2, (samples, 2))
    y = corners.all(axis=1) if name == "and" else corners.any(axis=1)
    return 2.0 * corners - 1 + rng.normal(0, noise, (samples, 2)), y
