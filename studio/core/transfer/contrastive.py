"""Self-supervised pretraining (SimCLR-style): an encoder learns from unlabeled images by pulling
together two augmented views of the same image and pushing apart views of different images.

The views come from the project's augmentation chain (``studio.core.augment``; a stronger default
when the project has none). A projection head (Dense-ReLU-Dense) sits on the encoder during
pretraining only; the NT-Xent loss (temperature-scaled cosine similarities, the other view as the
right answer among 2B - 1) trains both. The result is a plain encoder model, saved as .keras, that
``--backbone`` accepts like any pretrained model (freeze it for a linear probe, or fine-tune).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from studio.core.graph.model import Graph

# Two views need strong, varied changes; mirrors are left out (a mirrored digit is another symbol).
DEFAULT_VIEWS = [
    {"type": "random_crop", "padding": 4},
    {"type": "rotation", "factor": 0.08, "fill_mode": "constant"},
    {"type": "zoom", "factor": 0.2, "fill_mode": "constant"},
    {"type": "contrast", "factor": 0.4},
    {"type": "gaussian_noise", "stddev": 0.05},
]
MAX_IMAGES = 200_000


@dataclass
class ContrastiveResult:
    encoder: object  # keras.Model: images -> features
    losses: list[float] = field(default_factory=list)  # NT-Xent per epoch


def encoder_graph(graph: Graph) -> Graph:
    """The feature part of a classifier graph: everything but its last Dense (and activation)."""
    from studio.core.transfer.attach import _feature_nodes

    keep = set(graph.input_nodes()) | set(_feature_nodes(graph))
    return graph.subgraph(keep)


def nt_xent(z1, z2, temperature: float):
    """The SimCLR loss of two (B, d) batches of projections (row i of each is the same image)."""
    import tensorflow as tf

    z = tf.math.l2_normalize(tf.concat([z1, z2], axis=0), axis=1)
    count = tf.shape(z1)[0]
    similarity = tf.matmul(z, z, transpose_b=True) / temperature
    similarity -= tf.eye(2 * count) * 1e9  # an image is not its own positive
    positives = tf.concat([tf.range(count, 2 * count), tf.range(count)], axis=0)
    losses = tf.keras.losses.sparse_categorical_crossentropy(positives, similarity, from_logits=True)
    return tf.reduce_mean(losses)


def contrastive_pretrain(graph: Graph, images: np.ndarray, views: list[dict] | None = None, epochs: int = 20,
                         batch_size: int = 128, temperature: float = 0.2, learning_rate: float = 1e-3,
                         seed: int = 0, value_range=(0.0, 1.0),
                         say: Callable[[str], None] = lambda _text: None) -> ContrastiveResult:
    """Train ``encoder_graph(graph)`` on unlabeled ``images`` (normalized like the dataset)."""
    import keras
    import tensorflow as tf

    from studio.core.augment import build_augmenter
    from studio.core.graph.keras_io import to_keras

    images = np.asarray(images, dtype="float32")[:MAX_IMAGES]
    if images.ndim != 4 or len(images) < 2 * batch_size // 2 or batch_size < 2:
        raise ValueError(f"contrastive pretraining needs at least {batch_size} images (got {len(images)}) "
                         "and a batch of 2 or more")
    keras.utils.set_random_seed(seed)
    encoder = to_keras(encoder_graph(graph), name="encoder")
    if len(encoder.outputs[0].shape) != 2:
        raise ValueError(f"the encoder must end in a feature vector; it gives {tuple(encoder.outputs[0].shape[1:])}: "
                         "end the features with GlobalAveragePooling2D or Flatten")
    head = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(32)], name="projection")
    first = build_augmenter(views or DEFAULT_VIEWS, seed, value_range)
    second = build_augmenter(views or DEFAULT_VIEWS, seed + 1, value_range)
    optimizer = keras.optimizers.Adam(learning_rate)
    source = tf.data.Dataset.from_tensor_slices(images)

    @tf.function
    def step(view1, view2):
        with tf.GradientTape() as tape:
            loss = nt_xent(head(encoder(view1, training=True)), head(encoder(view2, training=True)), temperature)
        variables = encoder.trainable_variables + head.trainable_variables
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    result = ContrastiveResult(encoder)
    dummy = tf.zeros((batch_size,))
    for epoch in range(epochs):
        batches = source.shuffle(len(images), seed=seed + epoch).batch(batch_size, drop_remainder=True).enumerate()
        batches = batches.map(lambda index, x: (first.apply(x, dummy, _seed_pair(seed, epoch, index))[0],
                                                second.apply(x, dummy, _seed_pair(seed + 1, epoch, index))[0]))
        losses = [float(step(view1, view2)) for view1, view2 in batches]
        result.losses.append(float(np.mean(losses)))
        say(f"epoch {epoch + 1}/{epochs}  contrastive loss {result.losses[-1]:.4f}")
    return result


def save_encoder(encoder, path: str | os.PathLike) -> None:
    """Write the encoder as a .keras file (atomically), usable with ``--backbone``."""
    from studio.core import fileio

    fileio.atomic_replace_with(path, encoder.save)


def _seed_pair(seed: int, epoch: int, index):
    """``augment.batch_seed`` inside the tf.data graph: one view's seed pair for batch ``index``."""
    import tensorflow as tf

    from studio.core.augment.builder import batch_seed

    base = batch_seed(seed, epoch, 0)
    return tf.stack([tf.constant(base[0], tf.int64), (tf.constant(base[1], tf.int64) + index) % (1 << 30)])
