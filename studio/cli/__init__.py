"""The ``studio`` command: no arguments launches the desktop app; subcommands work headless.

Each command group lives in its own module exposing ``register(subparsers)``; the module is listed
in ``COMMAND_MODULES`` with the commands it registers and sets ``func`` on its parsers, called with
the parsed args and returning the exit code. A command imports only its own module (some load
numpy or the dataset catalog to describe their options), so ``studio runs`` starts in a blink.
The log goes to stderr: warnings, and with ``--verbose`` the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from studio.core.logs import is_expected, log_to_stderr

logger = logging.getLogger(__name__)

COMMAND_MODULES = {  # module: the commands it registers, in the order of `studio --help`
    "studio.cli.graph_cmds": ("summary", "validate", "templates"),
    "studio.cli.data_cmds": ("data",),
    "studio.cli.train_cmds": ("train",),
    "studio.cli.inspect_cmds": ("evaluate", "featuremaps", "boundary"),
    "studio.cli.generative_cmds": ("sample",),
    "studio.cli.text_cmds": ("generate", "attention"),
    "studio.cli.export_cmds": ("export",),
    "studio.cli.runs_cmds": ("runs", "compare"),
    "studio.cli.sweep_cmds": ("variants", "sweep"),
    "studio.cli.doctor_cmds": ("doctor",),
    "studio.cli.ensemble_cmds": ("ensemble",),
    "studio.cli.lesson_cmds": ("lesson",),
    "studio.cli.pretrain_cmds": ("pretrain",),
    "studio.cli.rl_cmds": ("rl",),
    "studio.cli.report_cmds": ("report",),
    "studio.cli.shortcut_cmds": ("shortcut",),
}


PROJECT_SUFFIX = ".dlstudio"  # `studio PROJECT.dlstudio` opens it in the app (the launcher's %f)


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 2."""


def fix_text(fixes: list) -> str:
    """Settings that would work (``[[setting, value], ...]`` from a core error) as the flags that
    set them: "use --devices cpu or --devices auto" ('' for none)."""
    flags = [f"--{setting.replace('_', '-')} {value}" for setting, value in fixes]
    return f"use {' or '.join(flags)}" if flags else ""


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` only (its module alone is imported)."""
    parser = argparse.ArgumentParser(
        prog="studio",
        description="DL Studio: build, train, inspect and export Keras models. "
        "Run without arguments to open the desktop app.",
    )
    parser.add_argument("--verbose", action="store_true",
                        help="log more, and print the traceback of an unexpected error")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, commands in COMMAND_MODULES.items():
        if command is None or command in commands:
            importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    from studio.core.features import load_features

    load_features()  # what features add to runs (imported when a run is planned or built)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (len(argv) == 1 and argv[0].lower().endswith(PROJECT_SUFFIX)):  # the app, maybe with a project
        from studio.qt.system_libs import platform_problem

        problem = platform_problem()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        from studio.qt.app import run_app

        return run_app([sys.argv[0], *argv])
    for stream in (sys.stdout, sys.stderr):  # a name from a file must never crash a print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    command = next((arg for arg in argv if not arg.startswith("-")), None)
    known = any(command in commands for commands in COMMAND_MODULES.values())
    args = build_parser(command if known else None).parse_args(argv)  # --help, typos: every command
    if not getattr(args, "func", None):
        build_parser().print_help()
        return 2
    log_to_stderr(args.verbose)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every failure ends as one line (and a code), never a crash
        return _failed(exc, args.verbose)


def _failed(exc: Exception, verbose: bool) -> int:
    """Say why the command failed: our own errors (CliError, bad input) in one line, exit code 2;
    an unexpected error in one line too, with its traceback logged only under ``--verbose``."""
    if is_expected(exc):
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if verbose:
        logger.error("unexpected error", exc_info=exc)
    hint = "" if verbose else " (run again with --verbose for the traceback)"
    print(f"error: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
    return 1
