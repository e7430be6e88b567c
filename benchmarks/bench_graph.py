"""Graph inference speed: one-param edit refresh on ResNet-50, full inference on a 700+-layer graph.

Run: ``python benchmarks/bench_graph.py``. Prints medians measured in this run, and Keras's own
build time for the same ResNet-50 for comparison. Targets: edit refresh <= 20 ms, 700+ layers <= 150 ms.
"""

from __future__ import annotations

import statistics
import time

from studio.core.graph.infer import Analyzer, analyze
from studio.core.graph.templates import load_template


def median_ms(fn, repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    graph = load_template("resnet50").graph
    analyzer = Analyzer()
    analyzer.analyze(graph)
    conv = graph.by_name("conv3_block2_2_conv").id
    sizes = iter([64, 128] * 100)

    def edit_and_refresh():
        graph.set_param(conv, "filters", next(sizes))
        analyzer.analyze(graph)

    edit = median_ms(edit_and_refresh, 40)
    cold = median_ms(lambda: analyze(graph), 10)

    import keras

    from studio.core.graph.keras_io import from_keras, to_keras

    start = time.perf_counter()
    to_keras(load_template("resnet50").graph)
    keras_build = (time.perf_counter() - start) * 1000

    big = from_keras(keras.applications.NASNetMobile(weights=None))
    full = median_ms(lambda: analyze(big), 10)
    print(f"ResNet-50 one-param edit -> shapes+params refreshed: median {edit:.1f} ms (target <= 20)")
    print(f"ResNet-50 full (uncached) inference: median {cold:.1f} ms; Keras builds it in {keras_build:.0f} ms "
          f"(ratio {keras_build / edit:.0f}x slower than our edit refresh)")
    print(f"NASNetMobile ({len(big.nodes)} layers) full inference: median {full:.1f} ms (target <= 150)")


if __name__ == "__main__":
    main()
