"""Reload an export in its own runtime and run it: Keras, the SavedModel signature, the TFLite
interpreter, ONNX Runtime. Every runtime maps a list of input batches to a list of output batches.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

Predict = Callable[[list[np.ndarray]], list[np.ndarray]]


def keras_runtime(model) -> Predict:
    """A live Keras model, called directly (inference mode)."""
    import keras

    def predict(inputs):
        outputs = model(inputs[0] if len(inputs) == 1 else inputs, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [np.asarray(keras.ops.convert_to_numpy(output)) for output in outputs]  # any backend
    return predict


def load_keras(path: str) -> Predict:
    """A .keras file, reloaded in safe mode (Lambda/custom/unknown layers refused first)."""
    from studio.core.graph.keras_io import load_keras_file

    _graph, model = load_keras_file(path, with_model=True)
    return keras_runtime(model)


def load_weights(path: str, architecture) -> Predict:
    """A .weights.h5 file, loaded into a fresh copy of ``architecture``."""
    import keras

    model = keras.models.clone_model(architecture)
    model.load_weights(path)
    return keras_runtime(model)


def load_savedmodel(path: str) -> Predict:
    """The SavedModel's ``serving_default`` signature, as TensorFlow Serving calls it."""
    import tensorflow as tf

    signature = tf.saved_model.load(path).signatures["serving_default"]
    names = list(signature.structured_input_signature[1])

    def predict(inputs):
        outputs = signature(**{name: tf.constant(x) for name, x in zip(names, inputs)})
        return [np.asarray(outputs[key]) for key in _ordered(outputs)]
    return predict


def tflite_interpreter(path: str):
    """A TFLite interpreter for ``path``: LiteRT's (``ai_edge_litert``, which replaces the deprecated
    ``tf.lite.Interpreter``), else TensorFlow's where LiteRT has no wheel (Windows)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import warnings

        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
            return tf.lite.Interpreter(model_path=str(path), num_threads=1)
    return Interpreter(model_path=str(path), num_threads=1)


def load_tflite(path: str) -> Predict:
    """The TFLite interpreter's default signature; int8 inputs/outputs are (de)quantized here."""
    interpreter = tflite_interpreter(path)
    runner = interpreter.get_signature_runner()
    inputs_info = runner.get_input_details()
    outputs_info = runner.get_output_details()
    names = list(inputs_info)

    def predict(inputs):
        rows = []
        for index in range(len(inputs[0])):  # the converted graph has a batch size of 1
            feed = {name: _quantize(x[index:index + 1], inputs_info[name]) for name, x in zip(names, inputs)}
            result = runner(**feed)
            rows.append([_dequantize(result[key], outputs_info[key]) for key in _ordered(result)])
        return [np.concatenate(column) for column in zip(*rows)]
    return predict


def load_onnx(path: str) -> Predict:
    """An ONNX Runtime CPU session."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    session = onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    names = [item.name for item in session.get_inputs()]

    def predict(inputs):
        return [np.asarray(o) for o in session.run(None, dict(zip(names, inputs)))]
    return predict


def _ordered(outputs: dict) -> list[str]:
    """Output keys in model order: ``output_0, output_1, ..., output_10``."""
    return sorted(outputs, key=lambda key: (len(key), key))


def _quantize(x: np.ndarray, info: dict) -> np.ndarray:
    dtype = np.dtype(info["dtype"])
    scale, zero = info["quantization"]
    if dtype.kind == "i" and scale and np.dtype(x.dtype).kind == "f":
        limits = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), limits.min, limits.max).astype(dtype)
    return x.astype(dtype)


def _dequantize(y: np.ndarray, info: dict) -> np.ndarray:
    scale, zero = info["quantization"]
    if np.dtype(info["dtype"]).kind == "i" and scale:
        return (y.astype(np.float32) - zero) * np.float32(scale)
    return np.asarray(y)


def median_latency_ms(predict: Predict, inputs: list[np.ndarray], repeats: int = 30, warmup: int = 3) -> float:
    """Median wall time of one single-sample inference, in milliseconds."""
    sample = [x[:1] for x in inputs]
    for _ in range(warmup):
        predict(sample)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        predict(sample)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000.0
