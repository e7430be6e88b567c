"""Training from the Train panel: GUI event-loop stalls and throughput compared with the CLI.

The small_cnn_28 template trains on the built-in digits, alternately from the Train panel (a
click on Start in this process's window, offscreen when there is no display) and with
``studio train`` in a separate process. Printed:

- event-loop stall: a heartbeat QTimer fires every 5 ms while the GUI run lasts (click to end);
  stall = gap between two beats minus 5 ms. Target: p99 <= 16.7 ms (one frame at 60 Hz).
  On a busy machine the operating system alone delays the beats, so two more figures separate
  the GUI's own share: the same heartbeat in the idle window before Start (the machine's noise
  floor), and the GUI thread's CPU time between two beats (the work the GUI itself did).
- throughput: samples/s from the run's events (the last batch event of each epoch after the
  first, so compiling is left out), median over the repeats; GUI / CLI. Target >= 0.97.

- first-run start-up (issue 28): seconds from Start to the first plotted batch point of a run
  started as the Train panel starts it (``training.Runner`` and ``RunWatcher`` polling every
  ``POLL_MS``, from a fresh process: the session's first run), against a plain ``model.fit`` of the
  same model and data started the same way (a fresh process; first batch = its first
  ``on_train_batch_end``); both timed from the moment the fresh process is started, median over the
  repeats, and their ratio.

Usage: ``python benchmarks/bench_gui_training.py [--epochs 4] [--repeats 2] [--only-startup]`` (a
few minutes on 2 CPU cores; other work on the machine shows up in every figure).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HEARTBEAT_MS = 5
FRAME_MS = 1000 / 60


def steady_samples_per_s(run_dir: Path) -> float:
    """Mean samples/s of the epochs after the first, from each epoch's last batch event."""
    from studio.core.training import read_events

    last = {}
    for event in read_events(run_dir):
        if event["type"] == "batch" and event["step"] == event["steps"]:
            last[event["epoch"]] = event["samples_per_s"]
    rates = [rate for epoch, rate in sorted(last.items()) if epoch > 1] or list(last.values())
    if not rates:
        raise SystemExit(f"no finished epoch in {run_dir}: see its log.txt")
    return statistics.fmean(rates)


def cli_run(project_file: Path, run_dir: Path) -> float:
    subprocess.run([sys.executable, "-m", "studio", "train", str(project_file), "--run-dir", str(run_dir)],
                   cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
    return steady_samples_per_s(run_dir)


class Heartbeat:
    """Beats every HEARTBEAT_MS; records wall time and the GUI thread's CPU time of each beat."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.beats: list[tuple[float, float]] = []
        self.timer = QTimer(interval=HEARTBEAT_MS, timerType=Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(lambda: self.beats.append((time.perf_counter(), time.thread_time())))

    def run(self, until) -> None:
        """Beat until ``until()`` is true (checked every 50 ms)."""
        from PySide6.QtCore import QEventLoop, QTimer

        self.beats.clear()
        loop = QEventLoop()
        watcher = QTimer(interval=50)
        watcher.timeout.connect(lambda: until() and loop.quit())
        self.timer.start()
        watcher.start()
        loop.exec()
        self.timer.stop()
        watcher.stop()

    def stalls(self) -> list[float]:
        """Wall-clock delay of each beat beyond its interval (ms)."""
        return [max(0.0, (b[0] - a[0]) * 1000 - HEARTBEAT_MS) for a, b in zip(self.beats, self.beats[1:])]

    def busy(self) -> list[float]:
        """GUI-thread CPU time spent between two beats (ms)."""
        return [(b[1] - a[1]) * 1000 for a, b in zip(self.beats, self.beats[1:])]


def gui_run(app, project_file: Path, idle_s: float) -> tuple[float, Heartbeat, list[float], Path]:
    """Train from the Train panel: samples/s, the heartbeat of the run, the idle window's stalls
    (``idle_s`` seconds before Start) and the run folder."""
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtTest import QTest

    from studio.core.project import load_project
    from studio.qt.main_window import MainWindow

    window = MainWindow(load_project(project_file), project_file)
    window.show()
    window.show_area("Train")
    panel = window.area_widget("Train")
    heartbeat = Heartbeat()
    idle_until = time.perf_counter() + idle_s
    cpu_start = time.process_time()
    heartbeat.run(lambda: time.perf_counter() >= idle_until)
    idle = heartbeat.stalls()
    heartbeat.idle_cpu_share = (time.process_time() - cpu_start) / idle_s
    QTimer.singleShot(0, lambda: QTest.mouseClick(panel.start_button, Qt.MouseButton.LeftButton))
    cpu_start, wall_start = time.process_time(), time.perf_counter()
    heartbeat.run(lambda: panel.state == "ended")
    heartbeat.cpu_share = (time.process_time() - cpu_start) / (time.perf_counter() - wall_start)
    run_dir = panel.source.path
    status = panel.status.text()
    window.document.mark_saved(project_file)  # nothing to ask on close
    window.close()
    if not status.startswith("Completed"):
        raise SystemExit(f"the GUI run did not complete: {status} {panel.error_banner.text()}")
    return steady_samples_per_s(run_dir), heartbeat, idle, run_dir


def runner_child(project_file: str, run_dir: str, poll_s: str) -> None:
    """Start a run as the Train panel does (its events polled every ``poll_s``); print the time its
    first batch event is polled, then stop it."""
    from studio.core.project import load_project
    from studio.core.training import Runner, RunWatcher

    runner = Runner(load_project(project_file), run_dir)
    runner.start()
    watcher = RunWatcher.for_runner(runner)
    while not watcher.ended:
        if any(event["type"] == "batch" for event in watcher.poll(timeout=float(poll_s))):
            print(f"first batch at {time.time()!r}", flush=True)
            break
    runner.stop()
    runner.wait(120)


def fit_child(project_file: str) -> None:
    """A plain ``model.fit`` of the project's model on its data; print the time its first batch ends."""
    import keras

    from studio.core.data import load_dataset
    from studio.core.graph.keras_io import to_keras
    from studio.core.project import load_project

    project = load_project(project_file)
    data = load_dataset(project.dataset)
    model = to_keras(project.graph)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])

    class FirstBatch(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            print(f"first batch at {time.time()!r}", flush=True)
            self.model.stop_training = True

    model.fit(data.x_train, data.y_train, batch_size=project.training["batch_size"], epochs=1,
              validation_data=(data.x_val, data.y_val), verbose=0, callbacks=[FirstBatch()])


def first_batch_s(args: list[str], backend: str) -> float:
    """Seconds from starting a fresh ``--child`` process to the first batch it reports."""
    from studio.core import processes

    started = time.time()
    done = processes.run(processes.script(__file__, "--child", *args), timeout=600,
                         env={"KERAS_BACKEND": backend})
    found = [line for line in done.stdout.splitlines() if line.startswith("first batch at ")]
    if done.returncode or not found:
        raise SystemExit(f"the {args[0]} child reported no batch (exit {done.returncode}): {done.stderr[-2000:]}")
    return float(found[0].removeprefix("first batch at ")) - started


def startup(project_file: Path, runs: Path, backend: str, repeats: int) -> None:
    """Print the first-run start-up of the Train panel's way and of a plain ``model.fit``, and their ratio."""
    from studio.qt.train.panel import POLL_MS

    panel, plain = [], []
    for repeat in range(repeats):
        run_dir = runs / f"startup-{repeat}"
        panel.append(first_batch_s(["runner", str(project_file), str(run_dir), str(POLL_MS / 1000)], backend))
        plain.append(first_batch_s(["fit", str(project_file)], backend))
        print(f"start-up {repeat + 1}: Train panel's way {panel[-1]:.1f} s, plain model.fit {plain[-1]:.1f} s")
    ratio = statistics.median(panel) / statistics.median(plain)
    print(f"first-run start-up to the first plotted batch ({backend}): Train panel's way "
          f"{statistics.median(panel):.1f} s, plain model.fit {statistics.median(plain):.1f} s, ratio {ratio:.2f}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle heartbeat before each GUI run")
    parser.add_argument("--backend", default="tensorflow", help="the Keras backend of every run")
    parser.add_argument("--only-startup", action="store_true", help="measure the first-run start-up only")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)  # runner PROJECT RUN_DIR POLL_S | fit PROJECT
    args = parser.parse_args()
    if args.child:
        kind, *child_args = args.child
        (runner_child if kind == "runner" else fit_child)(*child_args)
        return

    from PySide6.QtWidgets import QApplication

    from studio.core.project import default_project, save_project

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="bench-gui-training-"))
    project = default_project()
    project.training.update(epochs=args.epochs, batch_size=32, backend=args.backend)
    project_file = work / "digits.dlstudio"
    save_project(project, project_file)
    print(f"small_cnn_28 on digits, {args.epochs} epochs, batch 32, {args.backend}; runs in {work / 'runs'}")
    startup(project_file, work / "runs", args.backend, args.repeats)
    if args.only_startup:
        return

    gui_rates, cli_rates, stalls, busy, idle = [], [], [], [], []
    for repeat in range(args.repeats):
        cli_rates.append(cli_run(project_file, work / "runs" / f"cli-{repeat}"))
        rate, heartbeat, run_idle, _ = gui_run(app, project_file, args.idle)
        gui_rates.append(rate)
        stalls += heartbeat.stalls()
        busy += heartbeat.busy()
        idle += run_idle
        print(f"repeat {repeat + 1}: CLI {cli_rates[-1]:,.0f} samples/s, GUI {rate:,.0f} samples/s, "
              f"stall p99 {percentile(heartbeat.stalls(), 99):.1f} ms (idle window: "
              f"{percentile(run_idle, 99):.1f} ms), GUI process CPU {heartbeat.cpu_share:.1%} of a core "
              f"({heartbeat.idle_cpu_share:.1%} idle, the heartbeat itself)")

    p99 = percentile(stalls, 99)
    ratio = statistics.median(gui_rates) / statistics.median(cli_rates)
    print(f"event-loop stall while training: p50 {percentile(stalls, 50):.1f} ms, p99 {p99:.1f} ms, "
          f"max {max(stalls):.1f} ms ({len(stalls)} beats) - target p99 <= {FRAME_MS:.1f} ms: "
          f"{'OK' if p99 <= FRAME_MS else 'MISSED'}")
    print(f"  same heartbeat in the idle window (machine noise): p99 {percentile(idle, 99):.1f} ms, "
          f"max {max(idle):.1f} ms ({len(idle)} beats)")
    print(f"  GUI-thread CPU time between beats while training: p50 {percentile(busy, 50):.2f} ms, "
          f"p99 {percentile(busy, 99):.2f} ms, max {max(busy):.1f} ms")
    print(f"throughput GUI/CLI: {ratio:.3f} (median {statistics.median(gui_rates):,.0f} vs "
          f"{statistics.median(cli_rates):,.0f} samples/s) - target >= 0.97: {'OK' if ratio >= 0.97 else 'MISSED'}")
    print(f"load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
