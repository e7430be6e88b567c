"""Engine ÷ plain ``model.fit`` on a GPU, per backend (JAX, PyTorch), on synthetic data.

Cases (issue 15): small_cnn_32 (batch 256, fp32), resnet18 32x32 (256, fp32 and bf16), resnet50
224x224 (128, bf16). Each case and backend runs in its own process (``KERAS_BACKEND`` is fixed per
process): plain Keras compiles and fits the template's model on the synthetic arrays for two epochs,
then the engine (``Runner``, with its events, probes, checkpoints) trains the same project; the
second epoch of each is the measured one (the first compiles). PyTorch tries ``torch.compile`` and
eager in the plain fit and the engine uses the faster (recorded as a ``doctor --bench``
measurement). Needs no TensorFlow; ≤ 8 minutes on one GPU. Prints absolute samples/s and the ratio
engine ÷ plain (target >= 0.95); the compile column ends with the engine's steps per execution.

Usage: ``python benchmarks/bench_gpu.py [--quick] [--backends jax torch] [--cases resnet18_bf16]``
(``--quick``: tiny sizes, to check the script on a CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# name: (template, batch, mixed bf16, training samples)
CASES = {
    "small_cnn_32": ("small_cnn_32", 256, False, 256 * 60),
    "resnet18_fp32": ("resnet18", 256, False, 256 * 30),
    "resnet18_bf16": ("resnet18", 256, True, 256 * 30),
    "resnet50_bf16": ("resnet50", 128, True, 128 * 20),
}
QUICK = {"small_cnn_32": 16, "resnet18_fp32": 8, "resnet18_bf16": 8, "resnet50_bf16": 2}  # batch
BUDGET_S = 8 * 60
ISSUE_H200 = {("small_cnn_32", "jax"): 144_143, ("resnet18_fp32", "jax"): 25_957,
              ("resnet18_bf16", "jax"): 38_347, ("resnet50_bf16", "jax"): 4_675,
              ("resnet18_fp32", "torch"): 5_175, ("resnet50_bf16", "torch"): 542}  # plain fit, issue 15


def make_project(case: str, folder: Path, quick: bool):
    """A project of the case's template on a synthetic .npz (written once per process)."""
    import numpy as np

    from studio.core.graph.templates import load_template
    from studio.core.project import default_project

    template, batch, bf16, samples = CASES[case]
    if quick:
        batch, samples = QUICK[case], QUICK[case] * 3
    graph = load_template(template).graph
    shape = next(iter(graph.nodes.values())).params["shape"]
    if quick and shape[0] > 32:  # resnet50 at 32x32: still its compile, but seconds per epoch
        shape = [32, 32, shape[2]]
        next(iter(graph.nodes.values())).params["shape"] = shape
    classes = 3 if quick else 10  # two would make a binary task (one output unit)
    total = max(int(samples / 0.9) + 2, 40 * classes)  # every class in every split
    rng = np.random.default_rng(0)
    path = folder / f"{case}.npz"
    np.savez(path, x=rng.random((total, *shape), dtype=np.float32), y=np.arange(total) % classes)
    project = default_project()
    project.name, project.graph = case, graph
    project.dataset = {"source": "npz", "path": str(path), "normalize": "none", "seed": 0,
                       "split": {"train": 0.9, "val": 0.05, "test": 0.05}}
    project.training = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": batch, "epochs": 2,
                        "seed": 0, "mixed_precision": bf16, "backend": os.environ["KERAS_BACKEND"],
                        "devices": "auto"}
    return project


def plain_fit(plan, jit_compile, policy: str) -> float:
    """Samples/s of the second epoch of plain ``compile`` + ``fit(verbose=0)``."""
    from bench_training import run_plain

    plain = run_plain(plan, jit_compile, policy, epochs=2)
    return plain["samples"] / plain["epoch_s"][-1]


def engine_fit(project, run_dir: Path) -> tuple[float, dict]:
    """Samples/s of the engine's second epoch, and the run's device facts."""
    from studio.core.training import Runner

    runner = Runner(project, run_dir)
    runner.start()
    events = []
    while not runner.finished:
        events.extend(runner.poll(timeout=0.05))
    if events[-1].get("status") != "completed":
        raise SystemExit(f"engine run failed: {[e.get('message') for e in events if e['type'] == 'error']}")
    epoch = [e for e in events if e["type"] == "epoch"][-1]
    info = json.loads((run_dir / "run.json").read_text())
    samples = info["dataset"]["samples"]["train"]  # as plain fit counts them (the last batch is smaller)
    return samples / epoch["duration_s"], {**info.get("device", {}),
                                           "steps_per_execution": info.get("steps_per_execution", 1)}


def child(case: str, quick: bool) -> dict:
    """One case on this process's backend: plain fit (each compile mode worth trying), then the engine."""
    import keras

    from studio.core.backends import adapter
    from studio.core.backends.measurements import project_signature, record
    from studio.core.training import plan_run
    from studio.core.backends.devices import precision_policy

    backend = keras.backend.backend()
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        project = make_project(case, Path(tmp), quick)
        gpus = adapter().list_gpus()
        policy = precision_policy(gpus) if project.training["mixed_precision"] and gpus else "float32"
        plan = plan_run(project)
        modes = [True] if backend == "jax" else ([False, True] if gpus else [False])  # compile: GPUs only
        plain = {mode: plain_fit(plan, mode, policy) for mode in modes}
        best = max(plain, key=plain.get)
        record(project_signature(project), [{"backend": backend, "jit_compile": best,
                                             "samples_per_s": plain[best]}])
        engine, device = engine_fit(project, Path(tmp) / "run")
    return {"case": case, "backend": backend, "plain": plain[best], "compile": best, "engine": engine,
            "precision": device.get("precision"),
            "compile_mode": f"{device.get('compile_mode')} x{device['steps_per_execution']}",
            "device": (device.get("gpus") or [{"name": "CPU"}])[0]["name"], "all_plain": plain}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the script on a CPU")
    parser.add_argument("--backends", nargs="+", default=["jax", "torch"], choices=("jax", "torch", "tensorflow"))
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--child", choices=list(CASES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.quick)))
        return

    from studio.core import backends

    began = time.time()
    print(f"{'case':14} {'backend':8} {'device':22} {'precision':15} {'compile':14} "
          f"{'plain samples/s':>15} {'engine samples/s':>16} {'engine/plain':>12} {'issue H200 fit':>14}")
    with tempfile.TemporaryDirectory(prefix="bench-gpu-cache-") as cache:
        for backend in args.backends:
            if not backends.installed(backend):
                print(f"{'-':14} {backend:8} not installed")
                continue
            for case in args.cases:
                left = BUDGET_S - (time.time() - began)
                if left < 30:
                    print(f"{case:14} {backend:8} skipped: the {BUDGET_S // 60}-minute budget is spent")
                    continue
                env = {**os.environ, "KERAS_BACKEND": backend, "STUDIO_CACHE_DIR": cache}
                command = [sys.executable, __file__, "--child", case] + (["--quick"] if args.quick else [])
                try:
                    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=left)
                    row = json.loads(done.stdout.strip().splitlines()[-1])
                except subprocess.TimeoutExpired:
                    print(f"{case:14} {backend:8} timed out")
                    continue
                except (ValueError, IndexError):
                    print(f"{case:14} {backend:8} failed: {(done.stderr.strip().splitlines() or ['?'])[-1][:200]}")
                    continue
                issue = ISSUE_H200.get((case, backend))
                print(f"{case:14} {backend:8} {row['device'][:22]:22} {row['precision']:15} "
                      f"{row['compile_mode']:14} {row['plain']:15,.0f} {row['engine']:16,.0f} "
                      f"{row['engine'] / row['plain']:12.2f} {f'{issue:,}' if issue else '—':>14}", flush=True)
    print(f"\n{time.time() - began:.0f} s in all (budget {BUDGET_S} s); target engine/plain >= 0.95")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    main()
