"""Transfer-learning lab figures (issue 18), CPU.

Targets: the decision-boundary redraw (200x200 grid: model + hidden units, then the picture with the
data points) <= 50 ms so it can follow training live. Prints median times over warm calls.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

REPEATS = 20


def _median_ms(function) -> float:
    function()  # warm: compiles the probe
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def bench_boundary() -> None:
    import keras

    from studio.core.data import load_dataset
    from studio.core.graph.keras_io import to_keras
    from studio.core.graph.templates import load_template
    from studio.core.inspect.boundary import boundary_image, decision_boundary

    data = load_dataset({"source": "toy", "name": "xor", "samples": 400})
    keras.utils.set_random_seed(0)
    model = to_keras(load_template("mlp_one_hidden").graph)
    compute = _median_ms(lambda: decision_boundary(model, data.x_train))
    boundary = decision_boundary(model, data.x_train)
    draw = _median_ms(lambda: boundary_image(boundary, data.x_train, data.y_train))
    total = compute + draw
    print(f"boundary 200x200 (MLP, 8 hidden units): compute {compute:.1f} ms + picture {draw:.1f} ms = "
          f"{total:.1f} ms; target <= 50 ms: ratio {total / 50:.2f} {'OK' if total <= 50 else 'SLOW'}")


if __name__ == "__main__":
    bench_boundary()
