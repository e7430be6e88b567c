"""Export every format of a trained run: size on disk, single-sample CPU latency, agreement.

The run is the default project (small_cnn_28 on the built-in digits, 28x28), trained by the real
training engine. Target (issue 9): full int8 TFLite agrees with the Keras model's argmax on >= 98%
of the test split. Latency is the median of single-sample inferences in each format's runtime.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

EPOCHS = 5


def train_run(runs_root: Path) -> Path:
    """Train the default project for a few epochs with the training engine; the run folder."""
    from studio.core.project import default_project
    from studio.core.training import Runner

    project = default_project()
    project.training.update(epochs=EPOCHS, batch_size=32)
    runner = Runner(project, runs_root / "run")
    runner.start()
    while not runner.finished:
        for event in runner.poll(timeout=1.0):
            if event["type"] == "epoch":
                print(f"  epoch {event['epoch'] + 1}: {event['logs']}", flush=True)
            if event["type"] == "end" and event.get("status") != "completed":
                raise SystemExit(f"training ended as {event.get('status')}")
    return runner.run_dir


def main() -> None:
    from studio.core.export import FORMATS, ExportError, export_model, format_size

    with tempfile.TemporaryDirectory(prefix="bench-export-") as tmp:
        root = Path(tmp)
        start = time.perf_counter()
        run = train_run(root)
        print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.1f} s: {run}")
        print(f"{'format':<15} {'size':>10} {'latency ms':>11} {'max |diff|':>11} {'agreement':>10} "
              f"{'samples':>8} {'export s':>9}")
        for name, spec in FORMATS.items():
            start = time.perf_counter()
            try:
                result = export_model(run, name, root / "out" / f"model{spec.suffix}", latency_repeats=100)
            except ExportError as exc:
                print(f"{name:<15} FAILED: {exc}")
                continue
            agreement = f"{result.argmax_agreement:.2%}" if result.argmax_agreement is not None else "-"
            print(f"{name:<15} {format_size(result.size_bytes):>10} {result.latency_ms:>11.3f} "
                  f"{result.max_abs_diff:>11.2e} {agreement:>10} {result.samples:>8} "
                  f"{time.perf_counter() - start:>9.1f}")
            for warning in result.warnings:
                print(f"{'':<15} warning: {warning}")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    main()
