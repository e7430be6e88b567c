"""Turn augmentation step specs into Keras preprocessing layers applied with explicit seeds.

Every batch gets its own seed pair (derived from the run seed, the epoch and the batch index, see
``batch_seed``) and each step draws from it statelessly, so the same (seed, epoch, batch) always
yields the same augmented batch - in the training pipeline and in the preview alike. Everything is
Keras layers and ``keras.ops``, so it runs on the training backend (TensorFlow, JAX or PyTorch).
"""

from __future__ import annotations

import functools

import numpy as np

from studio.core.augment.catalog import AUGMENTATIONS, AugmentationError, validate_steps
from studio.core.tasks import get_task

# Offsets that keep the random streams of different steps and of successive draws apart.
_STEP_STRIDE = 1_000_003
_DRAW_STRIDE = 7_919
_EPOCH_STRIDE = 1 << 24
_SEED_MODULUS = 1 << 30  # seeds stay positive in every backend's seed dtype (int32/uint32/int64)


def batch_seed(seed: int, epoch: int, batch_index: int) -> np.ndarray:
    """The int64 seed pair of batch ``batch_index`` of ``epoch`` (same arithmetic as the tf.data
    graph in ``studio.core.data.pipeline``)."""
    return np.array([seed % _SEED_MODULUS, (epoch * _EPOCH_STRIDE + batch_index) % _SEED_MODULUS], np.int64)


def default_augmentation() -> list[dict]:
    """A mild chain that suits most image sets, digits included (no flips)."""
    return [
        {"type": "rotation", "factor": 0.03, "fill_mode": "constant"},
        {"type": "zoom", "factor": 0.1, "fill_mode": "constant"},
        {"type": "translation", "factor": 0.1, "fill_mode": "constant"},
    ]


class Augmenter:
    """An ordered chain of steps; ``apply`` augments one batch given its epoch and batch index.

    With ``boxes`` the labels are box rows (B, max_boxes, 5) ``[x0, y0, x1, y1, class]`` (fractions,
    class -1 for none): the steps that move pixels move the boxes too (Keras' bounding-box support);
    a box pushed out of the image becomes an unused row.
    """

    def __init__(self, steps: list[dict], seed: int, value_range: tuple[float, float], boxes: bool = False):
        self.steps = validate_steps(steps)
        self.seed = int(seed)
        self.value_range = (float(value_range[0]), float(value_range[1]))
        self.boxes = boxes
        self._layers = [_make_layer(step, self.value_range, boxes) for step in self.steps]

    def check_input(self, input_shape: tuple, task: str) -> None:
        """Raise ``AugmentationError`` when a step cannot work on this data.

        Args:
            input_shape: one sample's shape; images are (height, width, channels).
            task: the dataset's task name.

        Raises:
            AugmentationError: an image-only step on non-image data, or a label-mixing step on a
                task without class labels.
        """
        is_image = len(input_shape) == 3
        for step in self.steps:
            spec = AUGMENTATIONS[step["type"]]
            if spec.images_only and not is_image:
                raise AugmentationError(
                    f"{spec.title} needs images (height, width, channels) but the data has shape "
                    f"{tuple(input_shape)}; remove the step or use an image dataset"
                )
            if spec.mixes_labels and not get_task(task).class_labels:
                raise AugmentationError(f"{spec.title} blends class labels: it needs a classification task")

    def apply(self, images, labels, seed_pair):
        """Augment one batch with its ``seed_pair`` (``batch_seed(...)``: a numpy pair, or an int64
        tensor inside a tf.data graph). ``labels`` must be soft (float) when a step mixes labels."""
        boxes = _pixel_boxes(images, labels) if self.boxes else None
        for index, (step, layer) in enumerate(zip(self.steps, self._layers)):
            seed = _batch_seed_class()(seed_pair, index)
            if step["type"] == "gaussian_noise":
                images = _add_noise(images, step["stddev"] * (self.value_range[1] - self.value_range[0]), seed)
                continue
            if step["type"] == "random_crop":
                images, shift = _pad_and_crop(images, step["padding"], self.value_range[0], seed)
                if boxes is not None:
                    boxes["boxes"] = boxes["boxes"] + shift[:, None, :]
                continue
            transform = layer.get_random_transformation(images, training=True, seed=seed)
            images = layer.transform_images(images, transform, training=True)
            if AUGMENTATIONS[step["type"]].mixes_labels:
                labels = layer.transform_labels(labels, transform, training=True)
            if boxes is not None and AUGMENTATIONS[step["type"]].moves_pixels:
                boxes = layer.transform_bounding_boxes(boxes, transform, training=True)
        return images, (labels if boxes is None else _box_rows(images, boxes))


def build_augmenter(steps: list[dict], seed: int = 0, value_range: tuple[float, float] = (0.0, 1.0),
                    boxes: bool = False) -> Augmenter:
    """Build the Keras layers for ``steps``; ``value_range`` is the range of the (normalized)
    pixel values, used by brightness, contrast, erasing and noise.

    Args:
        steps: the augmentation steps (dicts with a ``type`` and its params); defaults are filled in.
        seed: the run's seed, combined with each batch's epoch and index in ``Augmenter.apply``.
        value_range: ``(low, high)`` of the normalized inputs (``Dataset.value_range``).
        boxes: the labels are box rows that move with the pixels (a task with ``box_targets``).

    Returns:
        The Augmenter, its Keras layers built (this imports Keras).

    Raises:
        AugmentationError: a step is invalid (see ``validate_steps``).
    """
    return Augmenter(steps, seed, value_range, boxes)


@functools.cache
def _batch_seed_class():
    import keras

    class BatchSeed(keras.random.SeedGenerator):
        """Stateless seed source: hands out distinct seeds derived from one batch seed.

        Keras layers draw their random numbers from a SeedGenerator; replacing its variable state
        with a per-batch tensor keeps tf.data deterministic and free of shared mutable state.
        """

        def __init__(self, batch_seed, step_index):  # no super().__init__: no state variable
            self._base = batch_seed
            self._step = step_index
            self._draws = 0

        def next(self, ordered=True):
            from keras.src.backend import random_seed_dtype

            self._draws += 1
            offset = np.array([self._step * _STEP_STRIDE + self._draws * _DRAW_STRIDE, 0], np.int64)
            if isinstance(self._base, np.ndarray):  # eager: exact int64 arithmetic in numpy
                return keras.ops.convert_to_tensor((self._base + offset) % _SEED_MODULUS, random_seed_dtype())
            return keras.ops.cast((self._base + offset) % _SEED_MODULUS, random_seed_dtype())

    return BatchSeed


def _add_noise(images, stddev, seed):
    import keras

    return images + keras.random.normal(keras.ops.shape(images), stddev=stddev, seed=seed, dtype=images.dtype)


def _pixel_boxes(images, labels) -> dict:
    """Box rows as Keras' bounding boxes: pixel ``xyxy`` corners (rotation needs pixels) and labels."""
    from keras import ops

    height, width = ops.shape(images)[1], ops.shape(images)[2]
    frame = ops.cast(ops.stack([width, height, width, height]), "float32")
    return {"boxes": ops.cast(labels[..., :4], "float32") * frame, "labels": ops.cast(labels[..., 4], "float32")}


def _box_rows(images, boxes):
    """Moved pixel boxes back to rows ``[x0, y0, x1, y1, class]`` of fractions, clipped to the image; a
    box left with no area (or dropped by Keras: label -1) becomes an unused row."""
    from keras import ops

    height, width = ops.shape(images)[1], ops.shape(images)[2]
    frame = ops.cast(ops.stack([width, height, width, height]), "float32")
    corners = ops.clip(ops.cast(boxes["boxes"], "float32") / frame, 0.0, 1.0)
    labels = ops.cast(boxes["labels"], "float32")
    used = (labels >= 0) & (corners[..., 2] > corners[..., 0]) & (corners[..., 3] > corners[..., 1])
    kept = ops.cast(used, "float32")
    return ops.concatenate([corners * kept[..., None], ops.where(used, labels, -1.0)[..., None]], axis=-1)


def _pad_and_crop(images, padding, fill, seed):
    """Pad, then cut a window of the original size at a random offset per image; also returns how
    far each image's content moved, (B, 4) pixels to add to box corners ``[x0, y0, x1, y1]``.

    Written with gathers because keras.layers.RandomCrop uses one offset for the whole batch.
    """
    import keras

    ops = keras.ops
    batch, height, width, channels = ops.shape(images)
    padded = ops.pad(images, [[0, 0], [padding, padding], [padding, padding], [0, 0]], constant_values=fill)
    offsets = keras.random.randint((batch, 2), 0, 2 * padding + 1, seed=seed)
    rows = offsets[:, :1] + ops.arange(height)[None, :]
    cols = offsets[:, 1:] + ops.arange(width)[None, :]
    rows = ops.broadcast_to(rows[:, :, None, None], (batch, height, width + 2 * padding, channels))
    cropped = ops.take_along_axis(padded, rows, axis=1)
    cols = ops.broadcast_to(cols[:, None, :, None], (batch, height, width, channels))
    shift = ops.cast(padding - offsets[:, ::-1], "float32")  # (x, y) moves
    return ops.take_along_axis(cropped, cols, axis=2), ops.concatenate([shift, shift], axis=1)


def _make_layer(step: dict, value_range: tuple[float, float], boxes: bool = False):
    import keras

    kind = step["type"]
    moves = {"bounding_box_format": "xyxy"} if boxes else {}
    if kind == "flip":
        return keras.layers.RandomFlip(step["mode"], **moves)
    if kind in ("rotation", "zoom", "translation"):
        fill = {"fill_mode": step["fill_mode"], "fill_value": value_range[0], **moves}
        if kind == "rotation":
            return keras.layers.RandomRotation(step["factor"], **fill)
        if kind == "zoom":
            return keras.layers.RandomZoom(step["factor"], **fill)
        return keras.layers.RandomTranslation(step["factor"], step["factor"], **fill)
    if kind == "contrast":
        return keras.layers.RandomContrast(step["factor"], value_range=value_range)
    if kind == "brightness":
        return keras.layers.RandomBrightness(step["factor"], value_range=value_range)
    if kind == "random_erasing":
        return keras.layers.RandomErasing(
            factor=step["probability"], scale=(0.02, step["max_area"]), value_range=value_range
        )
    if kind == "mixup":
        return keras.layers.MixUp(alpha=step["alpha"])
    if kind == "cutmix":
        return keras.layers.CutMix(factor=step["factor"])
    if kind in ("gaussian_noise", "random_crop"):
        return None  # written directly with seeded tensor ops in Augmenter.apply
    raise AugmentationError(f"no layer for augmentation {kind!r}")
