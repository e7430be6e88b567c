"""Convolution kernels as small images."""

from __future__ import annotations

import numpy as np

from studio.core.inspect.errors import InspectError
from studio.core.inspect.layers import find_layer


def conv_kernel(model, layer_name: str) -> np.ndarray:
    """The 2-D kernel of ``layer_name`` as (height, width, input_channels, filters).

    Args:
        model: a Keras model.
        layer_name: a 2-D convolution (depthwise and separable ones give their depthwise kernel).

    Returns:
        The kernel as numpy; a transposed convolution's is reordered to the same layout.

    Raises:
        InspectError: no such layer, or it has no 4-D kernel.
    """
    layer = find_layer(model, layer_name)
    variable = getattr(layer, "depthwise_kernel", None)  # separable/depthwise convolutions
    if variable is None:
        variable = getattr(layer, "kernel", None)
    if variable is None or len(variable.shape) != 4:
        raise InspectError(f"layer {layer_name!r} has no 2-D convolution kernel to show")
    kernel = np.asarray(variable)
    if type(layer).__name__ == "Conv2DTranspose":
        kernel = kernel.transpose(0, 1, 3, 2)  # stored as (h, w, filters, inputs)
    return kernel


def filter_images(model, layer_name: str, input_channel: int | None = None) -> np.ndarray:
    """Kernels of ``layer_name`` scaled to [0, 1], one image per filter.

    With three input channels and no ``input_channel`` the filters are RGB images
    (filters, h, w, 3); otherwise each filter's slice for ``input_channel`` (default 0) as a grey
    image (filters, h, w). All filters share one scale so their strengths stay comparable.

    Args:
        model: a Keras model.
        layer_name: a 2-D convolution layer.
        input_channel: the input channel to show, or None (RGB for three channels, else channel 0).

    Returns:
        The filter images as float arrays in [0, 1] (all zeros for a constant kernel).

    Raises:
        InspectError: no such layer, no 4-D kernel, or ``input_channel`` out of range.
    """
    kernel = conv_kernel(model, layer_name)
    inputs = kernel.shape[2]
    if input_channel is None and inputs == 3:
        images = kernel.transpose(3, 0, 1, 2)
    else:
        channel = input_channel or 0
        if not 0 <= channel < inputs:
            raise InspectError(f"layer {layer_name!r} has {inputs} input channels; pick 0..{inputs - 1}")
        images = kernel[:, :, channel, :].transpose(2, 0, 1)
    low, high = images.min(), images.max()
    return (images - low) / (high - low) if high > low else np.zeros_like(images)
