"""Sequence benchmarks (prints ratios; no pass/fail): run ``python benchmarks/bench_sequences.py``.

- engine / plain ``model.fit`` steady epoch speed for the tiny GPT on the built-in grammar corpus
  (target >= 0.95; the engine adds events, gradient norms, checkpoints and live text samples);
- generation tokens/s of the trained model (``studio generate``'s code path);
- the token pipeline's batches/s over the training step's batches/s (target >= 3).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks.bench_training import make_project, run_engine, steady  # noqa: E402

CASE = {"template": "tiny_gpt", "batch_size": 32,
        "dataset": {"source": "sequences", "name": "grammar", "samples": 2000, "max_length": 64, "seed": 0}}
EPOCHS = 4


def run_plain(plan) -> list[float]:
    import keras

    from studio.core.graph.keras_io import to_keras
    from studio.core.training.plan import load_checked_dataset

    dataset = load_checked_dataset(plan.project.dataset)
    keras.utils.set_random_seed(0)
    model = to_keras(plan.project.graph)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    times: list[float] = []

    class EpochTimes(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.began = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.began)

    model.fit(dataset.x_train, dataset.y_train, batch_size=CASE["batch_size"], epochs=EPOCHS,
              validation_data=(dataset.x_val, dataset.y_val), callbacks=[EpochTimes()], verbose=0)
    return times


def pipeline_ratio(plan) -> tuple[float, float]:
    """(pipeline batches/s, training-step batches/s) on the same data."""
    import keras

    from studio.core.data import make_pipeline
    from studio.core.graph.keras_io import to_keras
    from studio.core.training.plan import load_checked_dataset

    dataset = load_checked_dataset(plan.project.dataset)
    stream = make_pipeline(dataset, "train", CASE["batch_size"], 0, shuffle=True, epochs=None)
    batches = 200
    iterator = iter(stream)
    next(iterator)
    began = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    produced = batches / (time.perf_counter() - began)
    model = to_keras(plan.project.graph)
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = dataset.x_train[:CASE["batch_size"]], dataset.y_train[:CASE["batch_size"]]
    model.train_on_batch(x, y)
    began = time.perf_counter()
    for _ in range(50):
        model.train_on_batch(x, y)
    return produced, 50 / (time.perf_counter() - began)


def main() -> None:
    from studio.core.generative.text import generate, load_language_model, run_vocabulary
    from studio.core.training import plan_run

    project = make_project(CASE, EPOCHS)
    plan = plan_run(project)
    with tempfile.TemporaryDirectory() as tmp:
        engine = run_engine(project, Path(tmp) / "run")
        plain = run_plain(plan)
        print(f"tiny_gpt: {engine['steps']} steps/epoch; steady epoch engine {steady(engine['epoch_s']):.2f} s, "
              f"plain fit {steady(plain):.2f} s; engine / plain speed = {steady(plain) / steady(engine['epoch_s']):.2f} "
              "(target >= 0.95)")
        model, vocabulary = load_language_model(Path(tmp) / "run"), run_vocabulary(Path(tmp) / "run")
        generate(model, vocabulary, "the ", 5)
        began = time.perf_counter()
        generate(model, vocabulary, "the cat ", 200, temperature=0.8, top_k=5)
        print(f"generation: {200 / (time.perf_counter() - began):.1f} tokens/s (batch 1, CPU)")
    produced, consumed = pipeline_ratio(plan)
    print(f"pipeline {produced:.0f} batches/s vs training {consumed:.0f} batches/s: ratio {produced / consumed:.1f} "
          "(target >= 3)")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    main()
