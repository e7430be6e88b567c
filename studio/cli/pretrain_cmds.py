"""``studio pretrain``: self-supervised (contrastive) pretraining of a model's feature layers."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pretrain", help="self-supervised (SimCLR-style) pretraining on unlabeled images -> an encoder",
        description="Train the feature layers of a project or template (its last Dense dropped) to give two "
        "augmented views of one image similar features and different images different ones; labels are "
        "never read. Use the encoder with `studio train ... --backbone encoder.keras` (a linear probe "
        "with --freeze all, or fine-tuning).")
    parser.add_argument("source", help="project file or template name (its graph and dataset)")
    parser.add_argument("--data", metavar="SOURCE", help="unlabeled images instead of the project's dataset "
                        "(same forms as `studio train --data`)")
    parser.add_argument("-o", "--output", required=True, help="the encoder .keras file to write")
    parser.add_argument("--epochs", type=int, default=20, help="passes over the images (default 20)")
    parser.add_argument("--batch-size", type=int, default=128, help="images per step (default 128)")
    parser.add_argument("--temperature", type=float, default=0.2, help="NT-Xent temperature (default 0.2)")
    parser.set_defaults(func=_pretrain)


def _pretrain(args) -> int:
    import numpy as np

    from studio.cli.train_cmds import dataset_spec, load_source
    from studio.core.data import DataError, load_dataset
    from studio.core.transfer.contrastive import contrastive_pretrain, save_encoder

    output = Path(args.output)
    if output.suffix != ".keras" or not output.parent.is_dir():
        raise CliError(f"{output} should be a .keras file in an existing folder")
    if not 1 <= args.epochs <= 10_000 or not 2 <= args.batch_size <= 4096 or not 0 < args.temperature <= 10:
        raise CliError("--epochs 1..10000, --batch-size 2..4096 and --temperature in (0, 10] please")
    project, _root = load_source(args.source)
    try:
        dataset = load_dataset(dataset_spec(args.data) if args.data else project.dataset)
        images = np.concatenate([dataset.x_train, dataset.x_val, dataset.x_test])
        result = contrastive_pretrain(project.graph, images, project.augmentation or None, args.epochs,
                                      args.batch_size, args.temperature, value_range=dataset.value_range, say=print)
        save_encoder(result.encoder, output)
    except (DataError, ValueError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    print(f"wrote {output}: use it with `studio train ... --backbone {output}`")
    return 0
