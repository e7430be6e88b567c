"""Keras layers the studio itself provides, registered so saved models load in safe mode."""

from __future__ import annotations

import keras


@keras.saving.register_keras_serializable(package="studio")
class Sampling(keras.layers.Layer):
    """VAE reparameterization: ``z = mean + exp(log_var / 2) * eps`` with ``eps ~ N(0, 1)``."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mean, log_var = inputs
        noise = keras.random.normal(keras.ops.shape(mean), seed=self.seed_generator)
        return mean + keras.ops.exp(0.5 * log_var) * noise

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="studio")
class PositionalEmbedding(keras.layers.Layer):
    """Adds a learned vector per position to a sequence of embeddings (steps, features), so
    attention, which ignores order, can tell positions apart. Keeps the input's mask."""

    def __init__(self, sequence_length: int, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = int(sequence_length)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        self.position_embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, input_shape[-1]), initializer=self.initializer)

    def call(self, inputs):
        steps = keras.ops.shape(inputs)[-2]
        return inputs + keras.ops.cast(self.position_embeddings[:steps], inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer)}


CUSTOM_LAYERS = {"Sampling": Sampling, "PositionalEmbedding": PositionalEmbedding}
