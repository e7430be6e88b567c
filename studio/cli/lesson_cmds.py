"""``studio lesson transfer|rcnn``: the built-in lessons, headless."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError
from studio.cli.options import add_spec_options, checked_values
from studio.core.detection.options import SETTINGS as RCNN_SETTINGS
from studio.core.transfer.lesson import SETTINGS


def register(subparsers) -> None:
    parser = subparsers.add_parser("lesson", help="run a built-in lesson and print its figures",
                                   description="transfer: learning with less data; rcnn: detection the R-CNN way "
                                   "against a one-stage detector. `studio lesson NAME --help` for each.")
    lessons = parser.add_subparsers(dest="name", metavar="NAME", required=True)
    transfer = lessons.add_parser(
        "transfer", help="learning with less data (transfer and self-supervised pretraining)",
        description="transfer: a CNN the studio pretrained on the bundled digits (builtin:digits_cnn_28), and "
        "the same CNN pretrained without labels on other shapes (contrastive, self-supervised), are each "
        "transferred to 5% of the procedural shapes and compared with training from scratch on the same 5%; "
        "all are scored on the other 90%. The run folders can be overlaid in the app.")
    add_spec_options(transfer, SETTINGS)
    transfer.set_defaults(func=_lesson)
    rcnn = lessons.add_parser(
        "rcnn", help="detection: proposals -> crops -> a CNN classifier -> NMS, against a one-stage detector",
        description="rcnn: sliding windows over each test scene are cropped, classified by a small CNN trained on "
        "crops of the training scenes (with a background class) and kept after NMS; a one-stage grid detector "
        "(detector_64) is trained on the same scenes. Both are scored with pycocotools on the same test scenes: "
        "mAP and milliseconds per image, and rcnn_lesson.png in the runs folder shows both on a few scenes.")
    add_spec_options(rcnn, RCNN_SETTINGS)
    rcnn.set_defaults(func=_rcnn)
    for lesson in (transfer, rcnn):
        lesson.add_argument("--runs-dir", default="runs", help="where the run folders go (default ./runs)")
        lesson.add_argument("--result", metavar="FILE.json",
                            help="also write the figures (one row per run, with its run folder) to this JSON file")


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
    except (BackboneError, DataError, TrainingError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    if args.result:
        _write_result(Path(args.result), "transfer", [
            {"name": row.name, "accuracy": row.accuracy, "run_dir": str(row.run_dir)} for row in rows])
    print("\nlearning with less data (test accuracy on held-out images):")
    for row in rows:
        print(f"  {row.name:<16s} {row.accuracy:6.1%}   {row.run_dir}")
    return 0


def _rcnn(args) -> int:
    from studio.core.data import DataError
    from studio.core.detection.lesson import run_lesson
    from studio.core.training import TrainingError

    try:
        rows = run_lesson(Path(args.runs_dir), **checked_values(args, RCNN_SETTINGS))
    except (DataError, TrainingError) as exc:
        raise CliError(str(exc).splitlines()[0]) from None
    if args.result:
        _write_result(Path(args.result), "rcnn", [
            {"name": row.name, "map50": row.map50, "map": row.map, "ms_per_image": row.ms_per_image,
             "run_dir": str(row.run_dir)} for row in rows])
    print("\ndetection on the same test scenes (pycocotools):")
    print(f"  {'detector':<24s} {'mAP@0.5':>8s} {'mAP@[.5:.95]':>13s} {'ms/image':>9s}")
    for row in rows:
        print(f"  {row.name:<24s} {row.map50:8.3f} {row.map:13.3f} {row.ms_per_image:9.1f}   {row.run_dir}")
    print(f"pictures: {Path(args.runs_dir) / 'rcnn_lesson.png'}")
    return 0


def _write_result(path: Path, lesson: str, rows: list[dict]) -> None:
    from studio.core import fileio

    try:
        fileio.atomic_write_json(path, {"lesson": lesson, "rows": rows})
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}; choose another --result file") from None
