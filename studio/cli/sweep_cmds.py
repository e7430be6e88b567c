"""``studio variants`` (the grid over a few settings' values, trained one after another) and ``studio sweep``
(Optuna search over a space of settings; ``studio sweep best`` saves the best trial as a project).

SIGTERM (CTRL_BREAK on Windows) stops a sweep gracefully: no new trial starts, the running ones
stop at their next batch and are queued again for the next start (as the Sweep panel stops its
sweep process, which runs ``studio.core.experiments.sweep.run_sweep``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from studio.cli import CliError

RESULT_COLUMNS = ["name", "status", "epochs", "duration_s", "last.loss", "last.val_loss", "last.accuracy",
                  "last.val_accuracy"]


def register(subparsers) -> None:
    variants = subparsers.add_parser(
        "variants", help="train variants of a project that differ in a few settings and compare them",
        description="Copies the project once per point of the grid over the given values, trains each copy "
        "as a normal run (one after another) and prints the comparison table. A setting is any key of a "
        "sweep's search space: a training setting (learning_rate, optimizer, batch_size, ...), LAYER.PARAM "
        "(dense_1.units), or one of the whole graph: activation (every hidden layer that has one), "
        "initializer, batchnorm (on/off after each conv/dense), dropout (rate; 0 removes it).")
    variants.add_argument("project", help="project file or template name")
    variants.add_argument("--vary", required=True, action="append", metavar="KEY=V1,V2",
                          help="e.g. activation=relu,sigmoid or learning_rate=0.1,0.01 (repeat it for a grid "
                          "over several settings)")
    _common(variants)
    variants.set_defaults(func=_variants)

    sweep = subparsers.add_parser(
        "sweep", help="hyperparameter search on Optuna (each trial a normal run)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="studio sweep PROJECT --space SPACE.json [--trials N] [--sampler grid|random|tpe] "
        "[--workers K] [--storage URL]\nstudio sweep best PROJECT -o BEST.dlstudio [--storage URL]\n\n"
        "SPACE.json maps settings to {\"choices\": [...]} or {\"low\": a, \"high\": b, \"log\": true, "
        "\"step\": s}:\ntraining settings (learning_rate, batch_size, optimizer, ...), settings of the whole graph "
        "(activation, initializer,\nbatchnorm, dropout) or LAYER.PARAM (dense_1.units).\nThe study is stored beside the project (<name>.sweep.sqlite) unless --storage "
        "names another\n(postgresql://user:pass@host/db shares it between machines). Run the same "
        "command again to resume it.")
    sweep.add_argument("words", nargs="+", metavar="PROJECT | best PROJECT")
    sweep.add_argument("--space", metavar="SPACE.json", help="the search space (JSON file)")
    sweep.add_argument("--trials", type=int, default=10, metavar="N", help="trials in the study (default 10)")
    sweep.add_argument("--sampler", default="tpe", help="grid, random or tpe (default)")
    sweep.add_argument("--workers", type=int, default=1, metavar="K", help="trials trained at once here")
    sweep.add_argument("--storage", metavar="URL", help="Optuna storage URL (default: SQLite beside the project)")
    sweep.add_argument("--study", metavar="NAME", help="study name (default: the project's name)")
    sweep.add_argument("--monitor", metavar="METRIC", help="value to optimise (default: the project's "
                       "early-stopping monitor, val_loss)")
    sweep.add_argument("--no-prune", action="store_true", help="never stop trials early")
    sweep.add_argument("-o", "--output", metavar="PATH", help="with best: project file to write")
    _common(sweep)
    sweep.set_defaults(func=_sweep)


def _common(parser) -> None:
    from studio.cli.train_cmds import add_settings

    parser.add_argument("--data", metavar="SOURCE", help="dataset, as for studio train")
    add_settings(parser, "epochs")
    parser.add_argument("--runs-dir", metavar="DIR", help="where the run folders go (default: runs/ beside the project)")


def _load(args):
    from studio.cli.options import checked_values
    from studio.cli.train_cmds import dataset_spec, load_source
    from studio.core.training.config import TRAINING_FIELDS

    project, runs_root = load_source(args.project)
    if args.data:
        project.dataset = dataset_spec(args.data)
    if args.epochs is not None:
        project.training = {**project.training,
                            **checked_values(args, [spec for spec in TRAINING_FIELDS if spec.name == "epochs"])}
    return project, Path(args.runs_dir) if args.runs_dir else runs_root


def _print_table(run_dirs: list[Path], extra: list[str] = ()) -> None:
    from studio.core.experiments.summary import run_row
    from studio.core.experiments.table import build_table, render_text

    rows = [run_row(path) for path in run_dirs if path.exists()]
    available = {c for row in rows for c in build_table([row], ["all"])[0]}
    columns = [c for c in RESULT_COLUMNS + list(extra) if c in available or c in ("name", "status")]
    chosen, flat = build_table(rows, list(dict.fromkeys(columns)))
    print(render_text(chosen, flat))


def _variants(args) -> int:
    from studio.core.experiments.variants import VariantError, make_variants, parse_vary
    from studio.core.training import Runner, RunWatcher, TrainingError, new_run_dir

    project, runs_root = _load(args)
    try:
        space = {key: entry for text in args.vary for key, entry in parse_vary(text, project).items()}
        variants = make_variants(project, space)
    except VariantError as exc:
        raise CliError(str(exc)) from None
    run_dirs = []
    for index, (label, variant) in enumerate(variants, 1):
        run_dir = new_run_dir(runs_root, variant.name)
        runner = Runner(variant, run_dir)
        try:
            runner.start()
        except TrainingError as exc:
            print(f"[{index}/{len(variants)}] {label}: not started: {exc}", file=sys.stderr)
            continue
        run_dirs.append(run_dir)
        print(f"[{index}/{len(variants)}] {label}: {run_dir}", file=sys.stderr)
        watcher = RunWatcher.for_runner(runner)
        try:
            while not watcher.ended:
                for event in watcher.poll(timeout=0.2):
                    if event["type"] == "epoch":
                        logs = "  ".join(f"{k} {v:.4g}" for k, v in event["logs"].items()
                                         if isinstance(v, (int, float)))
                        print(f"  epoch {event['epoch']}  {logs}", file=sys.stderr)
        except KeyboardInterrupt:
            watcher.kill()
            raise
        print(f"  {watcher.state}", file=sys.stderr)
    _print_table(run_dirs)
    return 0 if run_dirs else 1


def _settings(args):
    from studio.core.experiments.sweep import SweepSettings

    return SweepSettings(trials=args.trials, sampler=args.sampler, workers=args.workers, storage=args.storage,
                         study_name=args.study, monitor=args.monitor, prune=not args.no_prune)


def _sweep(args) -> int:
    from studio.core.experiments.space import SpaceError, load_space
    from studio.core.experiments.sweep import Sweep, SweepError, graceful_stop, importances, trials_table
    from studio.core.experiments.table import cell

    if args.words[0] == "best":
        return _best(args)
    if len(args.words) != 1:
        raise CliError("usage: studio sweep PROJECT --space SPACE.json (or: studio sweep best PROJECT -o PATH)")
    if not args.space:
        raise CliError("give the search space: --space SPACE.json")
    args.project = args.words[0]
    project, runs_root = _load(args)
    try:
        dims = load_space(args.space, project)
        sweep = Sweep(project, dims, _settings(args), args.project, runs_root, on_event=_report)
        print(f"study {sweep.study_name} in {_redacted(sweep.storage_url)}, optimising {sweep.monitor} "
              f"({sweep.direction})", file=sys.stderr)
        with graceful_stop(sweep):
            study = sweep.run()
    except (SpaceError, SweepError) as exc:
        raise CliError(str(exc)) from None
    rows = trials_table(study)
    columns = list(dict.fromkeys(key for row in rows for key in row if key != "run"))
    widths = {c: max(len(c), *(len(cell(c, row.get(c))) for row in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns).rstrip())
    for row in rows:
        print("  ".join(cell(c, row.get(c)).ljust(widths[c]) for c in columns).rstrip())
    found = importances(study)
    if found:
        print("importances: " + ", ".join(f"{name} {value:.2f}" for name, value in found.items()))
    done = [row for row in rows if row["state"] == "complete"]
    if done:
        best = study.best_trial
        print(f"best: trial {best.number}  {sweep.monitor} {best.value:.4g}  "
              + "  ".join(f"{k}={v}" for k, v in best.params.items()))
    return 0


def _redacted(url: str) -> str:
    from studio.core.experiments.sweep import redact

    return redact(url)


def _report(kind: str, data: dict) -> None:
    from studio.core.experiments.sweep import event_line

    print(event_line(kind, data), file=sys.stderr)


def _best(args) -> int:
    from studio.cli.train_cmds import load_source
    from studio.core.experiments.sweep import SweepError, best_project, default_storage, default_study_name, load_study
    from studio.core.project import save_project

    if len(args.words) != 2 or not args.output:
        raise CliError("usage: studio sweep best PROJECT -o BEST.dlstudio [--storage URL] [--study NAME]")
    project, _ = load_source(args.words[1])
    storage = args.storage or default_storage(args.words[1])
    name = args.study or default_study_name(project)
    try:
        best = best_project(load_study(storage, name), project)
    except SweepError as exc:
        raise CliError(str(exc)) from None
    best.name = f"{project.name}-best"
    try:
        save_project(best, args.output)
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    print(f"best trial saved as {args.output}")
    return 0
