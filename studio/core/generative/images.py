"""Image arrays shared by training, live samples and the quality score: value ranges and batched calls.

Kept apart so ``training``, ``live`` and ``quality`` can all use them without importing each other.
"""

from __future__ import annotations

import numpy as np


def unit_range(dataset):
    """A function mapping the dataset's normalized images to [0, 1] (what the models produce)."""
    low, high = (float(v) for v in dataset.value_range)
    scale = 1.0 / (high - low) if high > low else 1.0
    return lambda x: (x - low) * scale


def run_batches(model, *arrays: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """``model`` applied in inference mode to ``arrays`` (its inputs, in order), batch by batch.

    Direct calls rather than ``predict``: every epoch asks for a few odd-sized batches, which would
    make ``predict`` retrace its graph each time.
    """
    outputs = []
    for start in range(0, len(arrays[0]), batch_size):
        chunk = [np.asarray(a[start:start + batch_size]) for a in arrays]
        outputs.append(np.asarray(model(chunk if len(chunk) > 1 else chunk[0], training=False)))
    return np.concatenate(outputs)
