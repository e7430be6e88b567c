"""Run table and curves at scale (issue 16).

Targets: ``studio runs`` over 1,000 run folders of 20,000 batch events each takes <= 1 s once
indexed (the first indexing shows progress); opening one run of 100,000 batch events builds its
curves in <= 0.5 s. The synthetic folders are old-style (no summary.json), the worst case for the
first indexing; the long run has the curves cache its training process would have written.

Run (from the checkout root): PYTHONPATH=. python3 benchmarks/bench_runs.py [--runs 1000] [--events 20000] [--long 100000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIST_TARGET_S = 1.0
CURVES_TARGET_S = 0.5
STEPS = 500  # batches per epoch


def events_bytes(batches: int) -> bytes:
    """An events.jsonl as the engine writes it: start, batch lines, an epoch line every STEPS."""
    lines = [json.dumps({"type": "start", "time": 1.0, "steps_per_epoch": STEPS, "epochs": batches // STEPS})]
    for index in range(batches):
        epoch, step = index // STEPS + 1, index % STEPS + 1
        lines.append(json.dumps({"type": "batch", "time": 2.0 + index, "epoch": epoch, "step": step,
                                 "steps": STEPS, "logs": {"loss": 1.0 / (index + 1), "accuracy": index / batches},
                                 "lr": 0.001, "samples_per_s": 1234.5, "eta_s": 10.0}))
        if step == STEPS:
            lines.append(json.dumps({"type": "epoch", "time": 3.0 + index, "epoch": epoch, "lr": 0.001,
                                     "duration_s": 1.0, "logs": {"loss": 1.0 / epoch, "accuracy": 0.5,
                                                                 "val_loss": 1.1 / epoch, "val_accuracy": 0.4}}))
    lines.append(json.dumps({"type": "end", "time": 9.0, "status": "completed"}))
    return ("\n".join(lines) + "\n").encode()


def write_run(path: Path, events: bytes, number: int) -> None:
    path.mkdir(parents=True)
    (path / "events.jsonl").write_bytes(events)
    (path / "run.json").write_text(json.dumps({
        "name": "bench", "status": "completed", "created": 1e9 + number, "started": 1e9 + number,
        "ended": 1e9 + number + 60, "config": {"optimizer": "adam", "learning_rate": 10 ** -(number % 4 + 1),
                                                "batch_size": 32, "epochs": 40},
        "device": {"kind": "cpu", "gpus": []}, "dataset": {"task": "classification"}}))


def timed(action) -> tuple[float, object]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20000, help="batch events per run")
    parser.add_argument("--long", type=int, default=100000, help="batch events of the long run")
    parser.add_argument("--dir", help="work folder (default: a temp folder, deleted afterwards)")
    args = parser.parse_args()

    from studio.core.experiments.curve_cache import load_curves
    from studio.core.experiments.index import INDEX_FILE, RunIndex
    from studio.core.training.curves import RunCurves
    from studio.core.training.runs import read_events

    work = Path(args.dir or tempfile.mkdtemp(prefix="bench-runs-"))
    root = work / "runs"
    try:
        events = events_bytes(args.events)
        print(f"writing {args.runs} runs of {args.events} batch events "
              f"({args.runs * len(events) / 2**30:.2f} GiB) in {root} ...", flush=True)
        for number in range(args.runs):
            write_run(root / f"run-{number:05d}", events, number)

        def progress(done, total):
            if done % 100 == 0 or done == total:
                print(f"\r  indexing {done}/{total}", end="\n" if done == total else "", flush=True)

        first, rows = timed(lambda: RunIndex(root).rows(progress))
        assert len(rows) == args.runs
        indexed, _ = timed(lambda: RunIndex(root).rows())
        (root / INDEX_FILE).unlink()
        rebuilt, _ = timed(lambda: RunIndex(root).rows())  # runs with summary.json, as the engine leaves them
        command = [sys.executable, "-c", "import sys; from studio.cli import main; sys.exit(main())",
                   "runs", str(root), "--sort=-best.val_accuracy"]
        python, _ = timed(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
        cli, _ = timed(lambda: subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True))

        long_run = work / "long"
        write_run(long_run, events_bytes(args.long), 0)
        cold, fresh = timed(lambda: RunCurves().add(read_events(long_run)))
        load_curves(long_run, store_after=0)  # what the training process leaves behind
        cached, curves = timed(lambda: load_curves(long_run))
        assert len(curves.series["loss/batch"]) == args.long

        print(f"first indexing of {args.runs} old-style runs: {first:.2f} s (summaries built once)")
        print(f"index rebuilt (runs with summary.json):     {rebuilt:.2f} s")
        print(f"indexed listing (RunIndex.rows):            {indexed:.3f} s")
        print(f"bare `python -c pass` on this machine:      {python:.3f} s")
        print(f"`studio runs` (whole command, new process): {cli:.3f} s  ratio to target "
              f"{cli / LIST_TARGET_S:.2f} (target <= 1 s)")
        print(f"curves of a {args.long}-batch run, no cache:     {cold:.3f} s")
        print(f"curves of a {args.long}-batch run, cached:       {cached:.3f} s  ratio to target "
              f"{cached / CURVES_TARGET_S:.2f} (target <= 0.5 s)")
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
