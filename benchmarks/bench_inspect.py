"""Inspect latency on ResNet-18 (32x32x3, 10 classes), CPU, single sample.

Targets (issue 7): feature maps of one layer for one sample <= 100 ms warm (cached probe);
Grad-CAM <= 300 ms warm. Prints median/best times over repeated warm calls.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing


def resnet18(input_shape=(32, 32, 3), num_classes=10):
    """ResNet-18 (basic blocks [2, 2, 2, 2]) with a CIFAR-style 3x3 stem."""
    import keras
    from keras import layers

    def block(x, filters, stride, name):
        shortcut = x
        y = layers.Conv2D(filters, 3, stride, padding="same", use_bias=False, name=f"{name}_conv1")(x)
        y = layers.BatchNormalization(name=f"{name}_bn1")(y)
        y = layers.ReLU(name=f"{name}_relu1")(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
        y = layers.BatchNormalization(name=f"{name}_bn2")(y)
        if stride != 1 or shortcut.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, stride, use_bias=False, name=f"{name}_proj")(shortcut)
            shortcut = layers.BatchNormalization(name=f"{name}_proj_bn")(shortcut)
        y = layers.Add(name=f"{name}_add")([y, shortcut])
        return layers.ReLU(name=f"{name}_out")(y)

    inputs = keras.Input(input_shape, name="image")
    x = layers.Conv2D(64, 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, filters in enumerate((64, 128, 256, 512)):
        for index in range(2):
            stride = 2 if stage > 0 and index == 0 else 1
            x = block(x, filters, stride, f"stage{stage + 1}_block{index + 1}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
    return keras.Model(inputs, outputs, name="resnet18")


def timed(function, repeats):
    function()  # warm-up: builds and traces the cached function
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), min(times)


def main():
    from studio.core.inspect import activations, grad_cam, predict

    model = resnet18()
    sample = np.random.default_rng(0).random((32, 32, 3)).astype("float32")
    print(f"ResNet-18 32x32x3: {model.count_params():,} parameters")
    rows = [
        ("feature maps stage2_block1_out", 100, lambda: activations(model, sample, "stage2_block1_out")),
        ("feature maps stem_relu (64x32x32)", 100, lambda: activations(model, sample, "stem_relu")),
        ("Grad-CAM stage4_block2_out", 300, lambda: grad_cam(model, sample, "stage4_block2_out")),
        ("Grad-CAM stage2_block2_out, class 3", 300, lambda: grad_cam(model, sample, "stage2_block2_out", 3)),
        ("predict + Grad-CAM (default layer)", 300, lambda: predict(model, sample)),
    ]
    for label, target, function in rows:
        first = time.perf_counter()
        function()
        cold = (time.perf_counter() - first) * 1000
        median, best = timed(function, repeats=20)
        verdict = "ok" if median <= target else "SLOW"
        print(f"{label:40s} cold {cold:7.0f} ms  warm median {median:6.1f} ms  best {best:6.1f} ms"
              f"  target {target} ms  ratio {median / target:4.2f}  {verdict}")


if __name__ == "__main__":
    main()
