"""Data and Augment panels: the GUI keeps turning while data loads and previews are computed.

A 5 ms heartbeat timer measures the event loop's stalls (gaps above its interval) while the Data
panel loads 4,000 drawn 64x64 colour images on its worker thread, and while a slider of the Augment
panel is moved 20 times (next to an idle baseline of the same loop); also reported: load time, and slider move -> new preview shown (after a
warm-up, debounce included).
Run: ``python3 benchmarks/bench_data_panels.py`` (offscreen Qt when there is no display).
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HEARTBEAT_MS = 5


class Heartbeat:
    """Records how late each tick of a short repeating timer arrives on the GUI thread."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer(interval=HEARTBEAT_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append((now - self._last) * 1000 - HEARTBEAT_MS)
        self._last = now

    def stalls(self) -> tuple[float, float]:
        """p99 and max lateness in ms."""
        ordered = sorted(self.gaps)
        return ordered[int(0.99 * (len(ordered) - 1))], ordered[-1]


def wait(app, condition, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not condition():
        if time.perf_counter() - start > timeout:
            raise TimeoutError("the panel did not finish in time")
        app.processEvents()
        time.sleep(0.001)
    return time.perf_counter() - start


def main() -> None:
    from PySide6.QtWidgets import QApplication

    from studio.core.project import Project
    from studio.qt.main_window import MainWindow
    from studio.qt.augment.panel import PREVIEW_DELAY_MS

    app = QApplication.instance() or QApplication([])
    small = {"source": "shapes", "image_size": 16, "count": 20, "classes": ["circle", "square"]}
    window = MainWindow(Project(name="bench", dataset=small, augmentation=[{"type": "rotation", "factor": 0.1}],
                                training={"batch_size": 32}))
    window.show()
    data = window.area_widget("Data")
    wait(app, lambda: data.dataset is not None)

    beat = Heartbeat()  # baseline: the same loop with nothing to do (shows the machine's own noise)
    wait(app, lambda: len(beat.gaps) >= 2000 // HEARTBEAT_MS, timeout=30)
    p99, worst = beat.stalls()
    print(f"Idle baseline: GUI stall p99 {p99:.1f} ms, max {worst:.1f} ms")

    beat = Heartbeat()
    data.form.option("shapes", "image_size").box.setValue(64)
    data.form.option("shapes", "count").box.setValue(1000)
    data.form.option("shapes", "colour").box.setChecked(True)
    data.form.option("shapes", "classes").boxes["triangle"].setChecked(True)
    data.form.option("shapes", "classes").boxes["cross"].setChecked(True)
    data.load_form()
    seconds = wait(app, lambda: data.dataset.input_shape == (64, 64, 3) and not data.loader.busy)
    p99, worst = beat.stalls()
    print(f"Data panel: 4000 images 64x64x3 loaded in {seconds:.2f} s; GUI stall p99 {p99:.1f} ms, "
          f"max {worst:.1f} ms")

    augment = window.area_widget("Augment")
    wait(app, lambda: augment.preview is not None and not augment.worker.busy)  # TensorFlow warm-up
    augment.steps_list.setCurrentRow(0)
    slider = augment.editors["factor"].slider
    beat = Heartbeat()
    latencies = []
    for position in range(100, 300, 10):
        before = augment.preview
        start = time.perf_counter()
        slider.setValue(position)
        wait(app, lambda: augment.preview is not before and not augment.worker.busy)
        latencies.append((time.perf_counter() - start) * 1000)
    p99, worst = beat.stalls()
    print(f"Augment panel: slider move -> preview shown median {statistics.median(latencies):.0f} ms "
          f"(max {max(latencies):.0f} ms, {PREVIEW_DELAY_MS} ms of it debounce); GUI stall p99 {p99:.1f} ms, max {worst:.1f} ms")


if __name__ == "__main__":
    main()
