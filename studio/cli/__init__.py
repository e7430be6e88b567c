"""The ``studio`` command: no arguments launches the desktop app; subcommands work headless.

Each command group lives in its own module exposing ``register(subparsers)``; the module is listed
in ``COMMAND_MODULES`` and sets ``func`` on its parsers, called with the parsed args and returning
the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES = [
    "studio.cli.graph_cmds",
    "studio.cli.data_cmds",
    "studio.cli.train_cmds",
    "studio.cli.inspect_cmds",
    "studio.cli.generative_cmds",
    "studio.cli.text_cmds",
    "studio.cli.export_cmds",
    "studio.cli.runs_cmds",
    "studio.cli.sweep_cmds",
    "studio.cli.doctor_cmds",
    "studio.cli.ensemble_cmds",
    "studio.cli.lesson_cmds",
    "studio.cli.pretrain_cmds",
]


class CliError(Exception):
    """A user-facing failure: printed as one line, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studio",
        description="DL Studio: build, train, inspect and export Keras models. "
        "Run without arguments to open the desktop app.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        from studio.qt.system_libs import platform_problem

        problem = platform_problem()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        from studio.qt.app import run_app

        return run_app()
    for stream in (sys.stdout, sys.stderr):  # a name from a file must never crash a print
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = build_parser().parse_args(argv)
    if not getattr(args, "func", None):
        build_parser().print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
