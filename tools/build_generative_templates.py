"""Regenerate the generative templates in ``models/`` (run: ``python tools/build_generative_templates.py``).

The graphs come from ``studio.core.generative.graphs``; each file also carries the project's
``generative`` section and a suggested ``dataset`` and ``training`` for the template.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.fileio import atomic_write_json  # noqa: E402
from studio.core.generative import graphs  # noqa: E402
from studio.core.generative.parts import find_parts  # noqa: E402
from studio.core.graph.infer import analyze  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models"
SPLIT = {"train": 0.8, "val": 0.1, "test": 0.1}
DATASETS = {
    1: {"source": "digits", "image_size": 28, "split": SPLIT, "seed": 0, "normalize": "scale"},
    3: {"source": "shapes", "image_size": 32, "colour": True, "count": 300, "split": SPLIT, "seed": 0,
        "normalize": "scale"},
}
GAN_TRAINING = {"optimizer": "adam", "learning_rate": 2e-4, "batch_size": 64, "epochs": 30, "seed": 0,
                "early_stopping_monitor": "fid"}
AE_TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64, "epochs": 20, "seed": 0}
DCGAN_REF = "Radford, Metz & Chintala (2015), Unsupervised representation learning with deep convolutional GANs"
VAE_REF = "Kingma & Welling (2013), Auto-encoding variational Bayes"
CGAN_REF = "Mirza & Osindero (2014), Conditional generative adversarial nets"
AE_REF = "Hinton & Salakhutdinov (2006), Reducing the dimensionality of data with neural networks"


def templates():
    """(name, title, description, reference, graph, generative, training, channels) per template."""
    for size, channels, where in ((28, 1, "28x28 grey digits"), (32, 3, "32x32 colour images")):
        yield (f"dcgan_{size}", f"DCGAN {size}x{size}",
               f"A generator turns random vectors into {where}; a discriminator learns to tell them from "
               "real ones, and each improves by beating the other.",
               DCGAN_REF, graphs.dcgan(size, channels), {"kind": "gan"}, GAN_TRAINING, channels)
        yield (f"vae_{size}", f"VAE {size}x{size}",
               f"An encoder maps {where} to a small random code (mean and spread), a decoder draws images "
               "back from codes; any point of the latent space decodes to a plausible image.",
               VAE_REF, graphs.vae(size, channels, latent_dim=2 if channels == 1 else 16), {"kind": "vae"},
               AE_TRAINING, channels)
        yield (f"autoencoder_{size}", f"Autoencoder {size}x{size}",
               f"An encoder squeezes {where} into a 16-number code and a decoder rebuilds them: "
               "compression learned from the data.",
               AE_REF, graphs.autoencoder(size, channels), {"kind": "autoencoder"}, AE_TRAINING, channels)
    yield ("cgan_28", "Conditional GAN 28x28",
           "A DCGAN that is told which digit to draw: generator and discriminator both read the class label.",
           CGAN_REF, graphs.conditional_gan(28, 1), {"kind": "gan"}, GAN_TRAINING, 1)


def main() -> None:
    for name, title, description, reference, graph, generative, training, channels in templates():
        analysis = analyze(graph)
        assert analysis.ok, (name, analysis.problems)
        parts = find_parts(graph, generative["kind"])
        atomic_write_json(MODELS / f"{name}.json", {
            "name": name, "title": title, "description": description, "reference": reference,
            "task": "generative", "input_shape": list(parts.image_shape),
            "num_classes": 10 if parts.conditional else None, "expected_params": analysis.total_params,
            "generative": generative, "dataset": DATASETS[channels], "training": training,
            "graph": graph.to_dict(),
        })
        print(f"{name:16s} {analysis.total_params:>10,d} params  {len(graph.nodes):3d} layers")


if __name__ == "__main__":
    main()
