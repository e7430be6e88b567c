"""Generative benchmark on the built-in digits (28x28), through the real training engine.

1. VAE (vae_28 template): the validation reconstruction loss must fall in each of the first 5 epochs.
2. DCGAN (dcgan_28 template): 100 samples shown to a separately trained digits classifier must be
   recognized with mean top-1 confidence >= 0.8, with at least 9 of the 10 classes present.

Prints epochs, wall and CPU time of each run, the per-epoch quality score, and PASS/FAIL lines.
Run: ``python benchmarks/bench_generative.py [GAN_EPOCHS] [VAE_EPOCHS]`` (defaults 30 and 5).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core.generative.templates import apply_template  # noqa: E402
from studio.core.graph.templates import load_template  # noqa: E402
from studio.core.project import default_project  # noqa: E402
from studio.core.training.engine import train_run  # noqa: E402
from studio.core.training.plan import plan_run, prepare_run_folder  # noqa: E402
from studio.core.training.runs import read_events  # noqa: E402


def train_template(name: str, epochs: int, root: Path) -> tuple[Path, list[dict], float, float]:
    """Train template ``name`` in this process; return (run dir, epoch logs, wall s, CPU s)."""
    project = apply_template(default_project(), load_template(name))
    project.training["epochs"] = epochs
    run_dir = root / name
    wall, cpu = time.perf_counter(), time.process_time()
    status = train_run(prepare_run_folder(plan_run(project), run_dir))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert status == "completed", (name, status)
    logs = [event["logs"] for event in read_events(run_dir) if event["type"] == "epoch"]
    return run_dir, logs, wall, cpu


def judge_classifier(dataset):
    """A digits classifier independent of the GAN (and of its quality-score network)."""
    import keras
    from keras import layers

    from studio.core.generative.training import unit_range

    to_unit = unit_range(dataset)
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input(dataset.input_shape),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(to_unit(dataset.x_train), dataset.y_train, epochs=15, batch_size=32, verbose=0)
    accuracy = model.evaluate(to_unit(dataset.x_test), dataset.y_test, verbose=0)[1]
    return model, accuracy


def main() -> None:
    from studio.core.data import load_dataset
    from studio.core.generative import load_generative_model, sample

    gan_epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    vae_epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    root = Path(tempfile.mkdtemp(prefix="bench-generative-"))
    print(f"runs in {root}")

    _, logs, wall, cpu = train_template("vae_28", vae_epochs, root)
    val = [entry["val_reconstruction_loss"] for entry in logs]
    falls = all(b < a for a, b in zip(val[:5], val[1:5]))
    print(f"VAE: {len(logs)} epochs, {wall:.1f} s wall, {cpu:.1f} s CPU")
    print("  val reconstruction loss: " + ", ".join(f"{v:.2f}" for v in val))
    print("  fid: " + ", ".join(f"{entry['fid']:.2f}" for entry in logs))
    print(f"  {'PASS' if falls else 'FAIL'}: validation reconstruction loss falls in each of the first 5 epochs")

    run_dir, logs, wall, cpu = train_template("dcgan_28", gan_epochs, root)
    print(f"DCGAN: {len(logs)} epochs, {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"({cpu / len(logs):.1f} s CPU per epoch)")
    print("  fid every 5 epochs: " + ", ".join(f"{entry['fid']:.2f}" for entry in logs[4::5]))
    print(f"  last epoch: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(logs[-1].items())))

    dataset = load_dataset(default_project().dataset | load_template("dcgan_28").extra["dataset"])
    judge, accuracy = judge_classifier(dataset)
    images = sample(load_generative_model(run_dir, "final"), 100, seed=123)
    probabilities = judge.predict(images, verbose=0)
    confidence = float(probabilities.max(axis=1).mean())
    classes = np.bincount(probabilities.argmax(axis=1), minlength=10)
    print(f"  judge classifier test accuracy {accuracy:.3f}")
    print(f"  100 samples: mean top-1 confidence {confidence:.3f}, classes present "
          f"{int((classes > 0).sum())}/10, counts {classes.tolist()}")
    ok = confidence >= 0.8 and (classes > 0).sum() >= 9
    print(f"  {'PASS' if ok else 'FAIL'}: confidence >= 0.8 and at least 9 of 10 classes")


if __name__ == "__main__":
    from studio.core.features import load_features

    load_features()  # what features add to runs, as in the CLI and the app
    main()
