"""Using a trained generative run: load it safely, sample, interpolate, map the latent space, export.

Images come back in [0, 1] as float32 (n, h, w, c); ``live.sample_grid`` turns them into a picture.
"""

from __future__ import annotations

import os

import numpy as np

from studio.core.generative.images import run_batches
from studio.core.generative.live import FIXED_FILE, SAMPLES_DIR, generate, sample_latents
from studio.core.generative.parts import GenerativeError

MODEL_CLASSES = {"studio>GAN": ("generator", "discriminator"), "studio>VAE": ("encoder", "decoder"),
                 "studio>AutoEncoder": ("encoder", "decoder")}
EXPORT_PARTS = ("auto", "generator", "discriminator", "encoder", "decoder")


def load_generative_model(run_dir: str | os.PathLike, which: str = "auto"):
    """The GAN/VAE/AutoEncoder of a run (``which``: auto, final, best, last), loaded in safe mode.

    Every layer of both parts is checked against the catalog before Keras deserializes anything.

    Args:
        run_dir: a generative run folder.
        which: the model file, as ``inspect.run_model_path`` takes it.

    Returns:
        The uncompiled GAN, VAE or AutoEncoder model.

    Raises:
        GenerativeError: no model file, not a generative model, a refused layer, or a file Keras
            cannot load.
    """
    import keras

    from studio.core.generative import models  # noqa: F401  (registers the model classes)
    from studio.core.graph.keras_io import KerasImportError, check_layers_supported, read_keras_config
    from studio.core.inspect.errors import InspectError
    from studio.core.inspect.runs import run_model_path

    try:
        path = run_model_path(run_dir, which)
        serialized = read_keras_config(path)
        parts = MODEL_CLASSES.get(serialized.get("registered_name"))
        if parts is None:
            raise GenerativeError(f"{path} is not a GAN, VAE or autoencoder run")
        for part in parts:
            check_layers_supported(serialized.get("config", {}).get(part) or {}, where=part)
    except (InspectError, KerasImportError) as exc:
        raise GenerativeError(str(exc).splitlines()[0]) from None
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # Keras raises many types for a damaged archive
        raise GenerativeError(f"{path}: the model could not be loaded ({exc})") from exc


def latent_dim(model) -> int:
    """Length of the latent vectors the generator/decoder takes."""
    maker = model.generator if hasattr(model, "generator") else model.decoder
    first = maker.inputs[0]
    return int(first.shape[-1])


def is_conditional(model) -> bool:
    return bool(getattr(model, "conditional", False))


def sample(model, n: int, seed: int = 0, label: int | None = None) -> np.ndarray:
    """``n`` images from standard-normal latents drawn with ``seed`` (same seed, same images).

    A conditional GAN draws class ``label``, or every class in turn when ``label`` is None.

    Args:
        model: a loaded GAN, VAE or autoencoder.
        n: how many images, from 1.
        seed: the latent seed.
        label: the class for a conditional GAN; must be None for other models.

    Returns:
        (n, height, width, channels) images in [0, 1].

    Raises:
        GenerativeError: ``n`` below 1, a label for an unconditional model, or an unknown class.
    """
    if n < 1:
        raise GenerativeError(f"the number of samples must be at least 1, got {n}")
    latents = sample_latents(seed, n, latent_dim(model))
    return generate(model, latents, class_labels(model, n, label))


def class_labels(model, n: int, label: int | None) -> np.ndarray | None:
    """Labels for ``n`` conditional samples (None for an unconditional model)."""
    if not is_conditional(model):
        if label is not None:
            raise GenerativeError("this model is not conditional: it cannot be asked for a class")
        return None
    classes = int(model.num_classes) or 1
    if label is not None and not 0 <= label < classes:
        raise GenerativeError(f"class {label} does not exist: use 0 to {classes - 1}")
    return np.full(n, label, np.int32) if label is not None else (np.arange(n) % classes).astype(np.int32)


def interpolate(z0, z1, t):
    """Points between latents ``z0`` (t=0) and ``z1`` (t=1): one for a scalar ``t``, a row per value
    for a sequence of ``t``."""
    z0, z1 = np.asarray(z0, np.float32), np.asarray(z1, np.float32)
    if z0.shape != z1.shape:
        raise GenerativeError(f"latent points differ in shape: {z0.shape} and {z1.shape}")
    t = np.asarray(t, np.float32)
    weights = t.reshape(t.shape + (1,) * z0.ndim)
    return (1 - weights) * z0 + weights * z1


def interpolation_images(model, seed0: int, seed1: int, steps: int = 8, label: int | None = None) -> np.ndarray:
    """Images along the straight line between the latents of two seeds.

    Args:
        model: a loaded GAN, VAE or autoencoder.
        seed0: the seed of the first latent (t=0).
        seed1: the seed of the last latent (t=1).
        steps: images along the line, ends included.
        label: the class for a conditional GAN (None: classes in turn); None for other models.

    Returns:
        (steps, height, width, channels) images in [0, 1].

    Raises:
        GenerativeError: a label for an unconditional model, or an unknown class.
    """
    dim = latent_dim(model)
    path = interpolate(sample_latents(seed0, 1, dim)[0], sample_latents(seed1, 1, dim)[0],
                       np.linspace(0, 1, steps))
    return generate(model, path, class_labels(model, steps, label))


def manifold_grid(model, n: int = 15, span: float = 0.95) -> np.ndarray:
    """Decoded images of a VAE with a 2-D latent over an n x n grid of latent points.

    Points sit at evenly spaced quantiles of the standard normal (``span`` of its mass per axis),
    so the grid covers where the prior puts most codes; rows go from high to low second
    coordinate. Returns (n * n, h, w, c), row by row.
    """
    from statistics import NormalDist

    if latent_dim(model) != 2 or not hasattr(model, "encoder"):
        raise GenerativeError("the latent manifold needs a VAE or autoencoder with a 2-D latent")
    edge = (1 - span) / 2
    values = np.array([NormalDist().inv_cdf(q) for q in np.linspace(edge, 1 - edge, n)], np.float32)
    grid = np.array([[x, y] for y in values[::-1] for x in values], np.float32)
    return generate(model, grid)


def latent_means(model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Latent codes of images in [0, 1]: a VAE's z_mean, an autoencoder's code.

    Raises:
        GenerativeError: the model has no encoder (a GAN).
    """
    if not hasattr(model, "encoder"):
        raise GenerativeError("only a VAE or an autoencoder has an encoder to map images to latents")
    import keras

    encoder = model.encoder
    if len(encoder.outputs) > 1:  # a VAE encoder gives [z_mean, z_log_var, z]: keep z_mean
        encoder = keras.Model(encoder.input, encoder.outputs[0])
    return run_batches(encoder, np.asarray(images, np.float32), batch_size=batch_size)


def fixed_latents(run_dir: str | os.PathLike) -> dict[str, np.ndarray]:
    """The fixed latents (and labels/images) a run draws its epoch grids from.

    Returns:
        The arrays of ``samples/fixed.npz`` by name (``latents``, and ``labels``/``images`` when stored).

    Raises:
        GenerativeError: the run has no such file.
    """
    path = os.path.join(run_dir, SAMPLES_DIR, FIXED_FILE)
    if not os.path.isfile(path):
        raise GenerativeError(f"run {run_dir} has no {SAMPLES_DIR}/{FIXED_FILE}: it is not a generative run "
                              "or it never started training")
    with np.load(path) as data:
        return dict(data)


def exportable_model(run_dir: str | os.PathLike, part: str = "auto", which: str = "auto"):
    """One part of a generative run as a plain functional Keras model, for export.

    ``part``: generator, discriminator (GAN), encoder, decoder (VAE, autoencoder); ``auto`` is
    the part that makes images (generator or decoder).

    Args:
        run_dir: a generative run folder.
        part: see above.
        which: the model file, as ``inspect.run_model_path`` takes it.

    Returns:
        The part's functional ``keras.Model``.

    Raises:
        GenerativeError: an unknown part, a part the model lacks, or a model that does not load.
    """
    if part not in EXPORT_PARTS:
        raise GenerativeError(f"unknown part {part!r}: use one of {', '.join(EXPORT_PARTS)}")
    model = load_generative_model(run_dir, which)
    if part == "auto":
        part = "generator" if hasattr(model, "generator") else "decoder"
    if not hasattr(model, part):
        have = "generator, discriminator" if hasattr(model, "generator") else "encoder, decoder"
        raise GenerativeError(f"this run has no {part}: its parts are {have}")
    return getattr(model, part)
