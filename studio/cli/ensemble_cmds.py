"""``studio ensemble``: average finished runs into one model, scored beside its members."""

from __future__ import annotations

from pathlib import Path

from studio.cli import CliError


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "ensemble", help="average the outputs of several runs (or .keras files) into one model",
        description="Combine runs with the same input and output into one model with an Average node "
        "(every member loaded in safe mode), print its test score beside each member's, and save it.")
    parser.add_argument("members", nargs="+", metavar="RUN", help="run folders or .keras files (2 or more)")
    parser.add_argument("-o", "--output", help="the .keras file to write")
    parser.add_argument("--run-dir", metavar="DIR",
                        help="also (or instead) write a finished run folder, for `studio export` and the app")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"),
                        help="split of the first member run's dataset to score on (default test)")
    parser.set_defaults(func=_ensemble)


def _ensemble(args) -> int:
    from studio.core import fileio
    from studio.core.data import DataError, load_dataset
    from studio.core.ensemble import EnsembleError, combine, member_scores, save_ensemble_run

    if not args.output and not args.run_dir:
        raise CliError("say where to save the ensemble: -o FILE.keras and/or --run-dir DIR")
    output = Path(args.output) if args.output else None
    if output is not None and (output.suffix != ".keras" or not output.parent.is_dir()):
        raise CliError(f"{output} should be a .keras file in an existing folder")
    try:
        ensemble = combine(args.members)
        project = ensemble.project
        if project is not None:
            dataset = load_dataset(project.dataset)
            for label, metric, value in member_scores(ensemble, dataset, args.split):
                print(f"{label:<32s} {args.split} {metric} {value:.4f}")
        else:
            print("no member is a run folder: no dataset to score on")
        if output is not None:
            fileio.atomic_replace_with(output, ensemble.model.save)
            print(f"wrote {output} ({len(ensemble.members)} members, {ensemble.model.count_params():,} parameters)")
        if args.run_dir:
            print(f"wrote run folder {save_ensemble_run(ensemble, args.run_dir)}")
    except (EnsembleError, DataError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write the ensemble: {exc.strerror or exc}") from None
    return 0
