"""Test helpers for work in fresh Python processes. Each start imports Keras and its backend anew
and each exit tears them down (seconds apiece), so a test runs all its commands in one process and
that process skips the interpreter's shutdown once its results are out."""

import json
import subprocess
import sys

# Last lines of a child's script: its output is complete, so skip the slow teardown of the backend.
QUICK_EXIT = "\nimport os as _os, sys as _sys\n_sys.stdout.flush(); _sys.stderr.flush(); _os._exit(0)\n"

COMMANDS = """
import contextlib, io, json, sys
from studio.cli import main
outputs = []
for args in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()) as out:
        code = main(args)
    if code != 0:
        sys.exit(f"studio {' '.join(args)} ended with code {code}")
    outputs.append(out.getvalue())
print(json.dumps(outputs))
"""


def run_commands(commands, env: dict, cwd, prelude: str = "", timeout: float = 400) -> list[str]:
    """Run ``commands`` (argument lists for ``studio``) after ``prelude`` (Python code) in one process
    with ``env``; the standard output of each. Fails the test at the first command that fails."""
    arguments = json.dumps([list(map(str, args)) for args in commands])
    done = subprocess.run([sys.executable, "-c", prelude + COMMANDS + QUICK_EXIT, arguments], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
