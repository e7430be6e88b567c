"""GUI speed: launch -> interactive window, opening the ResNet-50 template, one edit on ResNet-50.

Targets (issue 5): launch <= 1.5 s, open ResNet-50 <= 1 s, one edit -> canvas updated <= 50 ms.
Run: ``python3 benchmarks/bench_gui.py`` (uses the offscreen Qt platform when there is no display).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_LAUNCH_CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from studio.qt.app import create_app

app, window = create_app(["studio"])
window.start_backend_loading()
start = time.perf_counter()

def ready():
    print("READY", "tensorflow" in sys.modules, round(time.process_time(), 3), flush=True)

def loaded(info):
    print("BACKEND", round(time.perf_counter() - start, 2), info["device"], flush=True)
    app.quit()

window.backend_ready.connect(loaded)
QTimer.singleShot(0, ready)  # runs on the first event-loop turn after the window is shown
app.exec()
"""


def launch_times(runs: int = 3) -> tuple[list[float], list[float], list[float]]:
    """Wall time from starting the process to an interactive window and until TF finished loading,
    and the CPU time the process had used when the window became interactive."""
    ready, backend, cpu = [], [], []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-c", _LAUNCH_CHILD], stdout=subprocess.PIPE, text=True,
                                 stderr=subprocess.DEVNULL, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        for line in child.stdout:
            if line.startswith("READY"):
                ready.append(time.perf_counter() - start)
                cpu.append(float(line.split()[2]))
                if line.split()[1] == "True":
                    print("WARNING: TensorFlow was imported before the window was interactive")
            elif line.startswith("BACKEND"):
                backend.append(time.perf_counter() - start)
        child.wait(timeout=120)
    return ready, backend, cpu


def in_process_figures() -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from studio.core.graph.templates import load_template
    from studio.qt.commands import SetParam
    from studio.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1400, 860)
    window.show()
    app.processEvents()
    area, doc = window.model_area, window.document
    viewport = area.view.viewport()

    opens = []
    for _ in range(3):
        start = time.perf_counter()
        area.open_template("resnet50")
        app.processEvents()
        viewport.repaint()
        opens.append(time.perf_counter() - start)
        doc.undo_stack.undo()
        app.processEvents()
    area.open_template("resnet50")
    app.processEvents()

    convs = [n.id for n in doc.graph.nodes.values() if n.type == "Conv2D"]
    target = convs[len(convs) // 2]
    area.view.show_node(target)
    edits, edit_cpu = [], []
    for i in range(30):
        start, cpu = time.perf_counter(), time.process_time()
        doc.push(SetParam(doc, target, "filters", 64 + (i % 2) * 32))
        app.processEvents()
        viewport.repaint()
        edits.append(time.perf_counter() - start)
        edit_cpu.append(time.process_time() - cpu)
    area.view.fit()
    fitted = []
    for i in range(10):
        start = time.perf_counter()
        doc.push(SetParam(doc, target, "filters", 64 + (i % 2) * 32))
        app.processEvents()
        viewport.repaint()
        fitted.append(time.perf_counter() - start)

    # A huge graph: ResNet-50 four times (708 nodes).
    start = time.perf_counter()
    for _ in range(3):
        area.insert_template("resnet50")
    app.processEvents()
    viewport.repaint()
    huge_insert = time.perf_counter() - start
    huge = len(doc.graph.nodes)
    huge_edits = []
    for i in range(10):
        start = time.perf_counter()
        doc.push(SetParam(doc, target, "filters", 64 + (i % 2) * 32))
        app.processEvents()
        viewport.repaint()
        huge_edits.append(time.perf_counter() - start)
    assert load_template("resnet50").graph  # keep the import honest: the file exists
    return {
        "open_resnet50_s": statistics.median(opens),
        "edit_ms_median": 1000 * statistics.median(edits), "edit_ms_max": 1000 * max(edits),
        "edit_cpu_ms_median": 1000 * statistics.median(edit_cpu),
        "edit_fit_view_ms_median": 1000 * statistics.median(fitted),
        "huge_nodes": huge, "huge_insert_3_blocks_s": huge_insert,
        "huge_edit_ms_median": 1000 * statistics.median(huge_edits), "huge_edit_ms_max": 1000 * max(huge_edits),
    }


def main() -> None:
    if hasattr(os, "getloadavg"):
        print(f"load average before the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
              "(wall times grow with it; CPU time much less)")
    ready, backend, cpu = launch_times()
    print(f"launch -> interactive window: median {statistics.median(ready):.2f} s "
          f"(runs: {', '.join(f'{t:.2f}' for t in ready)}; target <= 1.5 s); "
          f"CPU time median {statistics.median(cpu):.2f} s")
    if backend:
        print(f"launch -> TensorFlow/Keras loaded in the background: median {statistics.median(backend):.2f} s")
    f = in_process_figures()
    print(f"open ResNet-50 template (177 nodes, canvas drawn): median {f['open_resnet50_s']:.3f} s (target <= 1 s)")
    print(f"one param edit on ResNet-50 -> canvas repainted: median {f['edit_ms_median']:.1f} ms, "
          f"max {f['edit_ms_max']:.1f} ms (target <= 50 ms); CPU time median {f['edit_cpu_ms_median']:.1f} ms")
    print(f"  same, whole graph in view: median {f['edit_fit_view_ms_median']:.1f} ms")
    print(f"{f['huge_nodes']} nodes: inserting 3 ResNet-50 blocks {f['huge_insert_3_blocks_s']:.2f} s; "
          f"one edit median {f['huge_edit_ms_median']:.1f} ms, max {f['huge_edit_ms_max']:.1f} ms")


if __name__ == "__main__":
    main()
