"""A throw-away PostgreSQL server for the shared-study test (and .ci/run).

``python tests/core/pg_server.py start DIR`` prints a URL once the server accepts connections;
``stop DIR`` stops it. As root the server runs as the ``postgres`` user (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys


def find_binaries() -> str | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    if shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(shutil.which("pg_ctl")))  # where createdb is too
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(candidates[-1]) if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder: str) -> str:
    """Init a cluster in ``folder``, start it on a free localhost port, create db ``studio``."""
    binaries = find_binaries()
    if binaries is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    data = os.path.join(folder, "data")
    os.makedirs(folder, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
    port = _free_port()
    run = lambda *cmd: subprocess.run(_as_server_user(list(cmd)), check=True, capture_output=True, text=True)
    run(f"{binaries}/initdb", "-D", data, "-U", "postgres", "--auth=trust")
    run(f"{binaries}/pg_ctl", "-D", data, "-l", os.path.join(folder, "log.txt"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    run(f"{binaries}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "studio")
    return f"postgresql://postgres@127.0.0.1:{port}/studio"


def stop(folder: str) -> None:
    binaries = find_binaries()
    if binaries:
        subprocess.run(_as_server_user([f"{binaries}/pg_ctl", "-D", os.path.join(folder, "data"),
                                        "-m", "fast", "stop"]), capture_output=True)


if __name__ == "__main__":
    action, where = sys.argv[1], sys.argv[2]
    print(start(where) if action == "start" else stop(where) or "stopped")
