"""Two JAX processes on localhost (CPU collectives through ``jax.distributed``) train to the same
losses as one process on the same global batches (issue 15, "beyond one machine")."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import backends

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("jax_cluster_worker.py")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not backends.installed("jax"), reason="jax is not installed")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(env: dict) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    return subprocess.Popen([sys.executable, str(WORKER)], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_match_one_process_on_the_same_global_batch():
    cpu2 = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "STUDIO_DEVICES": "cpu:2"}
    single = result(start(cpu2))
    address = f"127.0.0.1:{free_port()}"
    workers = [start({**cpu2, "JAX_COORDINATOR_ADDRESS": address, "JAX_NUM_PROCESSES": "2",
                      "JAX_PROCESS_ID": str(index)}) for index in range(2)]
    pair = [result(worker) for worker in workers]

    assert single["replicas"] == 2 and single["local_rows"] == 16
    for worker in pair:  # one mesh of 4 CPU devices, each process feeding half of every batch
        assert worker["replicas"] == 4 and worker["strategy"] == "DataParallel" and worker["local_rows"] == 8
        assert worker["losses"] == pytest.approx(single["losses"], abs=1e-5)
    assert single["losses"][-1] < single["losses"][0]  # it trained: the comparison is not of constants
