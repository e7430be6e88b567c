"""The Keras model of a contrastive (SimCLR-style) pretraining run, written once for every backend.

``ContrastiveModel`` wraps the encoder (the project's feature layers) and a projection head. Its
``call`` makes two views of each image with the augmentation chain (``studio.core.augment``; in
training seeded per batch by the model's own seed generator, so a resumed run continues the same
sequence; fixed views for evaluation),
encodes both and projects them; ``compute_loss`` is NT-Xent on the projections and
``compute_metrics`` adds ``contrastive_accuracy`` (how often a view's nearest neighbour is its
partner). Keras computes the gradients (``fit``), so it trains on TensorFlow, JAX and PyTorch alike.

A contrastive run keeps only the encoder: ``save`` writes the encoder, so the run's model.keras and
checkpoints are plain functional models that ``--backbone RUN`` loads in safe mode.

Imported only inside functions that build or train such a run (it imports Keras).
"""

from __future__ import annotations

import keras

from studio.core.augment.builder import Augmenter, batch_seed

ops = keras.ops


def nt_xent(z1, z2, temperature: float):
    """The SimCLR loss of two (B, d) batches of projections (row i of each is the same image): the
    cross-entropy of finding each view's partner among the other 2B - 1 views by cosine similarity."""
    similarity, positives = _similarities(z1, z2, temperature)
    return ops.mean(keras.losses.sparse_categorical_crossentropy(positives, similarity, from_logits=True))


def _similarities(z1, z2, temperature: float):
    """Temperature-scaled cosine similarities of all 2B views (a view is not its own candidate) and
    the index of each view's partner."""
    z = ops.normalize(ops.cast(ops.concatenate([z1, z2], axis=0), "float32"), axis=1)
    count = ops.shape(z1)[0]
    similarity = ops.matmul(z, ops.transpose(z)) / temperature - ops.eye(2 * count) * 1e9
    positives = ops.concatenate([ops.arange(count, 2 * count), ops.arange(count)])
    return similarity, positives


class ContrastiveModel(keras.Model):
    """Encoder + projection head trained with NT-Xent on two augmented views of each batch."""

    def __init__(self, encoder, projection, steps: list[dict], value_range, temperature: float, seed: int,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.encoder, self.projection, self.temperature = encoder, projection, float(temperature)
        self.views = Augmenter(steps, seed, value_range)  # stateless layers: seeded per call below
        self.view_seeds = keras.random.SeedGenerator(seed)
        self.fixed_seeds = (batch_seed(seed + 1, 0, 0), batch_seed(seed + 1, 0, 1))
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="contrastive_accuracy")
        self.built = True  # its parts are built, so a resume can load the backup before any batch

    def call(self, images, training=False):
        # Evaluation uses fixed views: its loss is comparable across epochs, and the training seed
        # stream (saved in a stop's backup, taken after Keras has still validated) stays untouched.
        seeds = (self.view_seeds.next(), self.view_seeds.next()) if training else self.fixed_seeds
        first = self.views.apply(images, None, seeds[0])[0]
        second = self.views.apply(images, None, seeds[1])[0]
        features = self.encoder(ops.concatenate([first, second], axis=0), training=training)
        return self.projection(features, training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        half = ops.shape(y_pred)[0] // 2
        return nt_xent(y_pred[:half], y_pred[half:], self.temperature)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        half = ops.shape(y_pred)[0] // 2
        similarity, positives = _similarities(y_pred[:half], y_pred[half:], self.temperature)
        self.accuracy.update_state(positives, similarity)
        return self.get_metrics_result()

    def save(self, filepath, *args, **kwargs):
        """Save the encoder (the projection head and the views serve pretraining only)."""
        self.encoder.save(filepath, *args, **kwargs)


def projection_head(features: int, units: tuple[int, int]):
    """Dense-ReLU-Dense on ``features``-long vectors, built at once (so a backup loads into it)."""
    return keras.Sequential([keras.Input((features,)), keras.layers.Dense(units[0], activation="relu"),
                             keras.layers.Dense(units[1])], name="projection")
