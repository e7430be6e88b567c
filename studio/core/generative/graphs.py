"""Graphs of the generative models for any square image size divisible by 4 (pure Python).

The templates in ``models/`` are these graphs at 28x28x1 and 32x32x3 (tools/build_generative_templates.py);
tests build them tiny. Every model works on images in [0, 1] (the decoders end in a sigmoid).
"""

from __future__ import annotations

from studio.core.graph.builder import Builder
from studio.core.graph.model import Graph


def _check_size(size: int) -> int:
    if size % 4 or size < 8:
        raise ValueError(f"image size must be a multiple of 4 and at least 8, got {size}")
    return size // 4


def _upsampling_stack(b: Builder, x: str, size: int, channels: int, width: int, prefix: str,
                      batch_norm: bool) -> str:
    """Dense -> (size/4)^2 feature maps, two stride-2 transposed convolutions, sigmoid image."""
    base = _check_size(size)
    x = b.add("Dense", x, units=base * base * 2 * width, use_bias=not batch_norm, name=f"{prefix}_dense")
    if batch_norm:
        x = b.add("BatchNormalization", x, name=f"{prefix}_dense_bn")
    x = b.add("LeakyReLU", x, negative_slope=0.2, name=f"{prefix}_dense_act")
    x = b.add("Reshape", x, target_shape=[base, base, 2 * width], name=f"{prefix}_reshape")
    x = b.add("Conv2DTranspose", x, filters=width, kernel_size=[4, 4], strides=[2, 2], padding="same",
              use_bias=not batch_norm, name=f"{prefix}_up1")
    if batch_norm:
        x = b.add("BatchNormalization", x, name=f"{prefix}_up1_bn")
    x = b.add("LeakyReLU", x, negative_slope=0.2, name=f"{prefix}_up1_act")
    return b.add("Conv2DTranspose", x, filters=channels, kernel_size=[4, 4], strides=[2, 2], padding="same",
                 activation="sigmoid", name=f"{prefix}_image")


def _downsampling_stack(b: Builder, x: str, width: int, prefix: str) -> str:
    """Two stride-2 convolutions with leaky ReLU, flattened."""
    x = b.add("Conv2D", x, filters=width, kernel_size=[4, 4], strides=[2, 2], padding="same", name=f"{prefix}_conv1")
    x = b.add("LeakyReLU", x, negative_slope=0.2, name=f"{prefix}_act1")
    x = b.add("Conv2D", x, filters=2 * width, kernel_size=[4, 4], strides=[2, 2], padding="same",
              name=f"{prefix}_conv2")
    x = b.add("LeakyReLU", x, negative_slope=0.2, name=f"{prefix}_act2")
    return b.add("Flatten", x, name=f"{prefix}_flatten")


def dcgan(size: int = 28, channels: int = 1, latent_dim: int = 64, width: int = 64) -> Graph:
    """DCGAN: a generator from a latent vector to an image and a discriminator scoring images (logit)."""
    b = Builder()
    z = b.add("Input", shape=[latent_dim], name="latent")
    _upsampling_stack(b, z, size, channels, width, "gen", batch_norm=True)
    x = b.add("Input", shape=[size, size, channels], name="image")
    x = _downsampling_stack(b, x, width, "disc")
    x = b.add("Dropout", x, rate=0.3, name="disc_dropout")
    b.add("Dense", x, units=1, name="disc_score")
    return b.graph


def conditional_gan(size: int = 28, channels: int = 1, latent_dim: int = 64, width: int = 64,
                    num_classes: int = 10) -> Graph:
    """A DCGAN told which class to draw: both parts also read the class label through an Embedding."""
    b = Builder()
    z = b.add("Input", shape=[latent_dim], name="latent")
    label = b.add("Input", shape=[1], dtype="int32", name="gen_label")
    embedded = b.add("Flatten", b.add("Embedding", label, input_dim=num_classes, output_dim=16,
                                      name="gen_label_embedding"), name="gen_label_flat")
    joined = b.add("Concatenate", z, embedded, name="gen_join")
    _upsampling_stack(b, joined, size, channels, width, "gen", batch_norm=True)
    image = b.add("Input", shape=[size, size, channels], name="image")
    label = b.add("Input", shape=[1], dtype="int32", name="disc_label")
    plane = b.add("Embedding", label, input_dim=num_classes, output_dim=size * size, name="disc_label_embedding")
    plane = b.add("Reshape", plane, target_shape=[size, size, 1], name="disc_label_plane")
    x = b.add("Concatenate", image, plane, name="disc_join")
    x = _downsampling_stack(b, x, width, "disc")
    x = b.add("Dropout", x, rate=0.3, name="disc_dropout")
    b.add("Dense", x, units=1, name="disc_score")
    return b.graph


def _encoder(b: Builder, size: int, channels: int, width: int) -> str:
    x = b.add("Input", shape=[size, size, channels], name="image")
    x = _downsampling_stack(b, x, width, "enc")
    return b.add("Dense", x, units=4 * width, activation="relu", name="enc_hidden")


def vae(size: int = 28, channels: int = 1, latent_dim: int = 2, width: int = 32) -> Graph:
    """VAE: a conv encoder to z_mean, z_log_var and a Sampling layer; a decoder from the latent."""
    b = Builder()
    hidden = _encoder(b, size, channels, width)
    mean = b.add("Dense", hidden, units=latent_dim, name="z_mean")
    log_var = b.add("Dense", hidden, units=latent_dim, name="z_log_var")
    b.add("Sampling", mean, log_var, name="z")
    z = b.add("Input", shape=[latent_dim], name="latent")
    _upsampling_stack(b, z, size, channels, width, "dec", batch_norm=False)
    return b.graph


def autoencoder(size: int = 28, channels: int = 1, latent_dim: int = 16, width: int = 32) -> Graph:
    """Plain autoencoder: a conv encoder squeezing the image into a code, a decoder rebuilding it."""
    b = Builder()
    hidden = _encoder(b, size, channels, width)
    b.add("Dense", hidden, units=latent_dim, name="code")
    z = b.add("Input", shape=[latent_dim], name="latent")
    _upsampling_stack(b, z, size, channels, width, "dec", batch_norm=False)
    return b.graph
