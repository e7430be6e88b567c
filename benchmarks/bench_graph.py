"""Graph inference speed: one-param edit refresh on ResNet-50, full inference on a 700+-layer graph,
and big imported keras.applications graphs (ConvNeXtBase with nested models, EfficientNetV2L).

Run: ``python benchmarks/bench_graph.py``. Prints medians measured in this run, and Keras's own
build time for the same ResNet-50 for comparison. Targets: edit refresh <= 20 ms, 700+ layers <= 150 ms,
an imported big graph's one edit -> shapes <= 100 ms.
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
    for factory, layer in (("ConvNeXtBase", "convnext_base_stage_2_block_13_pointwise_conv_1"),
                           ("EfficientNetV2L", "block4d_se_reduce")):
        bench_imported(getattr(keras.applications, factory)(weights=None), factory, layer)


def bench_imported(model, title: str, layer: str) -> None:
    """Open a big Keras model's config as a graph (as the window does with a .keras file's
    config.json), then time one edit -> shapes."""
    from studio.core.graph.keras_io import graph_from_config

    serialized = {"class_name": type(model).__name__, "config": model.get_config()}
    start = time.perf_counter()
    graph = graph_from_config(serialized)
    analyzer = Analyzer()
    analysis = analyzer.analyze(graph)
    opened = (time.perf_counter() - start) * 1000
    assert analysis.total_params == model.count_params(), (analysis.total_params, model.count_params())
    node = graph.by_name(layer).id
    key = "filters" if "filters" in graph.nodes[node].params else "units"
    sizes = iter([graph.nodes[node].params[key] + 8, graph.nodes[node].params[key]] * 100)

    def edit_and_refresh():
        graph.set_param(node, key, next(sizes))
        analyzer.analyze(graph)

    edit = median_ms(edit_and_refresh, 20)
    print(f"{title} ({len(graph.nodes)} layers, {analysis.total_params:,} params): import + first shapes "
          f"{opened:.0f} ms; one edit -> shapes refreshed: median {edit:.1f} ms (target <= 100)")


if __name__ == "__main__":
    main()
