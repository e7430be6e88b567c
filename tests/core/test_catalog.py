"""Every catalog entry against Keras itself: defaults, output shapes and parameter counts."""

import pytest

from studio.core.graph.catalog import CATALOG, CATEGORIES, by_category, default_params
from studio.core.graph.shapes import layer_info

# (type, params override, input shapes): one representative use of every catalog type.
CASES = [
    ("Dense", {"units": 7}, [(5,)]),
    ("Dense", {"units": 3, "use_bias": False}, [(4, 6)]),
    ("Embedding", {"input_dim": 50, "output_dim": 4}, [(9,)]),
    ("Conv1D", {"filters": 6, "kernel_size": [3], "strides": [2]}, [(20, 4)]),
    ("Conv1D", {"filters": 8, "groups": 2, "padding": "same"}, [(16, 4)]),
    ("Conv2D", {"filters": 5, "strides": [2, 2], "padding": "same"}, [(9, 9, 3)]),
    ("Conv2D", {"filters": 6, "groups": 3, "dilation_rate": [2, 2]}, [(12, 12, 6)]),
    ("Conv2DTranspose", {"filters": 4, "strides": [2, 2], "padding": "same"}, [(7, 7, 8)]),
    ("Conv2DTranspose", {"filters": 4, "kernel_size": [4, 4], "strides": [2, 2]}, [(7, 7, 8)]),
    ("Conv2DTranspose", {"filters": 2, "strides": [2, 2], "output_padding": [1, 1]}, [(5, 5, 3)]),
    ("DepthwiseConv2D", {"depth_multiplier": 2}, [(10, 10, 3)]),
    ("SeparableConv2D", {"filters": 7, "padding": "same"}, [(10, 10, 3)]),
    ("MaxPooling1D", {}, [(11, 3)]),
    ("MaxPooling2D", {"pool_size": [3, 3], "strides": [2, 2], "padding": "same"}, [(9, 9, 2)]),
    ("AveragePooling1D", {"pool_size": [3]}, [(12, 2)]),
    ("AveragePooling2D", {}, [(9, 9, 2)]),
    ("GlobalAveragePooling1D", {}, [(7, 3)]),
    ("GlobalAveragePooling2D", {"keepdims": True}, [(5, 5, 3)]),
    ("GlobalMaxPooling1D", {}, [(7, 3)]),
    ("GlobalMaxPooling2D", {}, [(5, 5, 3)]),
    ("UpSampling2D", {"size": [2, 3]}, [(4, 5, 2)]),
    ("ZeroPadding2D", {"padding": [[1, 2], [3, 4]]}, [(4, 5, 2)]),
    ("Cropping2D", {"cropping": [[1, 0], [2, 1]]}, [(6, 6, 2)]),
    ("Flatten", {}, [(3, 4, 2)]),
    ("Reshape", {"target_shape": [-1, 4]}, [(2, 6, 2)]),
    ("Rescaling", {}, [(4, 4, 1)]),
    ("Normalization", {}, [(6,)]),
    ("Normalization", {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]}, [(4, 4, 3)]),  # given: no weights
    ("Dropout", {}, [(6,)]),
    ("SpatialDropout2D", {}, [(4, 4, 3)]),
    ("GaussianNoise", {}, [(6,)]),
    ("BatchNormalization", {}, [(4, 4, 3)]),
    ("BatchNormalization", {"center": False}, [(6,)]),
    ("LayerNormalization", {}, [(5, 6)]),
    ("Activation", {"activation": "gelu"}, [(6,)]),
    ("ReLU", {"max_value": 6.0}, [(6,)]),
    ("LeakyReLU", {}, [(6,)]),
    ("ELU", {}, [(6,)]),
    ("PReLU", {}, [(4, 4, 3)]),
    ("PReLU", {"shared_axes": [1, 2]}, [(4, 4, 3)]),
    ("Softmax", {}, [(6,)]),
    ("Add", {}, [(4, 3), (4, 3)]),
    ("Subtract", {}, [(4, 3), (4, 3)]),
    ("Multiply", {}, [(4, 4, 3), (1, 1, 3)]),
    ("Average", {}, [(5,), (5,), (5,)]),
    ("Maximum", {}, [(5,), (5,)]),
    ("Concatenate", {}, [(4, 4, 3), (4, 4, 5)]),
    ("Concatenate", {"axis": 1}, [(2, 3), (4, 3)]),
    ("SimpleRNN", {"units": 5}, [(7, 3)]),
    ("LSTM", {"units": 5, "return_sequences": True}, [(7, 3)]),
    ("GRU", {"units": 5}, [(7, 3)]),
    ("GRU", {"units": 5, "reset_after": False}, [(7, 3)]),
    ("Bidirectional", {"layer": {"class_name": "LSTM", "config": {"units": 4, "return_sequences": True}}}, [(6, 3)]),
    ("Bidirectional", {"layer": {"class_name": "GRU", "config": {"units": 4}}, "merge_mode": "sum"}, [(6, 3)]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3}, [(5, 8), (6, 8)]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3, "value_dim": 4}, [(5, 8), (6, 7), (6, 9)]),
    ("Attention", {}, [(5, 8), (6, 8)]),
    ("Sampling", {}, [(4,), (4,)]),
    ("ChannelShuffle", {"groups": 3}, [(4, 5, 6)]),
    ("ChannelShuffle", {}, [(7, 4)]),
    ("MaxUnpooling2D", {}, [(2, 3, 4), (4, 6, 4)]),
    ("MaxUnpooling2D", {"pool_size": [2, 3]}, [(2, 2, 3), (5, 7, 3)]),
    ("MultiHeadAttention", {"num_heads": 2, "key_dim": 3, "use_causal_mask": True}, [(5, 8), (5, 8)]),
    ("PositionalEmbedding", {"sequence_length": 9}, [(7, 5)]),
    ("Masking", {}, [(7, 5)]),
    ("RepeatVector", {"n": 3}, [(5,)]),
    ("TimeDistributed", {}, [(7, 5)]),
    ("TimeDistributed", {"layer": {"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": [3]}}}, [(4, 9, 3)]),
    ("LayerScale", {"projection_dim": 3}, [(4, 4, 3)]),
    ("CustomScaleLayer", {"scale": 0.17}, [(4, 4, 3), (4, 4, 3)]),
    ("ops.add", {}, [(4, 3), (4, 3)]),
    ("ops.add", {"x2": 3.0}, [(4, 3)]),
    ("ops.subtract", {"x1": 1.0}, [(4, 3)]),
    ("ops.multiply", {}, [(4, 4, 3), (1, 1, 3)]),
    ("ops.divide", {"x2": 2}, [(5,)]),
    ("ops.true_divide", {}, [(5,), (5,)]),
    ("ops.maximum", {"x2": 0.0}, [(5,)]),
    ("ops.minimum", {}, [(5,), (5,)]),
    ("ops.power", {"x2": 2}, [(5,)]),
    *[(f"ops.{name}", {}, [(3, 5)]) for name in (
        "negative", "absolute", "square", "sqrt", "exp", "log", "tanh", "relu", "relu6", "sigmoid", "hard_sigmoid",
        "silu", "hard_silu", "gelu")],
    ("ops.softmax", {"axis": 1}, [(3, 5)]),
    ("ops.clip", {"x_min": -1.0, "x_max": 2.0}, [(3, 5)]),
    ("ops.reshape", {"newshape": [-1, 5, 3]}, [(3, 5)]),
    ("ops.transpose", {"axes": [0, 2, 1]}, [(3, 5)]),
    ("ops.expand_dims", {"axis": [1, -1]}, [(3, 5)]),
    ("ops.squeeze", {}, [(3, 1, 5)]),
    ("ops.squeeze", {"axis": [-2]}, [(3, 1, 5)]),
    ("ops.mean", {"axis": [1, 2], "keepdims": True}, [(3, 4, 5)]),
    ("ops.sum", {"axis": 1}, [(3, 4, 5)]),
    ("ops.max", {"axis": -1}, [(3, 4, 5)]),
    ("ops.concatenate", {"axis": 1}, [(2, 3), (4, 3)]),
    ("ops.matmul", {}, [(2, 3, 4), (2, 4, 5)]),
]


def test_every_catalog_type_is_exercised_and_categorised():
    assert {case[0] for case in CASES} | {"Input"} == set(CATALOG)
    assert all(spec.category in CATEGORIES for spec in CATALOG.values())
    assert sum(len(v) for v in by_category().values()) == len(CATALOG)
    assert all(spec.help and all(p.help for p in spec.params) for spec in CATALOG.values())


@pytest.mark.parametrize("type, override, shapes", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_inferred_shape_and_params_match_keras(type, override, shapes):
    import keras
    import numpy as np

    from studio.core.graph.keras_io import call_layer, make_layer

    params = {**default_params(type), **override}
    out, weights, trainable, _ = layer_info(type, params, shapes)
    layer = make_layer(type, "probe", params)
    inputs = [keras.Input(shape=s) for s in shapes]
    if type == "Embedding":
        inputs = [keras.Input(shape=shapes[0], dtype="int32")]
    result = call_layer(layer, type, params, inputs)
    assert tuple(result.shape[1:]) == out
    if type.startswith("ops."):
        return  # an operation holds no weights
    assert layer.count_params() == weights
    assert int(sum(np.prod(w.shape) for w in layer.trainable_weights)) == trainable


@pytest.mark.parametrize("type", sorted(set(CATALOG) - {"Input", "Sampling", "PositionalEmbedding", "Bidirectional", "TimeDistributed"}))
def test_catalog_defaults_are_valid_keras_config(type):
    from studio.core.graph.keras_io import CALL_PARAMS, make_layer

    spec = CATALOG[type]
    reference = make_layer(type, "probe", default_params(type)).get_config()
    for param in spec.params:
        if param.name in (*CALL_PARAMS.get(type, ()), *spec.operands):
            continue  # passed when the layer is called
        assert param.name in reference, f"{type}.{param.name} is not a Keras config key"
