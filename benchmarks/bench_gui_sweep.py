"""The Experiments area while a sweep runs: GUI event-loop stalls (issue 16).

A tiny project (digits 8x8, one hidden Dense layer) is swept from the Sweep panel of a window in
this process (offscreen when there is no display): a grid of learning rate x batch size, trained
by 2 workers of a ``studio sweep`` child process (each trial a training process of its own), while
the panel reads the study in a helper process and fills its trials table, parallel coordinates and
importances live. A heartbeat QTimer fires every 5 ms;
stall = gap between two beats minus 5 ms. Target: p99 <= 16.7 ms (one frame at 60 Hz).
Printed next to it, to separate the GUI's own share from the machine's: the same heartbeat in
the idle window before Start (the noise floor) and the GUI thread's CPU time between two beats.

Usage: ``python benchmarks/bench_gui_sweep.py [--trials 4] [--workers 2] [--epochs 2] [--idle 3]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from bench_gui_training import FRAME_MS, Heartbeat, percentile


def tiny_project(epochs: int):
    from studio.core.graph.model import Graph
    from studio.core.project import default_project

    graph = Graph()
    ids = [graph.add_node("Input", {"shape": [8, 8, 1]}, name="input").id,
           graph.add_node("Flatten", name="flatten").id,
           graph.add_node("Dense", {"units": 16, "activation": "relu"}, name="dense_1").id,
           graph.add_node("Dense", {"units": 10, "activation": "softmax"}, name="out").id]
    for src, dst in zip(ids, ids[1:]):
        graph.connect(src, dst)
    project = default_project()
    project.name, project.graph = "sweep-bench", graph
    project.dataset = {"source": "digits", "max_samples": 600, "seed": 0}
    project.training = {**project.training, "epochs": epochs, "batch_size": 16, "grad_norm_every": 0,
                        "devices": "cpu"}
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle heartbeat before Start")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from studio.core.project import save_project
    from studio.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="bench-sweep-", ignore_cleanup_errors=True) as folder:
        path = Path(folder) / "tiny.dlstudio"
        save_project(tiny_project(args.epochs), path)
        from studio.core.project import load_project

        window = MainWindow(load_project(path), path)
        window.show()
        window.start_backend_loading()  # as the app does: TensorFlow loaded behind the window
        heartbeat = Heartbeat()
        deadline = time.perf_counter() + 300
        heartbeat.run(lambda: window.backend is not None or time.perf_counter() > deadline)
        window.show_area("Experiments")
        panel = window.area_widget("Experiments")
        editor = panel.space_editor
        editor.table.setRowCount(0)
        editor.add_row("learning_rate", "0.001, 0.01")
        editor.add_row("batch_size", "16, 32" if args.trials <= 4 else "8, 16, 32, 64")
        panel.sampler.setCurrentText("grid")
        panel.trials.setValue(args.trials)
        panel.workers.setValue(args.workers)
        if not panel.check_space():
            raise SystemExit(f"the space was refused: {panel.check_label.text()}")

        idle_until = time.perf_counter() + args.idle
        heartbeat.run(lambda: time.perf_counter() >= idle_until)
        idle = heartbeat.stalls()
        started = time.perf_counter()
        if not panel.start():
            raise SystemExit(f"the sweep did not start: {panel.check_label.text()}")
        deadline = time.perf_counter() + 1800
        heartbeat.run(lambda: not panel.running or time.perf_counter() > deadline)
        if panel.running:
            raise SystemExit("the sweep did not finish in 30 minutes")
        seconds = time.perf_counter() - started
        stalls, busy = heartbeat.stalls(), heartbeat.busy()

        def final_table() -> bool:
            table = panel.trials_table
            return all(table.item(r, 1).text() != "running" for r in range(table.rowCount()))

        deadline = time.perf_counter() + 30
        heartbeat.run(lambda: final_table() or time.perf_counter() > deadline)  # the last reading of the study
        rows = panel.trials_table.rowCount()
        states = [panel.trials_table.item(r, 1).text() for r in range(rows)]
        window.document.mark_saved(path)
        window.close()

    p99 = percentile(stalls, 99)
    print(f"Sweep of {args.trials} trials x {args.epochs} epochs on {args.workers} workers: {seconds:.1f} s, "
          f"trials {', '.join(states) or 'none'}")
    print(f"GUI stall while sweeping: p50 {percentile(stalls, 50):.1f} ms, p99 {p99:.1f} ms, max {max(stalls):.1f} ms "
          f"over {len(stalls)} beats; target p99 <= {FRAME_MS:.1f} ms: ratio {p99 / FRAME_MS:.2f} "
          f"({'met' if p99 <= FRAME_MS else 'NOT met'})")
    print(f"Idle baseline: stall p99 {percentile(idle, 99):.1f} ms; GUI-thread CPU per beat while sweeping: "
          f"p99 {percentile(busy, 99):.1f} ms, max {max(busy):.1f} ms")
    app.quit()


if __name__ == "__main__":
    main()
