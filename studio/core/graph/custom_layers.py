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


CUSTOM_LAYERS = {"Sampling": Sampling}
