"""Input pipeline vs training speed, and augmented-preview latency.

Targets (issue 3): the training pipeline with the default augmentation chain delivers >= 3x the
samples/s that the small CNN (small_cnn_28) consumes in ``model.fit`` on the same machine, and a
16-image augmented preview takes <= 100 ms warm.

Run: python3 benchmarks/bench_data.py
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

BATCH = 32


def pipeline_rate(dataset, steps, epochs: int = 6) -> float:
    """Samples/s delivered by the training pipeline (after one warm-up epoch)."""
    from studio.core.data import make_pipeline

    for _ in make_pipeline(dataset, "train", BATCH, seed=0, augmentation=steps):
        pass
    stream = make_pipeline(dataset, "train", BATCH, seed=0, augmentation=steps, epoch=1, epochs=epochs)
    start, count = time.perf_counter(), 0
    for x, _ in stream:
        count += int(x.shape[0])
    return count / (time.perf_counter() - start)


def small_cnn(input_shape, classes):
    """conv32-pool-conv64-pool-dropout-dense, as the small_cnn_28 template."""
    import keras

    return keras.Sequential([
        keras.Input(input_shape),
        keras.layers.Conv2D(32, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(64, 3, activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(classes, activation="softmax"),
    ])


def training_rate(dataset, epochs: int = 4) -> float:
    """Samples/s the small CNN consumes in model.fit from in-memory arrays (first epoch excluded)."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.durations = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.durations.append(time.perf_counter() - self.started)

    model = small_cnn(dataset.input_shape, dataset.num_classes)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    timer = EpochTimer()
    model.fit(dataset.x_train, dataset.y_train, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[timer])
    return len(dataset.x_train) / statistics.median(timer.durations[1:])


def preview_ms(dataset, steps, repeats: int = 30) -> tuple[float, float]:
    """(cold, median warm) milliseconds for a 16-image preview."""
    from studio.core.augment import preview

    start = time.perf_counter()
    preview(dataset, steps, seed=0, n=16)
    cold = (time.perf_counter() - start) * 1000
    warm = []
    for epoch in range(repeats):
        start = time.perf_counter()
        preview(dataset, steps, seed=0, epoch=epoch, n=16)
        warm.append((time.perf_counter() - start) * 1000)
    return cold, statistics.median(warm)


def main() -> None:
    import tensorflow as tf

    from studio.core.augment import default_augmentation
    from studio.core.data import default_dataset_spec, load_dataset

    steps = default_augmentation()
    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPU core(s), batch size {BATCH}")
    print(f"default augmentation: {', '.join(s['type'] for s in steps)}")
    cases = [
        ("digits 28x28x1 (default project)", default_dataset_spec()),
        ("shapes 32x32x3", {"source": "shapes", "image_size": 32, "colour": True, "count": 500}),
    ]
    for title, spec in cases:
        start = time.perf_counter()
        dataset = load_dataset(spec)
        load_s = time.perf_counter() - start
        raw = pipeline_rate(dataset, None)
        augmented = pipeline_rate(dataset, steps)
        consumed = training_rate(dataset)
        cold, warm = preview_ms(dataset, steps)
        print(f"\n{title}: {len(dataset.x_train)} training samples, loaded in {load_s:.2f} s")
        print(f"  pipeline, no augmentation:      {raw:10.0f} samples/s")
        print(f"  pipeline, default augmentation: {augmented:10.0f} samples/s")
        print(f"  small CNN model.fit consumes:   {consumed:10.0f} samples/s")
        print(f"  ratio augmented pipeline / training: {augmented / consumed:.1f}x  (target >= 3x)")
        print(f"  16-image preview: {warm:.1f} ms warm (target <= 100 ms), {cold:.0f} ms cold")


if __name__ == "__main__":
    main()
