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

Usage: ``python benchmarks/bench_gui_training.py [--epochs 4] [--repeats 2]`` (a few minutes on
2 CPU cores; other work on the machine shows up in both figures).
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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of idle heartbeat before each GUI run")
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from studio.core.project import default_project, save_project

    app = QApplication.instance() or QApplication([])
    work = Path(tempfile.mkdtemp(prefix="bench-gui-training-"))
    project = default_project()
    project.training.update(epochs=args.epochs, batch_size=32)
    project_file = work / "digits.dlstudio"
    save_project(project, project_file)
    print(f"small_cnn_28 on digits, {args.epochs} epochs, batch 32; runs in {work / 'runs'}")

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
