"""The ``studio`` command builds only the parser of the command asked for, so a light command
(``studio runs``) never imports what heavy ones need to describe their options (the dataset
catalog, the exporters, the training options)."""

import argparse
import importlib
import subprocess
import sys
from pathlib import Path

from studio.cli import COMMAND_MODULES, build_parser

ROOT = Path(__file__).resolve().parents[2]


def test_each_command_module_registers_the_commands_declared_for_it():
    for name, commands in COMMAND_MODULES.items():
        subparsers = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(subparsers)
        assert tuple(subparsers.choices) == commands, name
    every = [command for commands in COMMAND_MODULES.values() for command in commands]
    assert list(build_parser()._subparsers._group_actions[0].choices) == every


def test_studio_runs_starts_without_the_other_commands_modules(tmp_path):
    code = ("import sys; from studio.cli import main; code = main(['runs', sys.argv[1]]); "
            "print(sorted(m for m in sys.modules if m.startswith(('studio.core.data', 'studio.core.export', 'studio.cli.')))); "
            "sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['studio.cli.runs_cmds']"


def test_help_lists_every_command(capsys):
    import pytest

    from studio.cli import COMMAND_MODULES, main

    with pytest.raises(SystemExit):
        main(["--help"])
    listed = capsys.readouterr().out
    assert all(f"    {command} " in listed or f"    {command}\n" in listed
               for commands in COMMAND_MODULES.values() for command in commands)
