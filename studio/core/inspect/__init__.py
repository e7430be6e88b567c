"""Look inside models: activations, filters, Grad-CAM/saliency, predictions and evaluation.

Functions take a built ``keras.Model`` (layer names = graph node names) and numpy inputs; compiled
probe functions are cached per model and are safe to call from a worker thread.
"""

from studio.core.inspect.activations import ActivationProbe, activations, channel_stats, model_outputs, probe_for
from studio.core.inspect.errors import InspectError
from studio.core.inspect.filters import conv_kernel, filter_images
from studio.core.inspect.gradients import (
    LayerHistograms,
    gradient_norm_series,
    gradient_warnings,
    histograms_by_layer,
)
from studio.core.inspect.images import load_image, normalize_pixels
from studio.core.inspect.layers import find_layer, spatial_layers
from studio.core.inspect.live import MAX_PINNED, load_probe_snapshot, probe_snapshot, save_probe_snapshot
from studio.core.inspect.metrics import evaluate_model, evaluate_predictions
from studio.core.inspect.predict import Prediction, predict
from studio.core.inspect.runs import RunContents, load_run_dataset, load_run_model, open_run, run_model_path
from studio.core.inspect.saliency import (
    SaliencyMaps,
    SaliencyResult,
    default_cam_layer,
    grad_cam,
    gradient_saliency,
    saliency_for,
)
from studio.core.tasks.class_scores import BinaryCurves, ClassificationReport, class_probabilities
from studio.core.tasks.value_scores import RegressionReport

__all__ = [
    "MAX_PINNED", "load_probe_snapshot", "normalize_pixels", "probe_snapshot", "save_probe_snapshot",
    "ActivationProbe", "BinaryCurves", "ClassificationReport", "InspectError", "Prediction",
    "RegressionReport", "RunContents", "SaliencyMaps", "SaliencyResult", "activations",
    "channel_stats", "class_probabilities", "conv_kernel", "default_cam_layer", "evaluate_model",
    "evaluate_predictions", "filter_images", "find_layer", "grad_cam",
    "gradient_saliency", "LayerHistograms", "gradient_norm_series", "gradient_warnings",
    "histograms_by_layer", "load_image", "load_run_dataset",
    "load_run_model", "model_outputs", "open_run", "predict", "probe_for", "run_model_path",
    "saliency_for", "spatial_layers",
]
