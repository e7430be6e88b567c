"""Measured backend speed on this machine, per model: ``studio doctor --bench`` writes it, ``auto``
reads it.

``bench(project)`` trains the project's model for a few seconds on each usable backend, each in
its own process (``python -m studio.core.backends.measure``), on synthetic data of the model's
input shape. Results are stored per machine and model signature (``measurements``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from studio.core.backends.measurements import project_signature, record

BENCH_SECONDS = 10.0


def bench(project, batch_size: int, seconds: float = BENCH_SECONDS, names=None,
          progress=None) -> list[dict[str, Any]]:
    """Train ``project``'s model for about ``seconds`` in all on each usable backend (each in its
    own process, synthetic data, batches of ``batch_size``: the project's); record and return the
    results.

    Args:
        project: a supervised project.
        batch_size: the batch size to measure with.
        seconds: the time for all backends together, shared equally.
        names: the backends to try (default all); those not installed are skipped.
        progress: called with a short text before each backend, or None.

    Returns:
        One dict per backend and compile mode measured (``backend``, ``jit_compile``,
        ``samples_per_s``, ``batch_size``, ``device``, ``precision``), or per backend that failed
        (``samples_per_s`` None and an ``error``). They are also recorded for ``resolve``'s ``auto``.

    Raises:
        ValueError: a generative project.
    """
    import tempfile

    from studio.core.backends import BACKENDS, TITLES, installed
    from studio.core.project import save_project

    if getattr(project, "generative", None):
        raise ValueError("the backend benchmark measures supervised models; a generative project "
                         "trains with the default backend order")
    names = [name for name in (names or BACKENDS) if installed(name)]
    results = []
    with tempfile.TemporaryDirectory(prefix="studio-bench-") as folder:
        path = Path(folder) / "project.dlstudio"
        save_project(project, path)
        for name in names:
            if progress:
                progress(f"measuring {TITLES[name]}...")
            results.extend(_bench_one(name, path, seconds / max(1, len(names)), batch_size))
    record(project_signature(project), results)
    return results


def _bench_one(name: str, project_file: Path, seconds: float, batch_size: int) -> list[dict[str, Any]]:
    from studio.core import processes

    try:
        done = processes.run(processes.module("studio.core.backends.measure", project_file, seconds, batch_size),
                             env={"KERAS_BACKEND": name, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=seconds * 4 + 180)
        return json.loads(done.stdout.strip().splitlines()[-1])
    except subprocess.TimeoutExpired:
        return [{"backend": name, "samples_per_s": None, "error": "timed out"}]
    except (ValueError, IndexError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return [{"backend": name, "samples_per_s": None, "error": last[:300]}]


def measure_here(project_file: str, seconds: float, batch: int) -> list[dict[str, Any]]:
    """In a benchmark process: samples/s of the project's model on this process's backend, for
    each compile mode worth trying here (compiled and not, on GPUs)."""
    import keras
    import numpy as np

    from studio.core.backends import adapter
    from studio.core.graph.keras_io import to_keras
    from studio.core.project import load_project
    project = load_project(project_file)
    backend = keras.backend.backend()
    on_gpu = bool(adapter().list_gpus())
    if (project.training or {}).get("mixed_precision") and on_gpu:
        from studio.core.backends.devices import precision_policy

        keras.mixed_precision.set_global_policy(precision_policy(adapter().list_gpus()))
    modes = {"tensorflow": [False, True] if on_gpu else [False], "jax": [True],
             "torch": [False, True] if on_gpu else [False]}[backend]
    results = []
    for jit in modes:
        keras.utils.set_random_seed(0)
        model = to_keras(project.graph)
        units = int(model.outputs[0].shape[-1])
        shape = (batch * 8, *model.inputs[0].shape[1:])
        rng = np.random.default_rng(0)
        x = rng.normal(size=shape).astype("float32")
        y = rng.integers(0, units, len(x)) if units > 1 else rng.normal(size=(len(x), 1)).astype("float32")
        loss = "sparse_categorical_crossentropy" if units > 1 else "mse"
        model.compile(optimizer="adam", loss=loss, jit_compile=jit)
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)  # compile and warm up
        samples, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds / len(modes) or samples == 0:
            model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
            samples += len(x)
        rate = samples / (time.perf_counter() - start)
        results.append({"backend": backend, "jit_compile": jit, "samples_per_s": rate, "batch_size": batch,
                        "device": "gpu" if on_gpu else "cpu", "precision": keras.mixed_precision.global_policy().name})
    return results


if __name__ == "__main__":
    print(json.dumps(measure_here(sys.argv[1], float(sys.argv[2]), int(sys.argv[3]))))
