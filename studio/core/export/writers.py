"""Write a Keras model in each model format (the Python script and the bundle have their own modules).

TFLite files are converted from a SavedModel, as TensorFlow recommends. Converter failures are
turned into an ExportError that names the layer the format cannot express whenever the
converter's message lets us find it.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from studio.core.export.report import ExportError


def write_keras(model, path: str) -> None:
    model.save(path)


def write_weights(model, path: str) -> None:
    model.save_weights(path)


ONNX_CONVERTERS = {"tensorflow": "tf2onnx", "jax": "jax2onnx", "torch": "onnxscript"}


def needs_tensorflow(what: str) -> None:
    """ExportError when TensorFlow, which ``what`` is made with, is not installed."""
    from studio.core.backends import installed

    if not installed("tensorflow"):
        raise ExportError(f"{what} export needs TensorFlow, which is not installed: pip install tensorflow "
                          "(or export .keras or ONNX, which work with every backend)")


def write_savedmodel(model, path: str) -> None:
    needs_tensorflow("SavedModel")
    model.export(path, format="tf_saved_model", verbose=False)


def write_onnx(model, path: str) -> None:
    import keras

    converter = ONNX_CONVERTERS.get(keras.backend.backend(), "tf2onnx")
    try:
        model.export(path, format="onnx", verbose=False)
    except ImportError as exc:
        raise ExportError(f"ONNX export on the {keras.backend.backend()} backend needs {converter} ({exc}): "
                          f"pip install {converter}") from None
    except Exception as exc:  # converters raise many types; each becomes a message naming the layer
        raise conversion_error(model, "ONNX", exc) from exc


def write_tflite(model, path: str, mode: str = "float32", calibration=None) -> None:
    """Convert through a SavedModel; ``mode``: float32, float16, dynamic or int8 (needs ``calibration``)."""
    needs_tensorflow("TFLite")
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix="studio-tflite-") as folder:
        saved = str(Path(folder) / "saved")
        write_savedmodel(model, saved)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        if mode != "float32":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if mode == "float16":
            converter.target_spec.supported_types = [tf.float16]
        elif mode == "int8":
            converter.representative_dataset = _representative(calibration)
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
        try:
            data = converter.convert()
        except Exception as exc:  # the converter's error types vary by stage (MLIR, flatbuffer, ...)
            raise conversion_error(model, f"TFLite ({mode})", exc) from exc
    Path(path).write_bytes(data)


def _representative(calibration):
    """The converter's representative dataset: one training sample (batch of 1) at a time."""
    if not calibration or not len(calibration[0]):
        raise ExportError("full int8 quantization needs training samples to calibrate on; "
                          "export from a run whose dataset loads")

    def generate():
        for index in range(len(calibration[0])):
            yield [array[index:index + 1] for array in calibration]
    return generate


def conversion_error(model, format_title: str, exc: BaseException) -> ExportError:
    """An ExportError naming the layer (and op) the converter choked on, when its message tells."""
    text = str(exc)
    layer = _layer_in_message(model, text)
    op = (re.search(r"'(tf\.\w+)' op", text)
          or re.search(r"[Oo]p (?:type )?['\"]?(\w+)['\"]? (?:is )?not supported", text))
    detail = f" (operation {op.group(1)})" if op else ""
    if layer is not None:
        return ExportError(f"{format_title} cannot express layer {layer.name!r} ({type(layer).__name__}){detail}; "
                           "remove or replace it, or pick another format")
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    return ExportError(f"{format_title} conversion failed{detail}: {first[:300]}")


def _layer_in_message(model, text: str):
    """The model layer whose name appears as a path component (``model/lstm_1/...``) in ``text``."""
    components = set(re.findall(r"[/\"](\w+?)(?:_\d+)?(?=/)", text))
    components |= set(re.findall(r"[/\"](\w+)(?=/)", text))
    for layer in sorted(model.layers, key=lambda item: -len(item.name)):
        if type(layer).__name__ != "InputLayer" and layer.name in components:
            return layer
    return None
