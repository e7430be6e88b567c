"""``studio data info`` and ``studio data preview``: datasets and augmentation, headless."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from studio.cli import CliError
from studio.core.data.source_options import DATA_SOURCES, describe_sources
from studio.core.training.config import TrainingConfig

_SPEC_HELP = (
    "project file (.dlstudio), dataset spec (.json file or inline JSON), a folder of class folders, "
    f"a .csv/.tsv/.txt or .npz file, or a source name ({', '.join(DATA_SOURCES)})"
)
_SOURCES_HELP = "dataset spec options of each source:\n" + describe_sources()


def register(subparsers) -> None:
    data = subparsers.add_parser("data", help="datasets: counts, shapes, classes and augmentation previews")
    actions = data.add_subparsers(dest="data_action", metavar="ACTION")
    data.set_defaults(func=lambda args: data.print_help() or 2)

    info = actions.add_parser("info", help="split sizes, class counts, shapes and the report of skipped files",
                              epilog=_SOURCES_HELP.replace("%", "%%"),
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    info.add_argument("spec", help=_SPEC_HELP)
    info.set_defaults(func=_info)

    preview = actions.add_parser("preview", help="save a grid of augmented training samples as PNG")
    preview.add_argument("spec", help=_SPEC_HELP)
    preview.add_argument("-o", "--output", required=True, help="PNG file to write")
    preview.add_argument("-n", type=int, default=16, help="number of samples (default 16)")
    preview.add_argument("--seed", type=int, help="training seed (default: the project's, else 0)")
    preview.add_argument("--epoch", type=int, default=0, help="epoch to show (default 0)")
    preview.add_argument("--batch-size", type=int, help="training batch size (default: the project's, "
                         f"else {TrainingConfig.batch_size})")
    preview.add_argument(
        "--augment",
        help="steps as inline JSON or a .json file, 'default' or 'none' "
        "(default: the project's steps; for a plain dataset spec, the default chain)",
    )
    preview.set_defaults(func=_preview)


def resolve(source: str) -> tuple[dict, list | None, dict]:
    """``(dataset spec, augmentation or None, training dict)`` named by a CLI argument."""
    from studio.core.data import DataError
    from studio.core.data.paths import read_source

    try:
        found = read_source(source)
    except DataError as exc:
        raise CliError(str(exc)) from None
    return found.spec, found.augmentation, found.training


def _read_json(path: Path):
    try:
        return _parse_json(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot be read ({exc})") from None


def _parse_json(text: str, where: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{where}: not valid JSON ({exc.msg}, line {exc.lineno} column {exc.colno})") from None


def _load(spec: dict):
    from studio.core.data import DataError, load_dataset

    try:
        return load_dataset(spec)
    except DataError as exc:
        raise CliError(str(exc)) from None


def _info(args) -> int:
    spec, _, _ = resolve(args.spec)
    dataset = _load(spec)
    for line in dataset.summary():
        print(line)
    if dataset.report:
        print(f"report ({len(dataset.report)}):")
        for line in dataset.report:
            print(f"  {line}")
    return 0


def _augmentation(choice: str | None, project_steps: list | None) -> list:
    from studio.core.augment import default_augmentation

    if choice is None:
        return project_steps if project_steps is not None else default_augmentation()
    if choice == "default":
        return default_augmentation()
    if choice == "none":
        return []
    path = Path(choice)
    return _read_json(path) if path.is_file() else _parse_json(choice, "--augment")


def _preview(args) -> int:
    from studio.core.augment import AugmentationError, save_grid_png
    from studio.core.data import DataError, first_training_samples

    spec, project_steps, training = resolve(args.spec)
    steps = _augmentation(args.augment, project_steps)
    config = TrainingConfig.from_dict(training)
    seed = args.seed if args.seed is not None else config.seed
    batch_size = args.batch_size or config.batch_size
    if args.n < 1 or batch_size < 1 or args.epoch < 0:
        raise CliError("-n and --batch-size must be at least 1, --epoch at least 0")
    dataset = _load(spec)
    if not dataset.is_image:
        raise CliError(f"the data has shape {dataset.input_shape}, not images: nothing to draw")
    try:
        images, labels = first_training_samples(dataset, steps, seed, args.epoch, args.n, batch_size)
        names = [_label_text(dataset, label) for label in labels]
        save_grid_png(args.output, images, names, value_range=dataset.value_range)
    except (DataError, AugmentationError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"{args.output}: cannot be written ({exc.strerror})") from None
    kinds = ", ".join(step["type"] for step in steps) or "no augmentation"
    print(f"wrote {args.output}: {len(images)} training samples, seed {seed}, epoch {args.epoch} ({kinds})")
    return 0


def _label_text(dataset, label) -> str:
    """Class name for a sparse label; the two strongest classes for a blended (soft) label."""
    import numpy as np

    label = np.asarray(label)
    if label.ndim == 0:
        return dataset.class_names[int(label)]
    if label.size == 1:  # a binary label blended for the one sigmoid unit: the positive class's share
        return f"{dataset.class_names[1]} {float(label[0]):.2f}"
    top = np.argsort(label)[::-1][:2]
    parts = [f"{dataset.class_names[i]} {label[i]:.2f}" for i in top if label[i] > 0.005]
    return " + ".join(parts) if len(parts) > 1 else dataset.class_names[int(top[0])]
