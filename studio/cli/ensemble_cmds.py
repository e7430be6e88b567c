"""``studio ensemble``: average finished runs into one model, scored beside its members; with
``--bagging N``, train the N members first on bootstrap resamples of one project's training split."""

from __future__ import annotations

import sys
from pathlib import Path

from studio.cli import CliError


def register(subparsers) -> None:
    from studio.cli.train_cmds import add_settings
    from studio.core.ensemble import MAX_MEMBERS

    parser = subparsers.add_parser(
        "ensemble", help="average the outputs of several runs (or .keras files) into one model",
        description="Combine runs with the same input and output into one model with an Average node "
        "(every member loaded in safe mode), print its test score beside each member's, and save it. "
        "With --bagging N, give one project file or template instead: N members are trained first, "
        "member i on a bootstrap resample of the training split (the dataset's bootstrap option, "
        "seeded --bagging-seed + i), each an ordinary run.")
    parser.add_argument("members", nargs="+", metavar="RUN",
                        help="run folders or .keras files (2 or more); with --bagging: one project file or template")
    parser.add_argument("-o", "--output", help="the .keras file to write")
    parser.add_argument("--run-dir", metavar="DIR",
                        help="also (or instead) write a finished run folder, for `studio export` and the app")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="split of the first member run's dataset to score on (default test)")
    bagging = parser.add_argument_group("bagging")
    bagging.add_argument("--bagging", type=int, metavar="N",
                         help=f"train N members (2 to {MAX_MEMBERS}) on bootstrap resamples, then combine them")
    bagging.add_argument("--bagging-seed", type=int, default=0, metavar="SEED",
                         help="member i resamples the training split with seed SEED + i (default 0)")
    bagging.add_argument("--data", metavar="SOURCE", help="the members' dataset, as for `studio train --data`")
    bagging.add_argument("--runs", metavar="DIR", help="folder for the member and ensemble runs "
                         "(default: the project's runs folder)")
    add_settings(bagging, "epochs", "batch_size")
    parser.set_defaults(func=_ensemble)


def _ensemble(args) -> int:
    if args.bagging is not None:
        return _bagging(args)
    from studio.core import fileio
    from studio.core.data import DataError, load_dataset
    from studio.core.ensemble import EnsembleError, combine, member_scores, save_ensemble_run

    if not args.output and not args.run_dir:
        raise CliError("say where to save the ensemble: -o FILE.keras and/or --run-dir DIR")
    output = _output(args)
    try:
        ensemble = combine(args.members)
        project = ensemble.project
        if project is not None:
            dataset = load_dataset(project.dataset)
            _print_scores(member_scores(ensemble, dataset, args.split), args.split)
        else:
            print("no member is a run folder: no dataset to score on")
        if output is not None:
            _save(ensemble, output)
        if args.run_dir:
            print(f"wrote run folder {save_ensemble_run(ensemble, args.run_dir)}")
    except (EnsembleError, DataError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the ensemble: {exc.strerror or exc}") from None
    return 0


def _bagging(args) -> int:
    from studio.cli.train_cmds import Progress, _overrides, dataset_spec, load_source
    from studio.core.data import DataError
    from studio.core.ensemble import EnsembleError, bagging, combine
    from studio.core.training import TrainingError

    if len(args.members) != 1 or args.run_dir or args.split != "test":
        raise CliError("--bagging trains one project: give one project file or template, and no --run-dir "
                       "or --split (the runs go to --runs, the scores are on the test split)")
    output = _output(args)
    project, runs_root = load_source(args.members[0])
    if args.data:
        project.dataset = dataset_spec(args.data)
    project.training = {**project.training, **_overrides(args)}
    shown: dict[int, Progress] = {}

    def show(number: int, event: dict) -> None:
        if number not in shown:
            if shown:
                shown[number - 1].finish()
            print(f"member {number} of {args.bagging}: bootstrap resample seed {args.bagging_seed + number - 1}",
                  file=sys.stderr)
            shown[number] = Progress(sys.stderr)
        shown[number].show(event)

    try:
        result = bagging(project, args.bagging, Path(args.runs) if args.runs else runs_root, args.bagging_seed, show)
        if shown:
            shown[max(shown)].finish()
        _print_scores(result.scores, "test")
        for number, folder in enumerate(result.members, start=1):
            print(f"member {number} run folder {folder}")
        print(f"wrote run folder {result.run_dir}")
        if output is not None:
            _save(combine(result.members), output)
    except (EnsembleError, DataError, TrainingError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the ensemble: {exc.strerror or exc}") from None
    return 0


def _output(args) -> Path | None:
    output = Path(args.output) if args.output else None
    if output is not None and (output.suffix != ".keras" or not output.parent.is_dir()):
        raise CliError(f"{output} should be a .keras file in an existing folder")
    return output


def _print_scores(scores: list[tuple[str, str, float]], split: str) -> None:
    for label, metric, value in scores:
        print(f"{label:<32s} {split} {metric} {value:.4f}")


def _save(ensemble, output: Path) -> None:
    from studio.core import fileio

    fileio.atomic_replace_with(output, ensemble.model.save)
    print(f"wrote {output} ({len(ensemble.members)} members, {ensemble.model.count_params():,} parameters)")
