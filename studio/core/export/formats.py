"""The export formats: names, file suffixes and how closely each must reproduce the Keras model."""

from __future__ import annotations

from dataclasses import dataclass

# float32 formats must match the Keras model to this max absolute difference (scaled up for
# outputs larger than 1, see ``exporter.allowed_difference``).
FLOAT_TOLERANCE = 1e-5
# float16 weights round every weight to ~3 significant digits, so outputs move by ~1e-3.
FP16_TOLERANCE = 1e-2
# Quantized formats are judged on argmax agreement: below the floor the export is broken and
# fails; below the target it is kept with a warning.
QUANTIZED_AGREEMENT_FLOOR = 0.90
QUANTIZED_AGREEMENT_TARGET = 0.98


@dataclass(frozen=True)
class FormatSpec:
    """``tolerance`` None: a quantized format, judged on argmax agreement over the test split."""

    name: str
    title: str
    suffix: str
    help: str
    directory: bool = False
    tolerance: float | None = FLOAT_TOLERANCE


FORMATS: dict[str, FormatSpec] = {spec.name: spec for spec in (
    FormatSpec("keras", "Keras (.keras)", ".keras", "the whole model in Keras' native format"),
    FormatSpec("h5", "Keras weights (.weights.h5)", ".weights.h5",
               "weights only; rebuild the architecture with the Python export"),
    FormatSpec("savedmodel", "TensorFlow SavedModel", "_savedmodel", "a folder for TensorFlow Serving",
               directory=True),
    FormatSpec("tflite", "TFLite float32", ".tflite", "TensorFlow Lite for phones and edge devices"),
    FormatSpec("tflite-fp16", "TFLite float16", ".fp16.tflite", "float16 weights: half the size",
               tolerance=FP16_TOLERANCE),
    FormatSpec("tflite-dynamic", "TFLite dynamic-range int8", ".dynamic.tflite",
               "int8 weights, float activations: a quarter of the size", tolerance=None),
    FormatSpec("tflite-int8", "TFLite full int8", ".int8.tflite",
               "int8 weights and activations calibrated on training samples (microcontrollers, NPUs)",
               tolerance=None),
    FormatSpec("onnx", "ONNX", ".onnx", "for ONNX Runtime and other frameworks"),
    FormatSpec("python", "Python script", "_script.py",
               "a readable Keras script that rebuilds the model, with its weights in a .weights.h5 beside it"),
    FormatSpec("bundle", "Project bundle (.zip)", ".zip",
               "project, run record, model, library versions and dataset fingerprint to reproduce the run"),
)}


def format_spec(name: str) -> FormatSpec:
    """The FormatSpec of ``name``; ExportError listing the formats when unknown.

    Raises:
        ExportError: ``name`` is not a key of ``FORMATS``.
    """
    from studio.core.export.report import ExportError

    try:
        return FORMATS[name]
    except KeyError:
        raise ExportError(f"unknown export format {name!r}; use one of {', '.join(FORMATS)}") from None


def default_file_name(base: str, name: str) -> str:
    """``base`` plus the format's suffix, e.g. ``digits.int8.tflite``."""
    return base + format_spec(name).suffix
