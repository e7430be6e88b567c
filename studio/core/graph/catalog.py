"""The layer catalog: one declarative entry per node type.

Each entry names the Keras class, its palette category, how many inputs it takes and the params a
user edits (type, default, range or choices, and a one-line help text that teaches the idea). Param
names are the Keras config keys, so a node's params pass straight to ``from_config``.

Besides ``keras.layers``, the catalog allows by fully qualified class (module + class name) the
layers keras.applications defines for itself and the ``keras.ops`` operations that Keras records
in functional models (``x + 3.0``, ``keras.ops.hard_sigmoid(x)``): their type is ``ops.<function>``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from studio.core.params import ParamError, ParamSpec

ACTIVATIONS = (
    "linear", "relu", "sigmoid", "tanh", "softmax", "gelu", "swish", "silu", "elu", "selu",
    "leaky_relu", "relu6", "softplus", "softsign", "hard_sigmoid", "hard_silu", "mish", "exponential",
)
INITIALIZERS = (
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform", "lecun_normal",
    "orthogonal", "random_normal", "random_uniform", "truncated_normal", "zeros", "ones",
)


@dataclass(frozen=True)
class LayerSpec:
    type: str
    category: str
    help: str
    params: tuple[ParamSpec, ...] = ()
    min_inputs: int = 1
    max_inputs: int | None = 1
    keras_class: str = ""
    key_params: tuple[str, ...] = ()  # shown on the canvas node
    port_names: tuple[str, ...] = field(default=())
    module: str = "keras.layers"  # where Keras serializes the class; an imported layer must match it
    # An operation's call arguments in order; one that is also a param is that number when set,
    # else it reads the next input (``x + 3.0``: x1 an input, x2 = 3.0).
    operands: tuple[str, ...] = ()

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)


# -- param builders (keep the table below readable) ---------------------------------------------
def _int(name, default, help, lo=None, hi=None):
    return ParamSpec(name, "int", default, help, lo, hi)


def _float(name, default, help, lo=None, hi=None):
    return ParamSpec(name, "float", default, help, lo, hi)


def _bool(name, default, help):
    return ParamSpec(name, "bool", default, help)


def _choice(name, default, choices, help):
    return ParamSpec(name, "choice", default, help, choices=tuple(choices))


def _ints(name, default, help, lo=1, hi=None):
    return ParamSpec(name, "ints", list(default), help, lo, hi, length=len(default))


def _activation(default="linear"):
    return _choice("activation", default, ACTIVATIONS,
                   "Non-linearity applied to the output; without one, stacked layers collapse "
                   "into a single linear map.")


def _init(name="kernel_initializer", default="glorot_uniform"):
    return ParamSpec(name, "initializer", default,
                     "How the starting weights are drawn; He suits ReLU, Glorot suits tanh/sigmoid.",
                     choices=INITIALIZERS)


def _reg(name="kernel_regularizer"):
    return ParamSpec(name, "regularizer", None,
                     "Penalty on weight size added to the loss: L2 shrinks all weights, L1 pushes "
                     "many to exactly zero. Both fight overfitting.")


def _bias():
    return _bool("use_bias", True, "Adds a learned offset per output so the layer need not pass through zero.")


def _padding():
    return _choice("padding", "valid", ("valid", "same"),
                   "'valid' uses only full windows (output shrinks); 'same' pads so stride 1 keeps the size.")


def _conv_common(dims: int, filters: bool = True, groups: bool = False) -> tuple[ParamSpec, ...]:
    params = []
    if filters:
        params.append(_int("filters", 32, "Number of feature detectors; each makes one output channel.", 1, 65536))
    params += [
        _ints("kernel_size", [3] * dims, "Size of the sliding window each filter looks through."),
        _ints("strides", [1] * dims, "Step between window positions; 2 halves the output size."),
        _padding(),
        _ints("dilation_rate", [1] * dims, "Gaps inside the window: a wider view for the same weights."),
    ]
    if groups:
        params.append(_int("groups", 1, "Splits channels into independent groups (ResNeXt-style); "
                                        "filters and input channels must divide by it.", 1, 65536))
    return tuple(params)


def _pool(dims: int, kind: str) -> tuple[ParamSpec, ...]:
    return (
        _ints("pool_size", [2] * dims, f"Window over which the {kind} is taken."),
        ParamSpec("strides", "optional_ints", None, "Step between windows; empty means the pool size.",
                  1, None, length=dims),
        _padding(),
    )


def _rnn(extra: tuple[ParamSpec, ...] = ()) -> tuple[ParamSpec, ...]:
    return (
        _int("units", 32, "Size of the hidden state carried from one time step to the next.", 1, 65536),
        _activation("tanh"),
        *extra,
        _bool("return_sequences", False, "Output the state at every step (needed to stack recurrent "
                                         "layers) instead of only the last one."),
        _float("dropout", 0.0, "Fraction of inputs dropped at each step while training.", 0.0, 1.0),
        _float("recurrent_dropout", 0.0, "Fraction of the carried state dropped while training.", 0.0, 1.0),
        _bias(), _init(), _init("recurrent_initializer", "orthogonal"), _reg(), _reg("recurrent_regularizer"),
    )


_MERGE_HELP = {
    "Add": "Sums its inputs element-wise: the join of a residual (skip) connection.",
    "Subtract": "First input minus the second, element-wise.",
    "Multiply": "Element-wise product: lets one branch gate another.",
    "Average": "Element-wise mean of its inputs, as in simple ensembles.",
    "Maximum": "Element-wise maximum of its inputs.",
}

_SPECS: list[LayerSpec] = [
    # -- core ------------------------------------------------------------------------------
    LayerSpec("Input", "Core", "Where data enters the model; its shape must match one sample "
              "(without the batch dimension).",
              (ParamSpec("shape", "shape", [28, 28, 1], "Shape of one sample, e.g. 28,28,1 for a grayscale image."),
               _choice("dtype", "float32", ("float32", "int32", "int64"), "Number type of the input; "
                       "integer ids feed an Embedding.")),
              min_inputs=0, max_inputs=0, key_params=("shape",)),
    LayerSpec("Dense", "Core", "Fully connected: every output is a weighted sum of all inputs plus a bias.",
              (_int("units", 64, "Number of neurons, i.e. size of the output vector.", 1, 1 << 20),
               _activation(), _bias(), _init(), _init("bias_initializer", "zeros"), _reg(),
               _reg("bias_regularizer")), key_params=("units", "activation")),
    LayerSpec("Embedding", "Core", "Turns integer ids (words, categories) into learned dense vectors.",
              (_int("input_dim", 1000, "How many distinct ids exist (vocabulary size).", 1, 1 << 24),
               _int("output_dim", 64, "Length of the vector learned for each id.", 1, 65536),
               _bool("mask_zero", False, "Treat id 0 as padding that later layers ignore."),
               _init("embeddings_initializer", "uniform"), _reg("embeddings_regularizer")),
              key_params=("input_dim", "output_dim")),
    # -- convolution -----------------------------------------------------------------------
    LayerSpec("Conv1D", "Convolution", "Slides small filters along a sequence to detect local patterns.",
              (*_conv_common(1, groups=True), _activation(), _bias(), _init(), _reg()),
              key_params=("filters", "kernel_size", "strides")),
    LayerSpec("Conv2D", "Convolution", "Slides small filters over an image; each learns to respond to "
              "one local pattern such as an edge or a texture.",
              (*_conv_common(2, groups=True), _activation(), _bias(), _init(), _reg()),
              key_params=("filters", "kernel_size", "strides")),
    LayerSpec("Conv2DTranspose", "Convolution", "Learned upsampling: spreads each input value over a "
              "window, used in decoders and GAN generators.",
              (*_conv_common(2), ParamSpec("output_padding", "optional_ints", None,
                                           "Extra rows/columns added to one side to hit an exact size.",
                                           0, None, length=2),
               _activation(), _bias(), _init(), _reg()),
              key_params=("filters", "kernel_size", "strides")),
    LayerSpec("DepthwiseConv2D", "Convolution", "One filter per input channel, no mixing between "
              "channels: the cheap half of a separable convolution.",
              (*_conv_common(2, filters=False),
               _int("depth_multiplier", 1, "Output channels made per input channel.", 1, 1024),
               _activation(), _bias(), _init("depthwise_initializer"), _reg("depthwise_regularizer")),
              key_params=("kernel_size", "strides")),
    LayerSpec("SeparableConv2D", "Convolution", "A depthwise convolution followed by a 1x1 one: most of "
              "a full convolution's power for a fraction of its weights (MobileNet, Xception).",
              (*_conv_common(2), _int("depth_multiplier", 1, "Depthwise outputs per input channel.", 1, 1024),
               _activation(), _bias(), _init("depthwise_initializer"), _init("pointwise_initializer"),
               _reg("depthwise_regularizer"), _reg("pointwise_regularizer")),
              key_params=("filters", "kernel_size", "strides")),
    # -- pooling and resizing ---------------------------------------------------------------
    LayerSpec("MaxPooling1D", "Pooling", "Keeps the strongest response in each window of a sequence.",
              _pool(1, "maximum"), key_params=("pool_size",)),
    LayerSpec("MaxPooling2D", "Pooling", "Keeps the strongest response in each window: smaller maps, "
              "and tolerance to small shifts.", _pool(2, "maximum"), key_params=("pool_size",)),
    LayerSpec("AveragePooling1D", "Pooling", "Averages each window of a sequence.",
              _pool(1, "mean"), key_params=("pool_size",)),
    LayerSpec("AveragePooling2D", "Pooling", "Averages each window: a smooth way to shrink feature maps.",
              _pool(2, "mean"), key_params=("pool_size",)),
    LayerSpec("MaxUnpooling2D", "Pooling", "Undoes a MaxPooling2D as SegNet's decoder does: each value of "
              "the first input goes back to where its window's maximum was in the second input (the "
              "tensor before that pooling), zeros elsewhere, so edges land at their exact place. "
              "Connect the pooling's input as the second input.",
              (_ints("pool_size", [2, 2], "Window (and stride) of the MaxPooling2D being undone."),),
              min_inputs=2, max_inputs=2, key_params=("pool_size",), port_names=("x", "before_pool")),
    *[LayerSpec(name, "Pooling", text, (_bool("keepdims", False, "Keep the pooled spatial axes with size 1."),))
      for name, text in (
          ("GlobalAveragePooling1D", "Averages over the whole sequence: one value per channel."),
          ("GlobalAveragePooling2D", "Averages each whole feature map to one number: replaces Flatten "
                                     "with far fewer weights after it."),
          ("GlobalMaxPooling1D", "Takes the maximum over the whole sequence per channel."),
          ("GlobalMaxPooling2D", "Takes each feature map's strongest response."))],
    LayerSpec("UpSampling2D", "Reshape", "Enlarges feature maps by repeating (or interpolating) pixels.",
              (_ints("size", [2, 2], "Factor by which height and width grow."),
               _choice("interpolation", "nearest", ("nearest", "bilinear", "bicubic"),
                       "How new pixels are filled in.")), key_params=("size",)),
    LayerSpec("ZeroPadding2D", "Reshape", "Adds rows and columns of zeros around each feature map.",
              (ParamSpec("padding", "pad2d", [[1, 1], [1, 1]], "Rows (top, bottom) and columns (left, right) to add.", 0),),
              key_params=("padding",)),
    LayerSpec("Cropping2D", "Reshape", "Cuts rows and columns off the borders of each feature map.",
              (ParamSpec("cropping", "pad2d", [[0, 0], [0, 0]], "Rows (top, bottom) and columns (left, right) to remove.", 0),),
              key_params=("cropping",)),
    LayerSpec("Flatten", "Reshape", "Unrolls a feature map into one long vector so Dense layers can use it."),
    LayerSpec("Reshape", "Reshape", "Rearranges values into a new shape with the same total size.",
              (ParamSpec("target_shape", "shape", [-1], "New shape without the batch; one entry may be -1 "
                                                        "(inferred)."),), key_params=("target_shape",)),
    # -- normalization -----------------------------------------------------------------------
    LayerSpec("Rescaling", "Normalization", "Multiplies inputs by a constant and adds an offset, e.g. "
              "1/255 to bring pixels into [0, 1].",
              (_float("scale", 1 / 255, "Factor applied to every input."),
               _float("offset", 0.0, "Value added after scaling.")), key_params=("scale",)),
    LayerSpec("Normalization", "Normalization", "Shifts and scales each feature to zero mean and unit "
              "variance, using statistics measured on the training data.",
              (ParamSpec("axis", "axis", -1, "Axis kept separate: each channel gets its own mean and variance."),)),
    LayerSpec("BatchNormalization", "Normalization", "Normalizes each channel with the batch's mean and "
              "variance while training: faster, steadier training of deep nets.",
              (_float("momentum", 0.99, "How slowly the running mean and variance follow the batches.", 0.0, 1.0),
               _float("epsilon", 0.001, "Small constant that avoids dividing by zero.", 0.0),
               _bool("center", True, "Learn an offset (beta) after normalizing."),
               _bool("scale", True, "Learn a scale (gamma) after normalizing."),
               ParamSpec("axis", "axis", -1, "The channel axis.")), key_params=()),
    LayerSpec("LayerNormalization", "Normalization", "Normalizes across the features of each sample "
              "(not the batch): the norm used in transformers and RNNs.",
              (_float("epsilon", 0.001, "Small constant that avoids dividing by zero.", 0.0),
               _bool("center", True, "Learn an offset after normalizing."),
               _bool("scale", True, "Learn a scale after normalizing."),
               ParamSpec("axis", "axis", -1, "Axis (or axes) normalized over."))),
    LayerSpec("LayerScale", "Normalization", "ConvNeXt's learned per-channel scale of a residual branch, "
              "started small so deep stacks train stably.",
              (_float("init_values", 1e-6, "Starting value of every scale."),
               _int("projection_dim", 64, "Number of channels (the input's last dimension).", 1, 1 << 20)),
              key_params=("projection_dim",), module="keras.src.applications.convnext"),
    # -- regularization ----------------------------------------------------------------------
    LayerSpec("Dropout", "Regularization", "Zeros a random fraction of values while training so the net "
              "cannot rely on any single unit; does nothing at inference.",
              (_float("rate", 0.5, "Fraction of values dropped.", 0.0, 0.999),), key_params=("rate",)),
    LayerSpec("SpatialDropout2D", "Regularization", "Drops whole feature maps instead of single pixels, "
              "which suits correlated neighbouring pixels.",
              (_float("rate", 0.2, "Fraction of channels dropped.", 0.0, 0.999),), key_params=("rate",)),
    LayerSpec("GaussianNoise", "Regularization", "Adds random noise to its input while training: a "
              "simple guard against overfitting.",
              (_float("stddev", 0.1, "Standard deviation of the added noise.", 0.0),), key_params=("stddev",)),
    # -- activations -------------------------------------------------------------------------
    LayerSpec("Activation", "Activation", "Applies a named non-linearity (relu, sigmoid, tanh, gelu, "
              "swish, softmax...).", (_activation("relu"),), key_params=("activation",)),
    LayerSpec("ReLU", "Activation", "max(0, x): cheap, and its gradient does not vanish for positive "
              "inputs, which made deep nets trainable.",
              (ParamSpec("max_value", "optional_float", None, "Upper cap (6 gives ReLU6, used in MobileNet).", 0.0),
               _float("negative_slope", 0.0, "Slope for negative inputs (0 is plain ReLU).", 0.0),
               _float("threshold", 0.0, "Inputs below this are treated as negative."))),
    LayerSpec("LeakyReLU", "Activation", "Like ReLU but lets a small slope through for negative inputs, "
              "so units never die completely.",
              (_float("negative_slope", 0.3, "Slope for negative inputs.", 0.0),), key_params=("negative_slope",)),
    LayerSpec("ELU", "Activation", "Smooth for negative inputs (tends to -alpha), pushing mean outputs "
              "toward zero.", (_float("alpha", 1.0, "Value approached for very negative inputs.", 0.0),)),
    LayerSpec("PReLU", "Activation", "A leaky ReLU whose negative slope is learned per unit.",
              (_init("alpha_initializer", "zeros"), _reg("alpha_regularizer"),
               ParamSpec("shared_axes", "optional_ints", None, "Axes sharing one slope, e.g. 1,2 for one "
                                                               "slope per channel.", 1, None))),
    LayerSpec("Softmax", "Activation", "Turns scores into probabilities that are positive and sum to one.",
              (ParamSpec("axis", "axis", -1, "Axis along which probabilities sum to one."),)),
    # -- merge -------------------------------------------------------------------------------
    *[LayerSpec(name, "Merge", text, min_inputs=2, max_inputs=2 if name == "Subtract" else None)
      for name, text in _MERGE_HELP.items()],
    LayerSpec("CustomScaleLayer", "Merge", "InceptionResNetV2's residual join: the first input plus the "
              "second times a fixed scale.",
              (_float("scale", 0.1, "Factor applied to the second input (the residual branch)."),),
              min_inputs=2, max_inputs=2, key_params=("scale",),
              module="keras.src.applications.inception_resnet_v2"),
    LayerSpec("Concatenate", "Merge", "Stacks its inputs along one axis, e.g. the branches of an "
              "Inception block along channels.",
              (ParamSpec("axis", "axis", -1, "Axis to join along; other axes must match."),),
              min_inputs=2, max_inputs=None),
    # -- recurrent ---------------------------------------------------------------------------
    LayerSpec("SimpleRNN", "Recurrent", "Reads a sequence step by step, updating a hidden state: the "
              "simplest recurrent cell, prone to vanishing gradients.", _rnn(), key_params=("units",)),
    LayerSpec("LSTM", "Recurrent", "A recurrent cell with gates that decide what to keep, forget and "
              "output: remembers over long sequences.",
              _rnn((_choice("recurrent_activation", "sigmoid", ACTIVATIONS, "Activation of the gates."),
                    _bool("unit_forget_bias", True, "Start the forget gate open so memories persist early."))),
              key_params=("units", "return_sequences")),
    LayerSpec("GRU", "Recurrent", "A lighter gated recurrent cell (update and reset gates), often as "
              "good as an LSTM.",
              _rnn((_choice("recurrent_activation", "sigmoid", ACTIVATIONS, "Activation of the gates."),
                    _bool("reset_after", True, "Apply the reset gate after the matrix product (cuDNN-compatible)."))),
              key_params=("units", "return_sequences")),
    LayerSpec("Bidirectional", "Recurrent", "Runs a recurrent layer forwards and backwards and merges "
              "both, so every step sees past and future context.",
              (ParamSpec("layer", "layer", {"class_name": "LSTM", "config": {"units": 32}},
                         "The recurrent layer run in both directions."),
               _choice("merge_mode", "concat", ("concat", "sum", "mul", "ave"), "How the two directions are combined.")),
              key_params=("merge_mode",)),
    # -- attention ---------------------------------------------------------------------------
    LayerSpec("MultiHeadAttention", "Attention", "Each position looks at every other position through "
              "several learned heads: the core of transformers. Inputs: query, value[, key].",
              (_int("num_heads", 4, "Number of parallel attention heads.", 1, 1024),
               _int("key_dim", 32, "Size of each head's query/key projection.", 1, 65536),
               ParamSpec("value_dim", "optional_int", None, "Size of each head's value projection (default key_dim).", 1),
               _float("dropout", 0.0, "Dropout on the attention weights.", 0.0, 1.0), _bias(), _init(), _reg(),
               _bool("use_causal_mask", False, "Each position sees only itself and earlier ones (GPT-style "
                     "decoders); passed when the layer is called.")),
              min_inputs=2, max_inputs=3, key_params=("num_heads", "key_dim"),
              port_names=("query", "value", "key")),
    LayerSpec("Attention", "Attention", "Dot-product attention: weights the value vectors by how well "
              "their keys match each query. Inputs: query, value[, key].",
              (_bool("use_scale", False, "Learn a scale for the scores."),
               _choice("score_mode", "dot", ("dot", "concat"), "How query and key are compared."),
               _float("dropout", 0.0, "Dropout on the attention weights.", 0.0, 1.0)),
              min_inputs=2, max_inputs=3, port_names=("query", "value", "key")),
    LayerSpec("PositionalEmbedding", "Attention", "Adds a learned vector for each position to a sequence of "
              "embeddings, so attention (which ignores order) can tell first from last.",
              (_int("sequence_length", 128, "Longest sequence it can take (one vector per position).", 1, 1 << 20),
               _init("initializer", "glorot_uniform")), key_params=("sequence_length",)),
    # -- sequence ----------------------------------------------------------------------------
    LayerSpec("Masking", "Recurrent", "Marks time steps whose features all equal mask_value as padding, "
              "so recurrent and attention layers skip them.",
              (_float("mask_value", 0.0, "Feature value that marks a padded step."),)),
    LayerSpec("TimeDistributed", "Recurrent", "Applies one layer (e.g. Dense) to every time step with the same "
              "weights: per-step outputs for many-to-many models.",
              (ParamSpec("layer", "layer", {"class_name": "Dense", "config": {"units": 32}},
                         "The layer applied to each step."),), key_params=()),
    LayerSpec("RepeatVector", "Recurrent", "Repeats a vector n times into a sequence: how a decoder starts "
              "from an encoder's summary (one-to-many).",
              (_int("n", 8, "Number of time steps to produce.", 1, 1 << 20),), key_params=("n",)),
    LayerSpec("ChannelShuffle", "Reshape", "Interleaves the channels of its groups (ShuffleNet): after a "
              "grouped convolution each group saw only its own channels; shuffled, the next grouped "
              "convolution mixes information from all of them, at no cost in weights.",
              (_int("groups", 2, "Number of channel groups; the channel count must divide by it.", 1, 65536),),
              key_params=("groups",)),
    # -- generative --------------------------------------------------------------------------
    LayerSpec("Sampling", "Generative", "Draws z = mean + exp(log_var / 2) * noise: the "
              "reparameterization trick that lets a VAE learn through random sampling. Inputs: "
              "mean, log_var.", (), min_inputs=2, max_inputs=2, port_names=("z_mean", "z_log_var")),
]



# -- keras.ops operations (functional models record them as nodes) ------------------------------
def _op(function: str, keras_class: str, module: str, help: str, params: tuple[ParamSpec, ...] = (),
        operands: tuple[str, ...] = ("x",), inputs: tuple[int, int | None] | None = None) -> LayerSpec:
    """An operation ``keras.ops.<function>``; ``inputs`` (least, most) defaults to its tensor operands."""
    numbers = {p.name for p in params} & set(operands)
    least, most = inputs or (max(1, len(operands) - len(numbers)), len(operands))
    return LayerSpec(f"ops.{function}", "Operations", help, params, least, most, keras_class,
                     tuple(p.name for p in params), module=f"keras.src.ops.{module}", operands=operands)


def _operand(name: str) -> ParamSpec:
    return ParamSpec(name, "optional_float", None, "A fixed number used as this operand; empty reads it "
                                                   "from an input.")


def _ops_axis(default):
    return ParamSpec("axis", "axis", default, "Axis counted with the batch as 0 (-1 is the last).")


_BINARY = ("x1", "x2")
_OPERATIONS = [
    *[_op(f, c, "numpy", text, (_operand("x1"), _operand("x2")), _BINARY) for f, c, text in (
        ("add", "Add", "x1 + x2, element-wise (x + y, x + 3.0 in a model's code)."),
        ("subtract", "Subtract", "x1 - x2, element-wise."),
        ("multiply", "Multiply", "x1 * x2, element-wise: scales, or gates one branch by another."),
        ("divide", "Divide", "x1 / x2, element-wise."),
        ("true_divide", "TrueDivide", "x1 / x2, element-wise (what x / y records)."),
        ("maximum", "Maximum", "The larger of x1 and x2, element-wise."),
        ("minimum", "Minimum", "The smaller of x1 and x2, element-wise."),
        ("power", "Power", "x1 raised to x2, element-wise (x ** 2)."))],
    *[_op(f, c, module, text) for f, c, module, text in (
        ("negative", "Negative", "numpy", "-x, element-wise."),
        ("absolute", "Absolute", "numpy", "|x|, element-wise."),
        ("square", "Square", "numpy", "x squared, element-wise."),
        ("sqrt", "Sqrt", "numpy", "Square root, element-wise."),
        ("exp", "Exp", "numpy", "e to the x, element-wise."),
        ("log", "Log", "numpy", "Natural logarithm, element-wise."),
        ("tanh", "Tanh", "numpy", "Hyperbolic tangent, element-wise."),
        ("relu", "Relu", "nn", "max(0, x), element-wise."),
        ("relu6", "Relu6", "nn", "min(max(0, x), 6), element-wise (MobileNet)."),
        ("sigmoid", "Sigmoid", "nn", "1 / (1 + e^-x), element-wise."),
        ("hard_sigmoid", "HardSigmoid", "nn", "A piecewise-linear sigmoid, cheap on phones."),
        ("silu", "Silu", "nn", "x * sigmoid(x) (swish), element-wise."),
        ("hard_silu", "HardSilu", "nn", "x * hard_sigmoid(x) (hard swish, MobileNetV3)."))],
    _op("gelu", "Gelu", "nn", "Gaussian error linear unit (transformers).",
        (_bool("approximate", True, "Use the tanh approximation."),)),
    _op("softmax", "Softmax", "nn", "Probabilities along one axis.", (_ops_axis(-1),)),
    _op("clip", "Clip", "numpy", "Limits every value to [x_min, x_max].",
        (_float("x_min", 0.0, "Smallest value kept."), _float("x_max", 1.0, "Largest value kept."))),
    _op("reshape", "Reshape", "numpy", "Rearranges values into a new shape (keras.ops.reshape).",
        (ParamSpec("newshape", "shape", [-1, 1], "New shape with the batch first (-1 keeps it)."),)),
    _op("transpose", "Transpose", "numpy", "Reorders axes (keras.ops.transpose).",
        (ParamSpec("axes", "optional_ints", [0, 1], "New order of the axes, the batch (0) first.", 0),)),
    _op("expand_dims", "ExpandDims", "numpy", "Inserts an axis of size 1.", (_ops_axis(-1),)),
    _op("squeeze", "Squeeze", "numpy", "Removes axes of size 1.",
        (ParamSpec("axis", "optional_ints", None, "Axes to remove; empty removes every size-1 axis.", None),)),
    *[_op(f, c, "numpy", text, (ParamSpec("axis", "optional_ints", -1, "Axes reduced, counted with the batch "
                                          "as 0 (-1 is the last).", None), _bool("keepdims", False, "Keep the reduced axes with size 1."),
                                *extra)) for f, c, text, extra in (
        ("mean", "Mean", "Mean over the given axes.", ()),
        ("sum", "Sum", "Sum over the given axes.", ()),
        ("max", "Max", "Maximum over the given axes.",
         (ParamSpec("initial", "optional_float", None, "Smallest value the maximum may take."),)))],
    _op("concatenate", "Concatenate", "numpy", "Joins its inputs along one axis.", (_ops_axis(-1),),
        ("xs",), inputs=(2, None)),
    _op("matmul", "Matmul", "numpy", "Matrix product x1 @ x2 of the last two axes.", (), _BINARY),
]

CATALOG: dict[str, LayerSpec] = {
    spec.type: LayerSpec(**{**spec.__dict__, "keras_class": spec.keras_class or spec.type})
    for spec in [*_SPECS, *_OPERATIONS]
}
CATEGORIES = ("Core", "Convolution", "Pooling", "Reshape", "Normalization", "Regularization",
              "Activation", "Merge", "Recurrent", "Attention", "Generative", "Operations")
# (module, class name) as Keras serializes it -> catalog type; Keras layers also load without a module.
BY_KERAS_CLASS: dict[tuple[str, str], str] = {(s.module, s.keras_class): s.type for s in CATALOG.values()
                                              if s.type != "Input"}


class UnknownLayerError(KeyError):
    def __str__(self) -> str:
        return f"Unknown layer type {self.args[0]!r}: it is not in the DL Studio catalog"


def get_spec(type: str) -> LayerSpec:
    """The catalog entry of layer type ``type``.

    Raises:
        UnknownLayerError: ``type`` is not in the catalog.
    """
    try:
        return CATALOG[type]
    except KeyError:
        raise UnknownLayerError(type) from None


def default_params(type: str) -> dict[str, Any]:
    """A fresh dict of the catalog defaults for ``type``.

    Raises:
        UnknownLayerError: ``type`` is not in the catalog.
    """
    return {p.name: p.default_value() for p in get_spec(type).params}


def by_category() -> dict[str, list[LayerSpec]]:
    """Catalog entries grouped by palette category, in palette order."""
    groups: dict[str, list[LayerSpec]] = {c: [] for c in CATEGORIES}
    for spec in CATALOG.values():
        groups[spec.category].append(spec)
    return groups


def snake_name(type: str) -> str:
    """Keras-style default layer name: ``Conv2DTranspose`` -> ``conv2d_transpose``, ``ops.add`` -> ``add``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", type.rpartition(".")[2])
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def validate_params(type: str, params: dict[str, Any]) -> list[str]:
    """Messages for every catalog param of ``params`` that is missing a value or out of range.

    Args:
        type: the node's catalog type.
        params: the node's params; params the catalog does not declare, and declared ones absent
            from ``params``, are not checked.

    Returns:
        One sentence per bad value; empty when all are good.

    Raises:
        UnknownLayerError: ``type`` is not in the catalog.
    """
    spec = get_spec(type)
    errors = []
    for param in spec.params:
        if param.name in params:
            try:
                param.check(params[param.name])
            except ParamError as exc:
                errors.append(str(exc))
    return errors
