"""GAN, VAE and autoencoder training, live samples, latent exploration and a quality score.

A generative project is an ordinary project whose graph holds two linked parts (see ``parts``)
and whose ``generative`` section says what they are::

    {"kind": "gan" | "vae" | "autoencoder",  # required
     "grid_size": 64,     # images in each epoch's sample grid (half as many reconstruction pairs)
     "seed": 0,           # seed of the fixed latent vectors behind the grids
     "quality": true,     # compute the FID-style score (fid, diversity) every epoch
     "kl_weight": 1.0}    # VAE: weight of the KL term

The training engine calls ``training.build`` for such projects. Keras models live in
``models`` (imported only when training or loading, as it imports Keras).
"""

from studio.core.generative.explore import (
    exportable_model,
    fixed_latents,
    interpolate,
    interpolation_images,
    latent_means,
    load_generative_model,
    manifold_grid,
    sample,
)
from studio.core.generative.live import epoch_grids, pairs_grid, sample_grid, sample_latents
from studio.core.generative.parts import KINDS, GenerativeError, Parts, check_project, find_parts, settings
from studio.core.generative.quality import QualityScorer, frechet_distance

__all__ = ["KINDS", "GenerativeError", "Parts", "QualityScorer", "check_project", "epoch_grids",
           "exportable_model", "find_parts", "fixed_latents", "frechet_distance", "interpolate",
           "interpolation_images", "latent_means", "load_generative_model", "manifold_grid",
           "pairs_grid", "sample", "sample_grid", "sample_latents", "settings"]
