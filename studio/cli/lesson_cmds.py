"""``studio lesson transfer``: the "learning with less data" lesson, headless."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lesson", help="run a built-in lesson and print its figures",
        description="transfer: a CNN the studio pretrained on the bundled digits (builtin:digits_cnn_28), and "
        "the same CNN pretrained without labels on other shapes (contrastive, self-supervised), are each "
        "transferred to 5%% of the procedural shapes and compared with training from scratch on the same 5%%; "
        "all are scored on the other 90%%. The run folders can be overlaid in the app.")
    parser.add_argument("name", choices=("transfer",), help="which lesson")
    parser.add_argument("--fraction", type=float, default=0.05,
                        help="share of the target set to train on (default 0.05)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs per run (default 40)")
    parser.add_argument("--fine-tune-epochs", type=int, default=20,
                        help="of those, how many fine-tune the whole backbone (default 20)")
    parser.add_argument("--contrastive-epochs", type=int, default=15,
                        help="epochs of self-supervised pretraining (default 15; 0 leaves that row out)")
    parser.add_argument("--runs-dir", default="runs", help="where the run folders go (default ./runs)")
    parser.set_defaults(func=_lesson)


def _lesson(args) -> int:
    from studio.core.data import DataError
    from studio.core.training import TrainingError
    from studio.core.transfer import BackboneError
    from studio.core.transfer.lesson import run_lesson

    if not 1 <= args.fine_tune_epochs + 1 <= args.epochs:
        raise CliError("--fine-tune-epochs must be from 0 to --epochs minus 1")
    if not 0 <= args.contrastive_epochs <= 1000:
        raise CliError("--contrastive-epochs must be from 0 to 1000")
    try:
        rows = run_lesson(Path(args.runs_dir), fraction=args.fraction, epochs=args.epochs,
                          fine_tune_epochs=args.fine_tune_epochs, contrastive_epochs=args.contrastive_epochs)
    except (ValueError, BackboneError, DataError, TrainingError, RuntimeError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    print("\nlearning with less data (test accuracy on held-out images):")
    for row in rows:
        print(f"  {row.name:<16s} {row.accuracy:6.1%}   {row.run_dir}")
    return 0
