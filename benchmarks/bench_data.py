"""Input pipeline vs training speed, and augmented-preview latency.

Targets (issue 3): the training pipeline with the default augmentation chain delivers >= 3x the
samples/s that the small CNN (small_cnn_28) consumes in ``model.fit`` on the same machine, and a
16-image augmented preview takes <= 100 ms warm.

Targets (issue 14, image folders of 64x64 RGB PNGs made in a temp dir): peak RSS of a training
process for 5k vs 50k images within 15% (table for 5k / 20k / 50k); streamed pipeline samples/s
over what the small CNN consumes >= 3x on the cached epoch and >= 1x on the first (decoding)
epoch; scanning 50,000 files: files/s.

Run: python3 benchmarks/bench_data.py [--quick] [--folders-only]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
    """(cold, median warm) milliseconds for a 16-image preview (batches of 32, as training's default)."""
    from studio.core.data import first_training_samples

    start = time.perf_counter()
    first_training_samples(dataset, steps, 0, 0, 16, 32)
    cold = (time.perf_counter() - start) * 1000
    warm = []
    for epoch in range(repeats):
        start = time.perf_counter()
        first_training_samples(dataset, steps, 0, epoch, 16, 32)
        warm.append((time.perf_counter() - start) * 1000)
    return cold, statistics.median(warm)


def make_folder(root: Path, count: int) -> Path:
    """``count`` 64x64 RGB PNGs in 10 class folders (noise over a class colour)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(count):
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 64, (64, 64, 3), dtype=np.uint8) + np.uint8(i % 10 * 19)
        Image.fromarray(pixels).save(folder / f"{i:06}.png", compress_level=1)
    return root


_TRAIN_CHILD = """
import resource, sys, time
from studio.core.data import load_dataset, make_pipeline, steps_per_epoch
sys.path.insert(0, {bench!r})
from bench_data import small_cnn
data = load_dataset({{"source": "folder", "path": {path!r}}})
model = small_cnn(data.input_shape, data.num_classes)
model.compile("adam", "sparse_categorical_crossentropy")
steps = min({steps}, steps_per_epoch(data, "train", 32))
model.fit(make_pipeline(data, "train", 32, epochs=None), steps_per_epoch=steps, epochs=2, verbose=0)
print("storage", [l for l in data.report if l.startswith("storage")][0].split(",")[0])
print("peak_rss_mib", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def training_peak_rss(folder: Path, steps: int = 60) -> tuple[float, str]:
    """Peak RSS (MiB) of a fresh process that loads the folder and trains the small CNN."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    code = _TRAIN_CHILD.format(bench=str(Path(__file__).parent), path=str(folder), steps=steps)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines() if " " in line)
    return float(lines["peak_rss_mib"]), lines["storage"]


def folder_benchmarks(quick: bool) -> None:
    from studio.core.data import load_dataset

    counts = (500, 2000, 5000) if quick else (5000, 20000, 50000)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DL_STUDIO_DATA_CACHE"] = str(Path(tmp) / "cache")
        rss, folders = [], {}
        for count in counts:
            start = time.perf_counter()
            folders[count] = make_folder(Path(tmp) / f"f{count}", count)
            print(f"\nmade {count} PNGs in {time.perf_counter() - start:.1f} s")
        biggest = folders[counts[-1]]
        rates = []
        start = time.perf_counter()
        data = load_dataset({"source": "folder", "path": str(biggest)}, progress=lambda *a: rates.append(a[2]))
        print(f"scan + load of {counts[-1]} files: {time.perf_counter() - start:.1f} s, scan {rates[-1]:,.0f} files/s")
        start = time.perf_counter()
        load_dataset({"source": "folder", "path": str(biggest), "seed": 1}, progress=lambda *a: rates.append(a[2]))
        print(f"incremental re-scan: {rates[-1]:,.0f} files/s ({time.perf_counter() - start:.1f} s)")
        print([l for l in data.report if l.startswith('storage')][0])
        from studio.core.data import make_pipeline

        next(iter(make_pipeline(data, "test", BATCH)))  # import Keras/TF and trace outside the timing
        first = pipeline_rate_epoch(data, 0)
        cached = pipeline_rate_epoch(data, 1)
        consumed = training_rate_stream(data)
        print(f"pipeline first (decoding) epoch: {first:10.0f} samples/s  ratio {first / consumed:.1f}x (target >= 1x)")
        print(f"pipeline cached epoch:           {cached:10.0f} samples/s  ratio {cached / consumed:.1f}x (target >= 3x)")
        print(f"small CNN consumes:              {consumed:10.0f} samples/s")
        print("\nimages   peak RSS of training process   storage")
        for count in counts:
            peak, storage = training_peak_rss(folders[count])
            rss.append(peak)
            print(f"{count:6d}   {peak:10.0f} MiB                  {storage}")
        print(f"ratio {counts[-1]} / {counts[0]}: {rss[-1] / rss[0]:.2f} (target <= 1.15)")


def pipeline_rate_epoch(dataset, epoch: int) -> float:
    """Samples/s of one training epoch of the streamed pipeline (no augmentation)."""
    from studio.core.data import make_pipeline

    start, count = time.perf_counter(), 0
    for x, _ in make_pipeline(dataset, "train", BATCH, seed=0, epoch=epoch):
        count += int(x.shape[0])
    return count / (time.perf_counter() - start)


def training_rate_stream(dataset, steps: int = 60) -> float:
    """Samples/s the small CNN consumes, fed from memory (a fixed batch set, after warm-up)."""
    import numpy as np

    x = np.asarray(dataset.x_train[:steps * BATCH])
    y = dataset.y_train[:len(x)]
    model = small_cnn(dataset.input_shape, dataset.num_classes)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0)
    return 2 * len(x) / (time.perf_counter() - start)


def main() -> None:
    if "--folders-only" not in sys.argv:
        builtin_benchmarks()
    folder_benchmarks("--quick" in sys.argv)


def builtin_benchmarks() -> None:
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
