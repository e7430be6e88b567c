"""Pure-Python output shape and parameter rules for every catalog layer (no Keras, no weights).

``layer_info(type, params, input_shapes)`` returns ``(output_shape, params, trainable, flops)``
for one sample (shapes exclude the batch dimension) or raises ``ShapeError`` with a message that
names the shapes involved.
"""

from __future__ import annotations


from typing import Any, Callable

from studio.core.params import pad_pairs

Shape = tuple  # of int | None


class ShapeError(ValueError):
    pass


def _fmt(shape: Shape) -> str:
    return "(" + ", ".join("?" if d is None else str(d) for d in shape) + ")"


def _tuple(value: Any, n: int) -> tuple:
    if isinstance(value, (list, tuple)):
        return tuple(value) * n if len(value) == 1 else tuple(value)
    return (value,) * n


def _prod(values) -> int | None:
    total = 1
    for v in values:
        if v is None:
            return None
        total *= v
    return total


def _rank(shape: Shape, rank: int, what: str) -> None:
    if len(shape) != rank:
        raise ShapeError(f"{what} expects an input of rank {rank} (per sample), got shape {_fmt(shape)}")


def conv_length(size, kernel, stride, padding, dilation=1):
    """Output length of a convolution or pooling window along one axis."""
    if size is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "same":
        return -(-size // stride)
    out = (size - effective) // stride + 1
    if out < 1:
        raise ShapeError(f"window {effective} does not fit in an input of size {size} with 'valid' padding")
    return out


def deconv_length(size, kernel, stride, padding, output_padding=None, dilation=1):
    """Output length of a transposed convolution along one axis (Keras's formula)."""
    if size is None:
        return None
    kernel = (kernel - 1) * dilation + 1
    if output_padding is None:
        return size * stride + (max(kernel - stride, 0) if padding == "valid" else 0)
    pad = kernel // 2 if padding == "same" else 0
    return (size - 1) * stride + kernel - 2 * pad + output_padding


def _conv(dims: int, transpose=False, depthwise=False, separable=False):
    def rule(p, shapes):
        (shape,) = shapes
        _rank(shape, dims + 1, f"A {dims}-D convolution")
        cin = shape[-1]
        if cin is None:
            raise ShapeError("the channel count of the input must be known")
        kernel = _tuple(p.get("kernel_size", 3), dims)
        strides = _tuple(p.get("strides", 1), dims)
        dilation = _tuple(p.get("dilation_rate", 1), dims)
        padding = p.get("padding", "valid")
        groups = p.get("groups", 1) or 1
        if transpose:
            out_pad = p.get("output_padding")
            out_pad = _tuple(out_pad, dims) if out_pad is not None else (None,) * dims
            spatial = tuple(deconv_length(s, k, st, padding, op, d)
                            for s, k, st, op, d in zip(shape[:-1], kernel, strides, out_pad, dilation))
        else:
            spatial = tuple(conv_length(s, k, st, padding, d)
                            for s, k, st, d in zip(shape[:-1], kernel, strides, dilation))
        k = _prod(kernel)
        bias = 1 if p.get("use_bias", True) else 0
        if depthwise:
            mult = p.get("depth_multiplier", 1)
            cout = cin * mult
            weights = k * cin * mult + bias * cout
            macs_per_pos = k * cin * mult
        elif separable:
            mult = p.get("depth_multiplier", 1)
            cout = p["filters"]
            weights = k * cin * mult + cin * mult * cout + bias * cout
            macs_per_pos = k * cin * mult + cin * mult * cout
        else:
            cout = p["filters"]
            if cin % groups or cout % groups:
                raise ShapeError(f"groups={groups} must divide both the input channels ({cin}) "
                                 f"and filters ({cout})")
            weights = k * (cin // groups) * cout + bias * cout
            macs_per_pos = k * (cin // groups) * cout
        out = (*spatial, cout)
        positions = _prod(shape[:-1] if transpose else spatial) or 0
        return out, weights, weights, 2 * macs_per_pos * positions
    return rule


def _pool(dims: int):
    def rule(p, shapes):
        (shape,) = shapes
        _rank(shape, dims + 1, f"A {dims}-D pooling layer")
        pool = _tuple(p.get("pool_size", 2), dims)
        strides = _tuple(p.get("strides") or pool, dims)
        padding = p.get("padding", "valid")
        spatial = tuple(conv_length(s, k, st, padding) for s, k, st in zip(shape[:-1], pool, strides))
        out = (*spatial, shape[-1])
        return out, 0, 0, (_prod(out) or 0) * _prod(pool)
    return rule


def _unpool(p, shapes):
    values, reference = shapes
    _rank(reference, 3, "MaxUnpooling2D's second input (the tensor before the pooling)")
    _rank(values, 3, "MaxUnpooling2D's first input")
    pool = _tuple(p.get("pool_size", 2), 2)
    pooled = (*(None if s is None else s // k for s, k in zip(reference[:2], pool)), reference[2])
    if any(None not in (a, b) and a != b for a, b in zip(values, pooled)):
        raise ShapeError(f"the first input {_fmt(values)} must have the shape {_fmt(pooled)} that a "
                         f"{pool[0]}x{pool[1]} pooling makes of the second input {_fmt(reference)}")
    return reference, 0, 0, 2 * (_prod(reference) or 0)


def _channel_shuffle(p, shapes):
    (shape,) = shapes
    if len(shape) < 2 or shape[-1] is None:
        raise ShapeError(f"ChannelShuffle needs positions and known channels, got {_fmt(shape)}")
    if shape[-1] % p["groups"]:
        raise ShapeError(f"{shape[-1]} channels do not split into {p['groups']} equal groups")
    return shape, 0, 0, 0


def _global_pool(dims: int):
    def rule(p, shapes):
        (shape,) = shapes
        _rank(shape, dims + 1, f"A global {dims}-D pooling layer")
        out = (1,) * dims + (shape[-1],) if p.get("keepdims") else (shape[-1],)
        return out, 0, 0, _prod(shape) or 0
    return rule


def _dense(p, shapes):
    (shape,) = shapes
    if not shape or shape[-1] is None:
        raise ShapeError(f"Dense needs a known last dimension, got {_fmt(shape)}")
    units = p["units"]
    weights = shape[-1] * units + (units if p.get("use_bias", True) else 0)
    rows = _prod(shape[:-1]) or 1
    return (*shape[:-1], units), weights, weights, 2 * shape[-1] * units * rows


def _identity(p, shapes):
    (shape,) = shapes
    return shape, 0, 0, 0


def _elementwise(p, shapes):
    (shape,) = shapes
    return shape, 0, 0, _prod(shape) or 0


def _flatten(p, shapes):
    (shape,) = shapes
    return (_prod(shape),), 0, 0, 0


def _reshape(p, shapes):
    (shape,) = shapes
    target = list(p["target_shape"])
    total = _prod(shape)
    if target.count(-1) > 1:
        raise ShapeError(f"target shape {_fmt(tuple(target))} may contain at most one -1")
    if -1 in target:
        known = _prod([t for t in target if t != -1])
        if total is not None and (known == 0 or total % known):
            raise ShapeError(f"cannot reshape {_fmt(shape)} ({total} values) into {_fmt(tuple(target))}")
        target[target.index(-1)] = None if total is None else total // known
    elif total is not None and _prod(target) != total:
        raise ShapeError(f"cannot reshape {_fmt(shape)} ({total} values) into {_fmt(tuple(target))} "
                         f"({_prod(target)} values)")
    return tuple(target), 0, 0, 0


def _sample_axis(shape: Shape, axis: int) -> int:
    """Index into a per-sample shape of a Keras axis (Keras counts the batch as axis 0)."""
    index = axis - 1 if axis >= 0 else len(shape) + axis
    if not 0 <= index < len(shape):
        raise ShapeError(f"axis {axis} does not exist for inputs of shape (batch, {_fmt(shape)[1:]}")
    return index


def _axis_size(shape: Shape, axis) -> int:
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    return _prod(shape[_sample_axis(shape, a)] for a in axes) or 0


def _batchnorm(p, shapes):
    (shape,) = shapes
    channels = _axis_size(shape, p.get("axis", -1))
    trainable = channels * (int(p.get("center", True)) + int(p.get("scale", True)))
    return shape, trainable + 2 * channels, trainable, 4 * (_prod(shape) or 0)


def _layernorm(p, shapes):
    (shape,) = shapes
    size = _axis_size(shape, p.get("axis", -1))
    trainable = size * (int(p.get("center", True)) + int(p.get("scale", True)))
    return shape, trainable, trainable, 5 * (_prod(shape) or 0)


def _normalization(p, shapes):
    (shape,) = shapes
    size = _axis_size(shape, p.get("axis", -1))
    fixed = p.get("mean") is not None and p.get("variance") is not None  # given, not adapted: no weights
    return shape, 0 if fixed else 2 * size + 1, 0, 2 * (_prod(shape) or 0)


def _prelu(p, shapes):
    (shape,) = shapes
    shared = p.get("shared_axes") or []
    shared = [shared] if isinstance(shared, int) else shared
    alphas = _prod(1 if i + 1 in shared else d for i, d in enumerate(shape)) or 0
    return shape, alphas, alphas, 2 * (_prod(shape) or 0)


def _broadcast(p, shapes):
    """Element-wise merge: shapes must match, except that a size of 1 stretches (broadcasting)."""
    out = list(shapes[0])
    for other in shapes[1:]:
        if len(other) != len(out):
            raise ShapeError(f"inputs must have the same rank, got {_fmt(tuple(out))} and {_fmt(other)}")
        for i, (a, b) in enumerate(zip(out, other)):
            if a == 1 or a is None:
                out[i] = b if a == 1 else a
            elif b not in (1, None, a):
                raise ShapeError(f"inputs must have the same shape, got {_fmt(shapes[0])} and {_fmt(other)}")
    return tuple(out), 0, 0, (_prod(out) or 0) * (len(shapes) - 1)


def _sampling(p, shapes):
    first, second = shapes
    if tuple(first) != tuple(second):
        raise ShapeError(f"mean {_fmt(first)} and log-variance {_fmt(second)} must have the same shape")
    return first, 0, 0, 3 * (_prod(first) or 0)


def _concatenate(p, shapes):
    rank = len(shapes[0])
    axis = _sample_axis(shapes[0], p.get("axis", -1))
    for other in shapes[1:]:
        if len(other) != rank or any(a != b for i, (a, b) in enumerate(zip(shapes[0], other)) if i != axis):
            raise ShapeError(f"inputs must match except on axis {axis}, got {_fmt(shapes[0])} and {_fmt(other)}")
    joined = None if any(s[axis] is None for s in shapes) else sum(s[axis] for s in shapes)
    return tuple(joined if i == axis else d for i, d in enumerate(shapes[0])), 0, 0, 0


def _pad_crop(key: str, sign: int):
    def rule(p, shapes):
        (shape,) = shapes
        _rank(shape, 3, "A 2-D padding/cropping layer")
        (top, bottom), (left, right) = pad_pairs(p[key])
        h = None if shape[0] is None else shape[0] + sign * (top + bottom)
        w = None if shape[1] is None else shape[1] + sign * (left + right)
        if (h is not None and h < 1) or (w is not None and w < 1):
            raise ShapeError(f"cropping {p[key]} removes everything from {_fmt(shape)}")
        return (h, w, shape[2]), 0, 0, 0
    return rule


def _upsampling(p, shapes):
    (shape,) = shapes
    _rank(shape, 3, "UpSampling2D")
    size = _tuple(p.get("size", 2), 2)
    out = tuple(None if s is None else s * f for s, f in zip(shape[:2], size)) + (shape[2],)
    return out, 0, 0, _prod(out) or 0


def _embedding(p, shapes):
    (shape,) = shapes
    weights = p["input_dim"] * p["output_dim"]
    return (*shape, p["output_dim"]), weights, weights, 0


_GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}


def _rnn_weights(type: str, p: dict, features: int) -> int:
    units = p["units"]
    gates = _GATES[type]
    bias = 0 if not p.get("use_bias", True) else (2 if type == "GRU" and p.get("reset_after", True) else 1)
    return gates * units * (features + units + bias)


def _rnn(type: str):
    def rule(p, shapes):
        (shape,) = shapes
        _rank(shape, 2, type + " (a sequence: steps, features)")
        if p.get("return_state"):
            raise ShapeError("return_state is not supported on the canvas: use return_sequences")
        weights = _rnn_weights(type, p, shape[1])
        out = (shape[0], p["units"]) if p.get("return_sequences") else (p["units"],)
        return out, weights, weights, 2 * weights * (shape[0] or 1)
    return rule


def _bidirectional(p, shapes):
    (shape,) = shapes
    inner = p["layer"]
    inner_type = inner.get("class_name") if isinstance(inner, dict) else None
    if inner_type not in _GATES:
        raise ShapeError(f"Bidirectional wraps SimpleRNN, LSTM or GRU, not {inner_type!r}")
    inner_params = {"units": 32, **inner.get("config", {})}
    out, weights, _, flops = _rnn(inner_type)(inner_params, shapes)
    if p.get("merge_mode", "concat") == "concat":
        out = (*out[:-1], out[-1] * 2)
    return out, 2 * weights, 2 * weights, 2 * flops


def _attention_inputs(shapes):
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) > 2 else value
    return query, value, key


def _mha(p, shapes):
    query, value, key = _attention_inputs(shapes)
    heads, key_dim = p["num_heads"], p["key_dim"]
    value_dim = p.get("value_dim") or key_dim
    bias = 1 if p.get("use_bias", True) else 0
    out_dim = query[-1]
    weights = (query[-1] * heads * key_dim + bias * heads * key_dim
               + key[-1] * heads * key_dim + bias * heads * key_dim
               + value[-1] * heads * value_dim + bias * heads * value_dim
               + heads * value_dim * out_dim + bias * out_dim)
    tq, tv = (_prod(query[:-1]) or 1), (_prod(value[:-1]) or 1)
    flops = 2 * (weights * max(tq, tv) + heads * tq * tv * (key_dim + value_dim))
    return query, weights, weights, flops


def _attention(p, shapes):
    query, value, key = _attention_inputs(shapes)
    if query[-1] != key[-1]:
        raise ShapeError(f"query {_fmt(query)} and key {_fmt(key)} need the same last dimension")
    weights = 1 if p.get("use_scale") else 0
    return (*query[:-1], value[-1]), weights, weights, 4 * (_prod(query) or 0) * (value[0] or 1)


def _positional(p, shapes):
    (shape,) = shapes
    _rank(shape, 2, "PositionalEmbedding (a sequence: steps, features)")
    if shape[0] is not None and shape[0] > p["sequence_length"]:
        raise ShapeError(f"sequences of {shape[0]} steps are longer than sequence_length {p['sequence_length']}")
    weights = p["sequence_length"] * shape[1]
    return shape, weights, weights, _prod(shape) or 0


def _repeat(p, shapes):
    (shape,) = shapes
    _rank(shape, 1, "RepeatVector (a vector)")
    return (p["n"], shape[0]), 0, 0, 0


def _time_distributed(p, shapes):
    (shape,) = shapes
    inner = p["layer"] if isinstance(p["layer"], dict) else {}
    inner_type = inner.get("class_name")
    if inner_type not in RULES or inner_type in ("TimeDistributed", "Bidirectional"):
        raise ShapeError(f"TimeDistributed wraps a catalog layer such as Dense, not {inner_type!r}")
    if len(shape) < 2:
        raise ShapeError(f"TimeDistributed needs a sequence (steps, ...), got {_fmt(shape)}")
    from studio.core.graph.catalog import default_params

    out, weights, trainable, flops = RULES[inner_type]({**default_params(inner_type), **inner.get("config", {})},
                                                       [shape[1:]])
    return (shape[0], *out), weights, trainable, flops * (shape[0] or 1)


def _layer_scale(p, shapes):
    (shape,) = shapes
    if shape[-1] not in (None, p["projection_dim"]):
        raise ShapeError(f"projection_dim {p['projection_dim']} must equal the channels of {_fmt(shape)}")
    return shape, p["projection_dim"], p["projection_dim"], _prod(shape) or 0


def _custom_scale(p, shapes):
    out, _, _, flops = _broadcast(p, shapes)
    return out, 0, 0, 2 * flops


# -- keras.ops operations: axes count the batch as 0, which an operation must leave alone ----------
def _op_axes(axis, rank: int) -> list[int]:
    """Per-sample indices of Keras ``axis`` (an int or a list, batch = 0) of a tensor of per-sample ``rank``."""
    axes = []
    for a in axis if isinstance(axis, (list, tuple)) else [axis]:
        full = a + rank + 1 if a < 0 else a
        if full == 0:
            raise ShapeError("the operation works across the batch (axis 0), which a layer cannot do")
        if not 0 < full <= rank:
            raise ShapeError(f"axis {a} does not exist for inputs of rank {rank + 1} (with the batch)")
        axes.append(full - 1)
    return axes


def _operands(p, shapes):
    """x1 (op) x2 where either may be a fixed number: the tensors broadcast, numbers stretch."""
    tensors = sum(p.get(name) is None for name in ("x1", "x2"))
    if tensors == 0:
        raise ShapeError("x1 and x2 are both numbers: one of them must come from an input")
    if len(shapes) != tensors:
        raise ShapeError(f"takes {tensors} input(s) (x1, x2 not set to a number), has {len(shapes)}")
    out = _broadcast(p, shapes)[0] if tensors == 2 else shapes[0]
    return out, 0, 0, _prod(out) or 0


def _op_elementwise(p, shapes):
    (shape,) = shapes
    if "axis" in p:
        _op_axes(p["axis"], len(shape))
    return shape, 0, 0, _prod(shape) or 0


def _op_reshape(p, shapes):
    new = list(p["newshape"])
    if new[0] not in (-1, None) or -1 in new[1:]:
        raise ShapeError(f"newshape {_fmt(tuple(new))} must keep the batch first (-1) and fix every other size")
    return _reshape({"target_shape": new[1:]}, shapes)


def _op_transpose(p, shapes):
    (shape,) = shapes
    axes = p.get("axes")
    if axes is None or sorted(axes) != list(range(len(shape) + 1)) or axes[0] != 0:
        raise ShapeError(f"axes {axes} must reorder all {len(shape) + 1} axes and keep the batch (0) first")
    return tuple(shape[a - 1] for a in axes[1:]), 0, 0, 0


def _op_expand_dims(p, shapes):
    (shape,) = shapes
    axes = p["axis"] if isinstance(p["axis"], (list, tuple)) else [p["axis"]]
    rank = len(shape) + len(axes)
    inserted = set(_op_axes(axes, rank))
    rest = iter(shape)
    return tuple(1 if i in inserted else next(rest) for i in range(rank)), 0, 0, 0


def _op_squeeze(p, shapes):
    (shape,) = shapes
    if p.get("axis") is None:
        return tuple(d for d in shape if d != 1), 0, 0, 0
    axes = set(_op_axes(p["axis"], len(shape)))
    if any(shape[a] not in (1, None) for a in axes):
        raise ShapeError(f"cannot squeeze axes {p['axis']} of {_fmt(shape)}: they must have size 1")
    return tuple(d for i, d in enumerate(shape) if i not in axes), 0, 0, 0


def _op_reduce(p, shapes):
    (shape,) = shapes
    if p.get("axis") is None:
        raise ShapeError("the operation reduces over every axis, the batch too, which a layer cannot do")
    axes = set(_op_axes(p["axis"], len(shape)))
    keep = p.get("keepdims")
    out = tuple(1 if i in axes else d for i, d in enumerate(shape) if keep or i not in axes)
    return out, 0, 0, _prod(shape) or 0


def _op_matmul(p, shapes):
    a, b = shapes
    if len(a) < 2 or len(a) != len(b):
        raise ShapeError(f"x1 {_fmt(a)} and x2 {_fmt(b)} need the same rank, 2 or more per sample")
    if None not in (a[-1], b[-2]) and a[-1] != b[-2]:
        raise ShapeError(f"x1 {_fmt(a)} and x2 {_fmt(b)}: the last axis of x1 must match the second-last of x2")
    lead = _broadcast(p, [a[:-2], b[:-2]])[0] if len(a) > 2 else ()
    out = (*lead, a[-2], b[-1])
    return out, 0, 0, 2 * (_prod(out) or 0) * (a[-1] or 1)


_OP_RULES: dict[str, Callable] = {
    **{f"ops.{name}": _operands for name in (
        "add", "subtract", "multiply", "divide", "true_divide", "maximum", "minimum", "power")},
    **{f"ops.{name}": _op_elementwise for name in (
        "negative", "absolute", "square", "sqrt", "exp", "log", "tanh", "relu", "relu6", "sigmoid",
        "hard_sigmoid", "silu", "hard_silu", "gelu", "softmax", "clip")},
    "ops.reshape": _op_reshape, "ops.transpose": _op_transpose, "ops.expand_dims": _op_expand_dims,
    "ops.squeeze": _op_squeeze, "ops.mean": _op_reduce, "ops.sum": _op_reduce, "ops.max": _op_reduce,
    "ops.concatenate": _concatenate, "ops.matmul": _op_matmul,
}

RULES: dict[str, Callable] = {
    "Dense": _dense, "Embedding": _embedding,
    "Conv1D": _conv(1), "Conv2D": _conv(2), "Conv2DTranspose": _conv(2, transpose=True),
    "DepthwiseConv2D": _conv(2, depthwise=True), "SeparableConv2D": _conv(2, separable=True),
    "MaxPooling1D": _pool(1), "MaxPooling2D": _pool(2), "AveragePooling1D": _pool(1), "AveragePooling2D": _pool(2),
    "MaxUnpooling2D": _unpool, "ChannelShuffle": _channel_shuffle,
    "GlobalAveragePooling1D": _global_pool(1), "GlobalAveragePooling2D": _global_pool(2),
    "GlobalMaxPooling1D": _global_pool(1), "GlobalMaxPooling2D": _global_pool(2),
    "UpSampling2D": _upsampling, "ZeroPadding2D": _pad_crop("padding", +1), "Cropping2D": _pad_crop("cropping", -1),
    "Flatten": _flatten, "Reshape": _reshape, "Rescaling": _elementwise, "Normalization": _normalization,
    "BatchNormalization": _batchnorm, "LayerNormalization": _layernorm,
    "Dropout": _identity, "SpatialDropout2D": _identity, "GaussianNoise": _identity,
    "Activation": _elementwise, "ReLU": _elementwise, "LeakyReLU": _elementwise, "ELU": _elementwise,
    "PReLU": _prelu, "Softmax": _elementwise,
    "Add": _broadcast, "Subtract": _broadcast, "Multiply": _broadcast, "Average": _broadcast,
    "Maximum": _broadcast, "Concatenate": _concatenate,
    "SimpleRNN": _rnn("SimpleRNN"), "LSTM": _rnn("LSTM"), "GRU": _rnn("GRU"), "Bidirectional": _bidirectional,
    "MultiHeadAttention": _mha, "Attention": _attention, "Sampling": _sampling,
    "PositionalEmbedding": _positional, "Masking": _identity, "RepeatVector": _repeat,
    "TimeDistributed": _time_distributed, "LayerScale": _layer_scale, "CustomScaleLayer": _custom_scale,
    **_OP_RULES,
}


def layer_info(type: str, params: dict, input_shapes: list[Shape]) -> tuple[Shape, int, int, int]:
    """``(output_shape, params, trainable_params, flops)`` for one sample.

    Args:
        type: the node's catalog type.
        params: the node's params.
        input_shapes: the shape of each input without the batch axis, in port order; None for an
            unknown size.

    Returns:
        The output shape (no batch axis), the weight count, the trainable weight count and the
        FLOPs of one sample.

    Raises:
        ShapeError: the inputs do not fit the layer, or a param is missing or invalid.
    """
    if type == "Input":
        return tuple(params["shape"]), 0, 0, 0
    try:
        out, weights, trainable, flops = RULES[type](params, [tuple(s) for s in input_shapes])
    except (KeyError, TypeError) as exc:
        raise ShapeError(f"cannot work out the output shape: missing or invalid param {exc}") from None
    return tuple(out), int(weights), int(trainable), int(flops)



