"""Training engine vs plain ``model.fit(verbose=0)`` on the same model and data, measured in one run.

For each case the engine trains through a ``Runner`` (child process, events on, gradient norms
every 50 steps, checkpoints and backups every epoch) and plain Keras trains the same graph on the
same numpy arrays in this process, once with Keras' default compile mode and once with
``jit_compile=False``. Printed per case:

- total ratio: plain fit wall time / engine time from its ``start`` to its ``end`` event
  (both include tracing/compiling, validation; the engine also its checkpoints) - target >= 1.0;
- steady ratio: the same for the median epoch after the first (training speed once compiled);
- epoch-end event latency: arrival at the caller minus the event's time - target <= 200 ms.

``--backends tensorflow jax torch`` instead prints one table of the installed backends side by
side: per backend the engine (``backend`` setting) and plain ``fit`` in a fresh process with that
``KERAS_BACKEND``, steady epoch ratio engine ÷ plain (target >= 0.95).

Like with like: same graph, batch size, optimizer, float32, Keras' default compile mode (the
engine's on CPU), validation every epoch on both, both shuffle every epoch. The engine keeps what
a real run does: events, gradient norms, checkpoints, backups, TensorFlow op determinism, and its
own choice of ``steps_per_execution`` (build.py; plain fit runs one step per call). On a shared
machine epochs vary by tens of percent: use ``--epochs 5`` or more and repeat before concluding.

Usage: ``python benchmarks/bench_training.py [--cases small_cnn_28 resnet18] [--epochs 3]
[--backends jax torch]`` (a few minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

CASES = {
    "small_cnn_28": {"template": "small_cnn_28", "dataset": {"source": "digits", "seed": 0},
                     "batch_size": 32},
    "resnet18": {"template": "resnet18",
                 "dataset": {"source": "shapes", "image_size": 32, "colour": True, "count": 300,
                             "seed": 0},
                 "batch_size": 16},
}


def make_project(case: dict, epochs: int):
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project

    project = default_project()
    project.name = case["template"]
    project.graph = load_template(case["template"]).graph
    project.dataset = dict(case["dataset"])
    project.training = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": case["batch_size"],
                        "epochs": epochs, "seed": 0, "grad_norm_every": 50}
    return project


def run_engine(project, run_dir: Path) -> dict:
    """Train with the engine; return total time, epoch durations, latencies and steps."""
    from studio.core.training import Runner

    runner = Runner(project, run_dir)
    runner.start()
    events = []
    while not runner.finished:
        for event in runner.poll(timeout=0.05):
            event["received"] = time.time()
            events.append(event)
    start = next(e for e in events if e["type"] == "start")
    end = events[-1]
    if end["status"] != "completed":
        errors = [e["message"] for e in events if e["type"] == "error"]
        raise SystemExit(f"engine run {end['status']}: {errors}")
    epochs = [e for e in events if e["type"] == "epoch"]
    return {
        "total_s": end["time"] - start["time"],
        "epoch_s": [e["duration_s"] for e in epochs],
        "latency_ms": [1000 * (e["received"] - e["time"]) for e in epochs],
        "grad_norm_events": sum(e["type"] == "grad_norms" for e in events),
        "steps": start["steps_per_epoch"],
        "compile_mode": start["compile_mode"],
        "steps_per_execution": start.get("steps_per_execution", 1),
    }


def run_plain(plan, jit_compile, policy: str = "float32", epochs: int | None = None) -> dict:
    """Plain Keras on the same (adapted) graph and numpy arrays: compile + fit(verbose=0), under the
    mixed-precision ``policy``, for ``epochs`` (default: the plan's)."""
    import keras

    from studio.core.graph.keras_io import to_keras
    from studio.core.training.plan import load_checked_dataset

    keras.mixed_precision.set_global_policy(policy)
    dataset = load_checked_dataset(plan.project.dataset)
    config = plan.config
    keras.utils.set_random_seed(config.seed)
    model = to_keras(plan.project.graph)
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"], jit_compile=jit_compile)

    class EpochTimes(keras.callbacks.Callback):  # epoch hooks only: fit's batch loop is untouched
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.began)

    times: list[float] = []
    began = time.perf_counter()
    model.fit(dataset.x_train, dataset.y_train, batch_size=config.batch_size, epochs=epochs or config.epochs,
              validation_data=(dataset.x_val, dataset.y_val), callbacks=[EpochTimes()], verbose=0)
    keras.mixed_precision.set_global_policy("float32")
    return {"total_s": time.perf_counter() - began, "epoch_s": times, "samples": len(dataset.x_train)}


def steady(epoch_s: list[float]) -> float:
    """Typical epoch time once compiled: the median of the epochs after the first."""
    return statistics.median(epoch_s[1:] or epoch_s)


def plain_in_process(name: str, epochs: int, backend: str) -> dict:
    """Plain fit of a case in a fresh process whose Keras uses ``backend``."""
    import subprocess

    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, __file__, "--plain", name, "--epochs", str(epochs)],
                          capture_output=True, text=True, env=env, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_backends(names: list[str], cases: list[str], epochs: int) -> None:
    """One table: each installed backend's engine and plain fit, side by side."""
    from studio.core import backends

    print(f"{'case':14} {'backend':11} {'engine samples/s':>17} {'fit samples/s':>14} "
          f"{'steady ratio':>13} {'total ratio':>12} {'engine steps/call':>18}")
    for case in cases:
        for backend in names:
            if not backends.installed(backend):
                print(f"{case:14} {backend:11} not installed")
                continue
            project = make_project(CASES[case], epochs)
            project.training["backend"] = backend
            with tempfile.TemporaryDirectory() as tmp:
                engine = run_engine(project, Path(tmp) / "run")
            plain = plain_in_process(case, epochs, backend)
            samples = plain["samples"]
            print(f"{case:14} {backend:11} {samples / steady(engine['epoch_s']):17,.0f} "
                  f"{samples / steady(plain['epoch_s']):14,.0f} "
                  f"{steady(plain['epoch_s']) / steady(engine['epoch_s']):13.2f} "
                  f"{plain['total_s'] / engine['total_s']:12.2f} {engine['steps_per_execution']:18}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--backends", nargs="+", choices=("tensorflow", "jax", "torch"))
    parser.add_argument("--plain", choices=list(CASES), help=argparse.SUPPRESS)  # child of --backends
    args = parser.parse_args()

    from studio.core.training import plan_run

    if args.plain:
        print(json.dumps(run_plain(plan_run(make_project(CASES[args.plain], args.epochs)), "auto")))
        return
    if args.backends:
        compare_backends(args.backends, args.cases, args.epochs)
        return

    worst_latency = 0.0
    for name in args.cases:
        project = make_project(CASES[name], args.epochs)
        plan = plan_run(project)
        with tempfile.TemporaryDirectory() as tmp:
            engine = run_engine(project, Path(tmp) / "run")
        plain_auto = run_plain(plan, "auto")
        plain_graph = run_plain(plan, False)
        worst_latency = max(worst_latency, max(engine["latency_ms"]))
        samples = plain_auto["samples"] * args.epochs
        print(f"\n{name}: {plain_auto['samples']} training samples, {engine['steps']} steps/epoch, "
              f"{args.epochs} epochs, engine compile mode {engine['compile_mode']}, "
              f"{engine['grad_norm_events']} gradient-norm events")
        print(f"  engine           total {engine['total_s']:7.2f} s  ({samples / engine['total_s']:7.1f} samples/s)"
              f"  steady epoch {steady(engine['epoch_s']):6.2f} s")
        for label, plain in (("fit (default)", plain_auto), ("fit (no XLA)", plain_graph)):
            print(f"  {label:16} total {plain['total_s']:7.2f} s  ({samples / plain['total_s']:7.1f} samples/s)"
                  f"  steady epoch {steady(plain['epoch_s']):6.2f} s"
                  f"  -> engine/plain throughput: total {plain['total_s'] / engine['total_s']:.2f}, "
                  f"steady {steady(plain['epoch_s']) / steady(engine['epoch_s']):.2f}")
        print(f"  epoch-end event latency: max {max(engine['latency_ms']):.1f} ms, "
              f"mean {statistics.mean(engine['latency_ms']):.1f} ms")
    print(f"\nworst epoch-end event latency: {worst_latency:.1f} ms (target <= 200 ms)")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    main()
