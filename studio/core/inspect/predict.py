"""One-sample prediction: class probabilities plus the Grad-CAM map that explains the top class."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from studio.core.inspect.activations import model_outputs
from studio.core.tasks.class_scores import class_probabilities
from studio.core.inspect.saliency import default_cam_layer, grad_cam


@dataclass
class Prediction:
    """What the model says about one sample."""

    probabilities: np.ndarray  # one per class (a sigmoid output gives [1 - p, p])
    class_index: int
    class_name: str
    heatmap: np.ndarray | None  # Grad-CAM in [0, 1] at input resolution; None without a spatial layer
    layer: str | None  # the layer the heat map comes from

    @property
    def confidence(self) -> float:
        return float(self.probabilities[self.class_index])


def predict(model, sample, class_names=None, layer: str | None = None) -> Prediction:
    """Classify one sample and explain it with Grad-CAM of ``layer`` (default: last spatial layer).

    Args:
        model: a classifier (softmax or sigmoid output).
        sample: one input without the batch axis (or a batch, of which the first sample is used).
        class_names: names by class index; the index as text when missing or too short.
        layer: the Grad-CAM layer; None for the last spatial layer, and no heat map if there is none.

    Returns:
        The Prediction: class probabilities, the top class and its name, the heat map and its layer.

    Raises:
        InspectError: the sample does not fit the model input, or ``layer`` is unknown or not spatial.
    """
    layer = layer or default_cam_layer(model)
    if layer is None:
        outputs, heatmap = model_outputs(model, sample), None
    else:
        result = grad_cam(model, sample, layer)
        outputs, heatmap = result.outputs, result.heatmaps[0]
    probabilities = class_probabilities(outputs[:1])[0]
    index = int(probabilities.argmax())
    name = str(class_names[index]) if class_names is not None and index < len(class_names) else str(index)
    return Prediction(probabilities, index, name, heatmap, layer)
