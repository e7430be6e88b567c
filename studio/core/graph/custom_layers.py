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


@keras.saving.register_keras_serializable(package="studio")
class ChannelShuffle(keras.layers.Layer):
    """ShuffleNet's channel shuffle: splits the last axis into ``groups`` groups and interleaves
    them, so the next grouped convolution sees channels from every group.

    Args:
        groups: number of groups; the channel count must divide by it.

    Example:
        channels 0..5 with groups=2 come out as 0, 3, 1, 4, 2, 5.
    """

    def __init__(self, groups: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.groups = int(groups)

    def call(self, inputs):
        ops = keras.ops
        shape = ops.shape(inputs)
        channels = inputs.shape[-1]
        grouped = ops.reshape(inputs, (-1, *shape[1:-1], self.groups, channels // self.groups))
        return ops.reshape(ops.swapaxes(grouped, -1, -2), (-1, *shape[1:]))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


@keras.saving.register_keras_serializable(package="studio")
class MaxUnpooling2D(keras.layers.Layer):
    """SegNet's max-unpooling: puts each value of ``x`` back at the position where the maximum of
    its pooling window was in ``reference`` (the tensor before the MaxPooling2D), zeros elsewhere.

    A graph node has one output, so instead of carrying the pooling indices the layer recomputes
    them from the pre-pool tensor: the same argmax (the first one on ties), the same result.

    Args:
        pool_size: (rows, cols) of the pooling window (and its stride) being undone.

    Example:
        ``MaxUnpooling2D((2, 2))([decoded, before_pool])``: (4, 4, C) and (8, 8, C) give (8, 8, C).
    """

    def __init__(self, pool_size=(2, 2), **kwargs):
        super().__init__(**kwargs)
        self.pool_size = tuple(int(v) for v in pool_size)

    def call(self, inputs):
        ops = keras.ops
        values, reference = inputs
        (ph, pw), channels = self.pool_size, reference.shape[-1]
        shape = ops.shape(reference)
        rows, cols = shape[1] // ph, shape[2] // pw
        windows = ops.reshape(reference[:, :rows * ph, :cols * pw, :], (-1, rows, ph, cols, pw, channels))
        windows = ops.reshape(ops.transpose(windows, (0, 1, 3, 5, 2, 4)), (-1, rows, cols, channels, ph * pw))
        # the first maximum of each window; not argmax, which Keras builds from bit operations on
        # TensorFlow that TFLite and ONNX cannot express
        is_max = ops.cast(windows == ops.max(windows, axis=-1, keepdims=True), values.dtype)
        winner = is_max * ops.cast(ops.cumsum(is_max, axis=-1) == 1, values.dtype)
        spread = ops.reshape(winner * ops.expand_dims(values, -1), (-1, rows, cols, channels, ph, pw))
        spread = ops.reshape(ops.transpose(spread, (0, 1, 4, 2, 5, 3)), (-1, rows * ph, cols * pw, channels))
        # rows and columns the pooling window never covered ('valid' pooling of an odd size) stay zero
        return ops.pad(spread, ((0, 0), (0, shape[1] - rows * ph), (0, shape[2] - cols * pw), (0, 0)))

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size}


CUSTOM_LAYERS = {"Sampling": Sampling, "PositionalEmbedding": PositionalEmbedding,
                 "ChannelShuffle": ChannelShuffle, "MaxUnpooling2D": MaxUnpooling2D}
