"""``studio evaluate``, ``studio featuremaps`` and ``studio boundary``: look at a trained run, headless."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from studio.cli import CliError

MISTAKES_SHOWN = 5


def register(subparsers) -> None:
    evaluate = subparsers.add_parser(
        "evaluate", help="score a run on its test split; write the confusion matrix as PNG and CSV"
    )
    evaluate.add_argument("run", help="run folder (contains model.keras and project.dlstudio)")
    _add_run_options(evaluate)
    evaluate.add_argument("-o", "--output", help="folder for the confusion matrix files (default: the run folder)")
    evaluate.add_argument("--normalized", action="store_true",
                          help="write shares of each true class in the PNG instead of counts")
    evaluate.set_defaults(func=_evaluate)

    maps = subparsers.add_parser("featuremaps", help="save one layer's activations for one sample as a PNG")
    maps.add_argument("run", help="run folder (contains model.keras and project.dlstudio)")
    maps.add_argument("--layer", required=True, help="layer name (as shown on the canvas)")
    source = maps.add_mutually_exclusive_group()
    source.add_argument("--sample", type=int, default=0, help="index of the sample in the split (default 0)")
    source.add_argument("--image", help="an image file to use instead of a dataset sample")
    _add_run_options(maps)
    maps.add_argument("-o", "--output", required=True, help="PNG file to write")
    maps.set_defaults(func=_featuremaps)

    boundary = subparsers.add_parser(
        "boundary", help="draw the decision boundary of a run with 2 inputs over its data as a PNG",
        description="Colour the plane by the class the model predicts (pale where it is unsure) and draw "
        "the data points on top; --unit draws one hidden unit's activation instead.")
    boundary.add_argument("run", help="run folder of a model with a 2-D input (e.g. on a toy dataset)")
    _add_run_options(boundary)
    boundary.add_argument("--unit", help="a hidden unit to draw instead, e.g. hidden[0]")
    boundary.add_argument("--size", type=int, default=200, help="grid cells per side (20..1000, default 200)")
    boundary.add_argument("-o", "--output", required=True, help="PNG file to write")
    boundary.set_defaults(func=_boundary)


def _add_run_options(parser) -> None:
    parser.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                        help="which saved model: final model.keras, best or last checkpoint "
                        "(auto: the first that exists, in that order)")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="dataset split to use (default test)")


def _open_run(args):
    """The run's model, dataset and the chosen split, with every load failure as a CliError."""
    from studio.core.data import DataError
    from studio.core.inspect import InspectError, open_run
    from studio.core.project import ProjectError

    try:
        contents = open_run(args.run, args.model)
    except (InspectError, ProjectError, DataError) as exc:
        raise CliError(str(exc)) from None
    x, y = contents.dataset.split(args.split)
    return contents, x, y


def _evaluate(args) -> int:
    from studio.core.inspect import ClassificationReport, InspectError, RegressionReport, evaluate_model
    from studio.core.inspect.render import save_png

    contents, x, y = _open_run(args)
    dataset = contents.dataset
    if not len(x):
        raise CliError(f"the {args.split} split of this run's dataset is empty; pick another with --split")
    try:
        report = evaluate_model(contents.model, x, y, dataset.task, dataset.class_names or None)
    except InspectError as exc:
        raise CliError(str(exc)) from None
    print(f"{args.run}: {dataset.task}, {args.split} split, {len(x)} samples")
    output = Path(args.output) if args.output else contents.run_dir
    if isinstance(report, RegressionReport):
        print(format_regression(report))
        print("regression task: no confusion matrix (the table above lists the error metrics)")
        return 0
    if isinstance(report, ClassificationReport):
        print(format_classification(report))
        write_confusion_files(report, output, args.normalized)
        print(f"wrote {output / 'confusion_matrix.png'} and {output / 'confusion_matrix.csv'}")
        return 0
    print(format_table(*report.table()))
    print(report.summary())
    pictures = report.pictures(x)
    if pictures:
        _make_folder(output)
    for name, pixels in pictures.items():
        save_png(output / name, pixels)
        print(f"wrote {output / name}")
    return 0


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """A report's table as text: the first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[c])) for row in [headers, *rows]) for c in range(len(headers))]
    return "\n".join("  ".join(f"{cell:<{width}}" if c == 0 else f"{cell:>{width}}"
                                for c, (cell, width) in enumerate(zip(row, widths))) for row in [headers, *rows])


def format_classification(report) -> str:
    """The per-class precision/recall/F1 table with accuracy, averages, curves and worst mistakes."""
    width = max(12, *(len(name) for name in report.class_names))
    lines = [f"{'class':<{width}}  precision  recall      f1  support"]
    for index, name in enumerate(report.class_names):
        lines.append(f"{name:<{width}}  {report.precision[index]:9.4f}  {report.recall[index]:6.4f}  "
                     f"{report.f1[index]:6.4f}  {report.support[index]:7d}")
    total = int(report.support.sum())
    lines.append(f"{'accuracy':<{width}}  {'':9}  {'':6}  {report.accuracy:6.4f}  {total:7d}")
    for label, averages in (("macro avg", report.macro), ("micro avg", report.micro),
                            ("weighted avg", report.weighted)):
        lines.append(f"{label:<{width}}  {averages['precision']:9.4f}  {averages['recall']:6.4f}  "
                     f"{averages['f1']:6.4f}  {total:7d}")
    if report.curves is not None:
        lines.append(f"ROC AUC {report.curves.roc_auc:.4f}   average precision "
                     f"{report.curves.average_precision:.4f} (positive class {report.class_names[1]})")
    mistakes = report.confident_mistakes(MISTAKES_SHOWN)
    if len(mistakes):
        lines.append("most confident mistakes:")
        for index in mistakes:
            lines.append(f"  sample {index}: true {report.class_names[report.y_true[index]]}, predicted "
                         f"{report.class_names[report.y_pred[index]]} ({report.confidence[index]:.1%})")
    return "\n".join(lines)


def format_regression(report) -> str:
    """MAE, MSE, RMSE, R² and the samples with the largest errors."""
    lines = [f"MAE   {report.mae:.6g}", f"MSE   {report.mse:.6g}", f"RMSE  {report.rmse:.6g}", f"R2    {report.r2:.6g}"]
    worst = report.largest_errors(MISTAKES_SHOWN)
    if len(worst):
        lines.append("largest errors: " + ", ".join(
            f"sample {i} ({abs(report.errors[i]).max():.4g})" for i in worst))
    return "\n".join(lines)


def confusion_csv(report) -> str:
    """Counts with true classes as rows and predicted classes as columns, names in the margins."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["true \\ predicted", *report.class_names])
    for name, row in zip(report.class_names, report.confusion):
        writer.writerow([name, *(int(count) for count in row)])
    return buffer.getvalue()


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot create output folder {folder}: {exc.strerror}") from None


def write_confusion_files(report, folder: Path, normalized: bool = False) -> None:
    """Write confusion_matrix.png and confusion_matrix.csv into ``folder`` (created if needed)."""
    from studio.core.fileio import atomic_write_text
    from studio.core.inspect.render import confusion_matrix_image, save_png

    _make_folder(folder)
    save_png(folder / "confusion_matrix.png", confusion_matrix_image(report.confusion, report.class_names, normalized))
    atomic_write_text(folder / "confusion_matrix.csv", confusion_csv(report))


def _featuremaps(args) -> int:
    from studio.core.inspect import InspectError, activations, channel_stats, load_image
    from studio.core.inspect.render import feature_map_grid, save_png

    contents, x, _y = _open_run(args)
    try:
        if args.image:
            sample = load_image(args.image, contents.model.inputs[0].shape[1:], contents.dataset.normalization)
            where = args.image
        else:
            if not 0 <= args.sample < len(x):
                raise CliError(f"--sample {args.sample} is out of range; the {args.split} split has "
                               f"{len(x)} samples (0..{len(x) - 1})")
            sample, where = x[args.sample], f"{args.split} sample {args.sample}"
        activation = activations(contents.model, sample, args.layer)[0]
    except InspectError as exc:
        raise CliError(str(exc)) from None
    output = Path(args.output)
    if output.suffix.lower() != ".png":
        raise CliError(f"{output} should end in .png")
    if not output.parent.is_dir():
        raise CliError(f"folder {output.parent} does not exist")
    save_png(output, feature_map_grid(activation))
    stats = channel_stats(activation)
    dead = int((stats["zero_fraction"] == 1).sum())
    print(f"layer {args.layer} on {where}: output {tuple(activation.shape)}, values "
          f"{float(stats['min'].min()):.4g} .. {float(stats['max'].max()):.4g}, "
          f"{dead} of {len(stats['mean'])} channels all zero")
    print(f"wrote {output}")
    return 0


def _boundary(args) -> int:
    from studio.core.inspect import InspectError, evaluate_model
    from studio.core.inspect.boundary import boundary_image, decision_boundary
    from studio.core.inspect.render import save_png

    if not 20 <= args.size <= 1000:
        raise CliError(f"--size must be from 20 to 1000, got {args.size}")
    output = Path(args.output)
    if output.suffix.lower() != ".png" or not output.parent.is_dir():
        raise CliError(f"{output} should be a .png file in an existing folder")
    contents, x, y = _open_run(args)
    try:
        boundary = decision_boundary(contents.model, x, args.size, task=contents.dataset.task)
    except InspectError as exc:
        raise CliError(str(exc)) from None
    unit = None
    if args.unit is not None:
        if args.unit not in boundary.unit_names:
            raise CliError(f"no hidden unit {args.unit!r}; this model has: {', '.join(boundary.unit_names) or 'none'}")
        unit = boundary.unit_names.index(args.unit)
    save_png(output, boundary_image(boundary, x, y, unit, scale=max(1, 400 // args.size)))
    if boundary.probabilities is not None and len(x):
        report = evaluate_model(contents.model, x, y, contents.dataset.task)
        print(f"{args.split} accuracy {report.accuracy:.1%} on {len(x)} points")
    print(f"wrote {output}")
    return 0
