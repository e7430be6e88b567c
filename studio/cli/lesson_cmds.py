"""``studio lesson transfer``: the "learning with less data" lesson, headless."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError
from studio.cli.options import add_spec_options, checked_values
from studio.core.transfer.lesson import SETTINGS


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "lesson", help="run a built-in lesson and print its figures",
        description="transfer: a CNN the studio pretrained on the bundled digits (builtin:digits_cnn_28), and "
        "the same CNN pretrained without labels on other shapes (contrastive, self-supervised), are each "
        "transferred to 5% of the procedural shapes and compared with training from scratch on the same 5%; "
        "all are scored on the other 90%. The run folders can be overlaid in the app.")
    parser.add_argument("name", choices=("transfer",), help="which lesson")
    add_spec_options(parser, SETTINGS)
    parser.add_argument("--runs-dir", default="runs", help="where the run folders go (default ./runs)")
    parser.add_argument("--result", metavar="FILE.json",
                        help="also write the figures (name, test accuracy, run folder) to this JSON file")
    parser.set_defaults(func=_lesson)


def _lesson(args) -> int:
    from studio.core.data import DataError
    from studio.core.training import TrainingError
    from studio.core.transfer import BackboneError
    from studio.core.transfer.lesson import run_lesson

    if not 1 <= args.fine_tune_epochs + 1 <= args.epochs:
        raise CliError("--fine-tune-epochs must be from 0 to --epochs minus 1")
    settings = checked_values(args, SETTINGS)
    try:
        rows = run_lesson(Path(args.runs_dir), **settings)
    except (ValueError, BackboneError, DataError, TrainingError, RuntimeError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    if args.result:
        _write_result(Path(args.result), rows)
    print("\nlearning with less data (test accuracy on held-out images):")
    for row in rows:
        print(f"  {row.name:<16s} {row.accuracy:6.1%}   {row.run_dir}")
    return 0


def _write_result(path: Path, rows) -> None:
    from studio.core import fileio

    try:
        fileio.atomic_write_json(path, {"lesson": "transfer", "rows": [
            {"name": row.name, "accuracy": row.accuracy, "run_dir": str(row.run_dir)} for row in rows]})
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}; choose another --result file") from None
