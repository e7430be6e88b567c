"""``studio pretrain``: self-supervised (contrastive) pretraining of a model's feature layers.

The same run as ``studio train SOURCE --objective contrastive`` (a run folder with events,
checkpoints, Ctrl-C to stop, ``--resume``); ``-o`` also copies the encoder to a .keras file.
"""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError


def register(subparsers) -> None:
    from studio.cli.train_cmds import add_settings

    parser = subparsers.add_parser(
        "pretrain", help="self-supervised (SimCLR-style) pretraining on unlabeled images -> an encoder run",
        description="Train the feature layers of a project or template (its last Dense dropped) to give two "
        "augmented views of one image similar features and different images different ones; labels are "
        "never read. This is `studio train SOURCE --objective contrastive`: the run folder's model.keras is "
        "the encoder. Use it with `studio train ... --backbone RUN` (a linear probe with --freeze all, or "
        "fine-tuning).")
    parser.add_argument("source", nargs="?", help="project file or template name (its graph and dataset; "
                        "optional with --resume)")
    parser.add_argument("--data", metavar="SOURCE", help="unlabeled images instead of the project's dataset "
                        "(same forms as `studio train --data`)")
    parser.add_argument("-o", "--output", help="also copy the encoder to this .keras file when the run completes")
    add_settings(parser, "epochs", "batch_size", "temperature")
    parser.add_argument("--run-dir", metavar="DIR", help="run folder to create (default: runs/<time>-<name>)")
    parser.add_argument("--resume", metavar="RUN", help="continue a stopped, killed or crashed pretraining run")
    add_settings(parser, "devices", "backend")
    parser.set_defaults(func=_pretrain, objective="contrastive", backbone=None, freeze="all",
                        fine_tune_epochs=None, init_from=None,  # the objective is a setting this command fixes
                        training_settings=[*parser.get_default("training_settings"), "objective"])


def _pretrain(args) -> int:
    from studio.cli.train_cmds import train
    from studio.core import fileio
    from studio.core.training import RunFolder, TrainingError, read_run

    output = Path(args.output) if args.output else None
    if output is not None and (output.suffix != ".keras" or not output.parent.is_dir()):
        raise CliError(f"{output} should be a .keras file in an existing folder")
    if args.resume:
        try:
            objective = read_run(args.resume).get("config", {}).get("objective", "supervised")
        except TrainingError as exc:
            raise CliError(str(exc)) from None
        if objective != "contrastive":
            raise CliError(f"{args.resume} is a {objective} run: resume it with `studio train --resume`")
        args.objective = None  # the run keeps its own settings
    status, run_dir = train(args)
    if status != "completed":
        return 0 if status == "stopped" else 1
    if output is not None:
        fileio.atomic_copy(RunFolder(run_dir).model_file, output)
        print(f"wrote {output}")
    print(f"use the encoder with `studio train ... --backbone {output or run_dir}`")
    return 0
