"""Look up the layers of a built model by name and describe what they output."""

from __future__ import annotations

from studio.core.inspect.errors import InspectError


def find_layer(model, name: str):
    """Return the layer called ``name`` or raise an InspectError listing the valid names."""
    for layer in model.layers:
        if layer.name == name:
            return layer
    names = ", ".join(layer.name for layer in model.layers) or "none"
    raise InspectError(f"the model has no layer named {name!r}; its layers are: {names}")


def layer_output(layer):
    """The symbolic output tensor of ``layer`` in its functional model."""
    try:
        return layer.output
    except (AttributeError, ValueError) as exc:
        raise InspectError(
            f"layer {layer.name!r} has no single output to probe (it is unused or shared)"
        ) from exc


def is_spatial(layer) -> bool:
    """True for layers whose output keeps one or two spatial axes, e.g. (H, W, C) or (steps, C)."""
    if type(layer).__name__ == "InputLayer":
        return False
    shape = getattr(layer_output(layer), "shape", None)
    return shape is not None and len(shape) in (3, 4)


def spatial_layers(model) -> list[str]:
    """Names of the layers Grad-CAM can use (outputs with spatial axes), in model order."""
    names = []
    for layer in model.layers:
        try:
            if is_spatial(layer):
                names.append(layer.name)
        except InspectError:
            continue  # unused/shared layers cannot be probed; they simply do not qualify
    return names


def input_shape(model) -> tuple:
    """The model's single input shape without the batch axis."""
    if len(model.inputs) != 1:
        raise InspectError(
            f"the model has {len(model.inputs)} inputs; inspecting supports single-input models only"
        )
    return tuple(model.inputs[0].shape[1:])


def as_batch(model, x):
    """``x`` as a float32 batch for ``model``: a single sample gains a batch axis.

    Raises InspectError when the sample shape does not match the model input.
    """
    import numpy as np

    expected = input_shape(model)
    x = np.asarray(x, dtype="float32")
    if x.ndim == len(expected):
        x = x[None]
    matches = x.ndim == len(expected) + 1 and all(
        want is None or want == got for want, got in zip(expected, x.shape[1:])
    )
    if not matches:
        raise InspectError(
            f"input of shape {tuple(x.shape)} does not fit the model input {expected} "
            "(give one sample or a batch of them)"
        )
    return x
