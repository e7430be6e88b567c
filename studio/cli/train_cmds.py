"""``studio train``: train a project or a template headless, with a progress bar and ETA on stderr.

Ctrl-C asks for a graceful stop (the batch finishes, a checkpoint is saved); a second Ctrl-C
kills the training process (the run can still be resumed with ``--resume``).
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from studio.cli import CliError, fix_text
from studio.cli.options import add_spec_options
from studio.core.data.source_options import DATA_SOURCES
from studio.core.formatting import format_duration, plural
from studio.core.training.config import TRAINING_FIELDS
from studio.core.transfer.attach import FREEZE_HELP

BAR_WIDTH = 24
RESUMABLE = ("killed", "crashed")  # the end line shows how to continue these


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train", help="train a project or template in a separate process",
        description="Train a project file (.dlstudio) or a template (see `studio templates`) on its "
        "dataset. The run folder records events, checkpoints and the final model.")
    parser.add_argument("source", nargs="?", help="project file or template name (optional with --resume)")
    parser.add_argument("--data", metavar="SOURCE",
                        help=f"dataset: a source name ({', '.join(DATA_SOURCES)}; options: `studio data "
                        "info --help`), a dataset spec (JSON file or inline), a project file, a folder of "
                        "class folders, a .csv/.tsv/.txt or .npz file")
    add_settings(parser, "objective", "temperature", "epochs", "batch_size")
    parser.add_argument("--run-dir", metavar="DIR", help="run folder to create (default: runs/<time>-<name>)")
    parser.add_argument("--resume", metavar="RUN", help="continue a stopped, killed or crashed run folder")
    add_settings(parser, "devices", "backend")
    parser.add_argument("--backbone", metavar="RUN|FILE",
                        help="start from a pretrained backbone with a new head for the dataset: a run folder, "
                        "a .keras file, keras:NAME (weights in Keras's cache) or builtin:NAME")
    parser.add_argument("--freeze", default="all", metavar="WHICH",
                        help=f"with --backbone: which backbone layers stay fixed: {FREEZE_HELP} (default all)")
    add_settings(parser, "fine_tune_epochs", "init_from", "mlflow", "mlflow_experiment")
    parser.set_defaults(func=_train)


SETTING_METAVARS = {"devices": "WHERE", "init_from": "RUN", "temperature": "T", "mlflow": "local|URI",
                    "mlflow_experiment": "NAME"}


def add_settings(parser, *names: str) -> None:
    """``--name`` options overriding a project's training settings (see ``add_spec_options``)."""
    specs = {spec.name: spec for spec in TRAINING_FIELDS}
    add_spec_options(parser, [specs[name] for name in names], override=True, metavars=SETTING_METAVARS)
    parser.set_defaults(training_settings=[*(parser.get_default("training_settings") or []), *names])


def dataset_spec(source: str) -> dict:
    """A project ``dataset`` dict from ``--data`` (the rules of ``studio.core.data.paths``)."""
    from studio.core.data import DataError
    from studio.core.data.paths import spec_for_path

    try:
        return spec_for_path(source)
    except DataError as exc:
        raise CliError(str(exc)) from None


def load_source(source: str):
    """``(project, default runs root)`` for a project file or a template name."""
    from studio.core.generative.templates import apply_template
    from studio.core.graph.templates import TemplateError, load_template, template_names
    from studio.core.project import ProjectError, default_project, load_project
    from studio.core.training.runs import default_runs_root

    path = Path(source)
    try:
        if path.exists():
            return load_project(path), default_runs_root(path.resolve())
        if source in template_names():
            project = apply_template(default_project(), load_template(source))
            project.name = source
            return project, default_runs_root(None)
    except (ProjectError, TemplateError) as exc:
        raise CliError(str(exc)) from None
    raise CliError(f"{source}: no such project file or template (see `studio templates`)")


def _overrides(args) -> dict:
    """The training settings given on the command line (those its ``add_settings`` declared)."""
    return {key: getattr(args, key) for key in args.training_settings if getattr(args, key) is not None}


def _make_runner(args):
    from studio.core.training import Runner, new_run_dir, read_run
    from studio.core.training.runs import run_name

    if args.resume:
        if args.source or args.data or args.backbone:
            raise CliError("--resume continues a run with its own project and data: "
                           "drop PROJECT, --data and --backbone")
        run_dir = Path(args.resume)
        from studio.core.rl.runner import is_dqn_run
        from studio.core.training.runs import RunFolder

        if is_dqn_run(RunFolder(run_dir).info()):
            raise CliError(f"{run_dir} is a DQN run: continue it with `studio rl --resume {run_dir}`")
        project = None
        changes = _overrides(args)
        if changes:
            from studio.core.project import ProjectError, load_project
            from studio.core.training import TrainingError

            try:
                project = load_project(run_dir / "project.dlstudio")
                project.training = {**read_run(run_dir).get("config", {}), **changes}
            except (ProjectError, TrainingError) as exc:
                raise CliError(f"cannot resume {run_dir}: {exc}") from None
        return Runner(project, run_dir, resume=True)
    if not args.source:
        raise CliError("give a project file or a template name (or --resume RUN)")
    project, runs_root = load_source(args.source)
    if args.data:
        project.dataset = dataset_spec(args.data)
    if args.backbone:
        from studio.core.data import DataError
        from studio.core.transfer import BackboneError
        from studio.core.transfer.project import attach_backbone

        try:
            attach_backbone(project, args.backbone, args.freeze)
        except (BackboneError, DataError, ValueError) as exc:
            raise CliError(str(exc)) from None
    project.training = {**project.training, **_overrides(args)}  # after attaching: the options win
    owner = args.source if Path(args.source).exists() else None
    run_dir = Path(args.run_dir) if args.run_dir else new_run_dir(runs_root, run_name(project, owner))
    return Runner(project, run_dir)


def _train(args) -> int:
    status, _run_dir = train(args)
    return 0 if status in ("completed", "stopped") else 1


def train(args) -> tuple[str, Path]:
    """Start the run ``args`` describe and show its progress until it ends: (status, run folder)."""
    return follow_run(_make_runner(args))


def follow_run(runner, command: str = "train") -> tuple[str, Path]:
    """Start ``runner`` and show its progress until it ends (Ctrl-C: stop, twice: kill): (status,
    run folder); ``command`` is the one whose ``--resume`` continues a killed run."""
    from studio.core.training import RunWatcher, TrainingError

    try:
        runner.start()
    except TrainingError as exc:
        raise CliError(str(exc)) from None
    for line in (runner.plan.adaptations if runner.plan else []):
        print(f"adapted: {line}", file=sys.stderr)
    print(f"run folder: {runner.run_dir}", file=sys.stderr)
    progress = Progress(sys.stderr)
    watcher = RunWatcher.for_runner(runner)
    while not watcher.ended:
        try:
            for event in watcher.poll(timeout=0.2):
                progress.show(event)
        except KeyboardInterrupt:
            if watcher.state != "stopping":
                print("\nstopping after this batch (Ctrl-C again to kill)...", file=sys.stderr)
                watcher.control("stop")
            else:
                watcher.kill()
    progress.finish()
    print(end_text(watcher.state, progress.warnings, runner.run_dir, command), file=sys.stderr)
    return watcher.state, Path(runner.run_dir)


def end_text(status: str, warnings: int, run_dir, command: str = "train") -> str:
    """The last lines of ``studio train``: the status and the run folder, saying when a completed
    run warned (a diverged loss is no success) and how to continue a killed or crashed run."""
    if warnings and status == "completed":
        status = f"completed with {plural(warnings, 'warning')} (see above)"
    text = f"{status}: {run_dir}"
    if status in RESUMABLE:
        text += f"\ncontinue it with: studio {command} --resume {shlex.quote(str(run_dir))}"
    return text


def format_logs(logs: dict) -> str:
    return "  ".join(f"{key} {value:.4g}" for key, value in logs.items() if isinstance(value, (int, float)))


class Progress:
    """Renders events: a redrawn bar with ETA on a terminal, one line per epoch otherwise."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.epochs = 0
        self.warnings = 0
        self._bar_shown = False

    def _line(self, text: str) -> None:
        if self._bar_shown:
            self.stream.write("\r\033[K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def show(self, event: dict) -> None:
        kind = event["type"]
        if kind == "start":
            self.epochs = event.get("epochs", 0)
            device = event.get("device", {})
            where = ", ".join(gpu["name"] for gpu in device.get("gpus", [])) or "CPU"
            backend = device.get("backend", "tensorflow")
            self._line(f"training on {where} with {backend} ({event.get('compile_mode')} mode), {plural(self.epochs, 'epoch')} of "
                       f"{plural(event.get('steps_per_epoch') or 0, 'step')}" + (" (resumed)" if event.get("resumed") else ""))
            for note in event.get("notes", []):
                self._line(f"note: {note}")
        elif kind == "batch" and self.tty:
            done = event["step"] / max(1, event["steps"])
            filled = int(BAR_WIDTH * done)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            loss = event["logs"].get("loss")
            self.stream.write(
                f"\r\033[Kepoch {event['epoch']}/{self.epochs} [{bar}] {event['step']}/{event['steps']}"
                + (f"  loss {loss:.4g}" if loss is not None else "")
                + f"  {event['samples_per_s']:.0f} samples/s  ETA {format_duration(event['eta_s'])}")
            self.stream.flush()
            self._bar_shown = True
        elif kind == "epoch":
            self._line(f"epoch {event['epoch']}/{self.epochs}  {format_logs(event['logs'])}  "
                       f"({event['duration_s']:.1f}s)")
        elif kind == "phase":
            self._line(f"epoch {event['epoch']}: fine-tuning the backbone at learning rate {event['learning_rate']:g} "
                       f"({event['trainable_params']:,} trainable weights)")
        elif kind in ("pause", "resume"):
            self._line(f"{kind}d at epoch {event['epoch']}, step {event['step']}")
        elif kind == "stop":
            where = f"at epoch {event['epoch']}" if event.get("epoch") else "before the first batch"
            self._line(f"stopped ({event['reason'].replace('_', ' ')}) {where}")
        elif kind == "error":
            fix = fix_text(event.get("fixes", []))
            self._line(f"error ({event['kind']}): {event['message']}" + (f": {fix}" if fix else ""))
        elif kind == "warning":
            self.warnings += 1
            self._line(f"warning: epoch {event.get('epoch')}: {event.get('message', '')}")

    def finish(self) -> None:
        if self._bar_shown:
            self.stream.write("\n")
            self.stream.flush()
