"""Transfer-learning lab figures (issue 18), CPU.

Targets: fine-tuning a frozen backbone through the engine runs at >= 0.95 of a plain ``model.fit``
of the same model on the same tf.data stream in the same compile mode (median epoch after the first);
the decision-boundary redraw (200x200 grid: model + hidden units, then the picture with the
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


def bench_frozen_backbone(epochs: int = 4, grad_norm_every: int = 50) -> None:
    import tempfile

    import keras

    from studio.core.data import load_dataset, make_pipeline, steps_per_epoch
    from studio.core.graph.keras_io import to_keras
    from studio.core.project import default_project
    from studio.core.training.engine import train_run
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import read_events, read_run
    from studio.core.transfer.project import attach_backbone
    from studio.core.transfer.weights import load_weights

    project = default_project()
    project.dataset = {"source": "shapes", "classes": ["circle", "square", "triangle", "cross", "ring"],
                       "count": 3000, "image_size": 28, "seed": 0}
    project.training = {**project.training, "epochs": epochs, "batch_size": 32, "seed": 0,
                        "grad_norm_every": grad_norm_every}
    attach_backbone(project, "builtin:digits_cnn_28", "all")
    with tempfile.TemporaryDirectory() as work:
        folder = prepare_run_folder(plan_run(project), Path(work) / "run")
        train_run(folder)
        engine = [e["duration_s"] for e in read_events(folder.path) if e["type"] == "epoch"][1:]
        folder_path = folder.path
        run_info = read_run(folder_path)

    data = load_dataset(project.dataset)
    steps = steps_per_epoch(data, "train", 32)
    model = to_keras(project.graph)
    load_weights(model, "builtin:digits_cnn_28", match="prefix")
    jit = not str(run_info["compile_mode"]).startswith("graph")  # the engine's compile mode
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=jit)
    train = make_pipeline(data, "train", 32, 0, [], shuffle=True, epochs=None)
    val = make_pipeline(data, "val", 32, 0, [])
    times = []

    class Timer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    model.fit(train, validation_data=val, epochs=epochs, steps_per_epoch=steps, callbacks=[Timer()], verbose=0)
    plain = times[1:]
    ratio = statistics.median(plain) / statistics.median(engine)
    print(f"frozen backbone (digits_cnn_28 on 15000 shapes, {steps} steps/epoch, gradient norms every "
          f"{grad_norm_every or 'never'}): engine "
          f"{statistics.median(engine):.2f} s/epoch, plain fit {statistics.median(plain):.2f} s/epoch; "
          f"(same compile mode: {run_info['compile_mode']}; engine {run_info.get('steps_per_execution', 1)} "
          f"steps per call, plain fit 1); engine / plain throughput {ratio:.2f} "
          f"(target >= 0.95) {'OK' if ratio >= 0.95 else 'SLOW'}")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    bench_boundary()
    bench_frozen_backbone()
    bench_frozen_backbone(grad_norm_every=0)
