"""``studio export``: write a run's model in one format, verified against the Keras model."""

from __future__ import annotations

import sys

from studio.cli import CliError


def register(subparsers) -> None:
    from studio.core.export import FORMATS  # light: Keras and TensorFlow load only when exporting

    parser = subparsers.add_parser(
        "export", help="export a run's model (Keras, SavedModel, TFLite, ONNX, Python, bundle), verified",
        description="Write a trained run's model in one format, reload it in that format's own runtime "
        "and compare its outputs with the Keras model on real samples. A metadata file "
        "(<PATH>.meta.json) records the input shape, classes, normalization and the check's figures.")
    parser.add_argument("run", help="run folder (contains model.keras and project.dlstudio)")
    parser.add_argument("--format", required=True, choices=list(FORMATS), metavar="FORMAT",
                        help="one of: " + ", ".join(f"{name} ({spec.help})" for name, spec in FORMATS.items()))
    parser.add_argument("-o", "--output", required=True, metavar="PATH",
                        help="file to write (a folder for savedmodel)")
    parser.add_argument("--force", action="store_true", help="replace PATH if it exists")
    parser.add_argument("--with-training", action="store_true",
                        help="python format: add the data loading and training setup to the script")
    parser.add_argument("--include-normalization", action="store_true",
                        help="image models: the export reads raw 0..255 pixels and normalizes them itself")
    parser.add_argument("--part", help="generative runs: which sub-model to export (e.g. generator, decoder)")
    parser.add_argument("--model", default="auto", choices=("auto", "final", "best", "last"),
                        help="which saved model of the run (auto: final, else best, else last checkpoint)")
    parser.set_defaults(func=_export)


def _export(args) -> int:
    from studio.core.export import (ExportError, ExportTargetExistsError, ExportVerificationError, export_model,
                                    meta_path)

    if args.with_training and args.format != "python":
        raise CliError("--with-training only applies to --format python")
    try:
        result = export_model(args.run, args.format, args.output, part=args.part, which=args.model,
                              include_normalization=args.include_normalization,
                              with_training=args.with_training, force=args.force)
    except ExportVerificationError as exc:
        _print_warnings(exc.result.warnings)
        print(f"FAILED {exc.result.summary()}", file=sys.stderr)
        print(f"error: {exc}; nothing was written to {args.output}", file=sys.stderr)
        return 1
    except ExportTargetExistsError as exc:
        raise CliError(f"{exc}; use --force to replace it") from None
    except ExportError as exc:
        raise CliError(str(exc)) from None
    _print_warnings(result.warnings)
    print(result.summary())
    print(result.message)
    print(f"wrote {result.path} and {meta_path(result.path)}")
    return 0


def _print_warnings(warnings: list[str]) -> None:
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
