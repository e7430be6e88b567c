"""``studio sample``: draw images from a trained GAN, VAE or autoencoder run into a PNG grid."""

from __future__ import annotations

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sample", help="draw images from a trained GAN/VAE run into a PNG grid",
        description="Generate images with the generator (GAN) or decoder (VAE, autoencoder) of a run. "
        "The same seed always gives the same images.")
    parser.add_argument("run", help="run folder of a generative model")
    parser.add_argument("-n", "--count", type=int, default=64, help="number of images (default 64)")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent vectors (default 0)")
    parser.add_argument("--label", type=int, help="class to draw (conditional GAN; default: every class in turn)")
    parser.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                        help="which saved model: final model.keras, best or last checkpoint "
                        "(auto: the first that exists, in that order)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--interpolate", type=int, nargs=2, metavar=("SEED0", "SEED1"),
                      help="instead: COUNT images along the line between the latents of two seeds")
    mode.add_argument("--manifold", action="store_true",
                      help="instead: the decoded COUNT x COUNT latent grid of a VAE with a 2-D latent")
    parser.set_defaults(func=_sample)


def _sample(args) -> int:
    from studio.core.generative import (GenerativeError, interpolation_images, load_generative_model,
                                        manifold_grid, sample, sample_grid)
    from studio.core.inspect.render import save_png

    if not 1 <= args.count <= (30 if args.manifold else 1024):
        raise CliError(f"--count must be from 1 to {30 if args.manifold else 1024}, got {args.count}")
    try:
        model = load_generative_model(args.run, args.model)
        if args.manifold:
            images, columns = manifold_grid(model, args.count), args.count
        elif args.interpolate:
            images, columns = interpolation_images(model, *args.interpolate, args.count, args.label), args.count
        else:
            images, columns = sample(model, args.count, args.seed, args.label), None
        save_png(args.output, sample_grid(images, columns))
    except GenerativeError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"wrote {len(images)} images to {args.output}")
    return 0
