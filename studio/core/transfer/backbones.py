"""Where a backbone comes from: a run folder, a .keras file, ``keras:NAME`` (keras.applications with
ImageNet weights already in Keras's cache; never downloaded) or ``builtin:NAME`` (the studio's own
small backbones in assets/backbones/, pretrained by tools/build_backbones.py on built-in data).
Every model is loaded in Keras safe mode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from studio.core.graph.model import Graph
from studio.resources import assets_dir

_GOOGLE = "https://storage.googleapis.com/"
# keras.applications models offered as backbones: the no-top weights file Keras caches, where it
# downloads it from, and the input size those weights were trained at.
KERAS_APPLICATIONS = {
    "MobileNetV2": ("mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5",
                    _GOOGLE + "tensorflow/keras-applications/mobilenet_v2/", (224, 224, 3)),
    "ResNet50": ("resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
                 _GOOGLE + "tensorflow/keras-applications/resnet/", (224, 224, 3)),
    "VGG16": ("vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
              _GOOGLE + "tensorflow/keras-applications/vgg16/", (224, 224, 3)),
    "EfficientNetB0": ("efficientnetb0_notop.h5", _GOOGLE + "keras-applications/", (224, 224, 3)),
}


class BackboneError(ValueError):
    """A backbone that cannot be used (one line saying what to do)."""


@dataclass
class Backbone:
    label: str
    graph: Graph  # the source model's graph, names as in the file
    model: object  # keras.Model with the pretrained weights


def builtin_backbones() -> dict[str, Path]:
    """The studio's own backbones by name (``builtin:NAME``)."""
    return {path.stem: path for path in sorted((assets_dir() / "backbones").glob("*.keras"))}


def keras_weights_file(name: str) -> Path:
    """Where Keras caches ``name``'s no-top ImageNet weights (``$KERAS_HOME/models``)."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home / "models" / KERAS_APPLICATIONS[name][0]


def resolve(source: str | os.PathLike) -> tuple[str, Path | str]:
    """``("keras", NAME)`` or ``("file", path of the .keras model)`` for ``source``, checked without
    loading anything (cheap: used before a run starts); BackboneError naming what to fix.

    Args:
        source: a run folder, a ``.keras`` file, ``keras:NAME`` (a ``KERAS_APPLICATIONS`` model whose
            weights are in Keras's cache) or ``builtin:NAME``.

    Raises:
        BackboneError: an unknown name, weights missing from the cache, a run without a model file,
            or a path that is none of the above.
    """
    text = str(source)
    if text.startswith("keras:"):
        name = text[len("keras:"):]
        if name not in KERAS_APPLICATIONS:
            raise BackboneError(f"keras:{name} is not offered; use one of {', '.join(KERAS_APPLICATIONS)}")
        filename, origin, _shape = KERAS_APPLICATIONS[name]
        weights = keras_weights_file(name)
        if not weights.is_file():
            raise BackboneError(f"the ImageNet weights of {name} are not in Keras's cache: download "
                                f"{origin}{filename} on a connected machine and place it at {weights}")
        return "keras", name
    if text.startswith("builtin:"):
        name, found = text[len("builtin:"):], builtin_backbones()
        if name not in found:
            raise BackboneError(f"no built-in backbone {name!r}; there are: {', '.join(found) or 'none'}")
        return "file", found[name]
    path = Path(text)
    if path.is_dir():
        from studio.core.inspect import InspectError, run_model_path

        try:
            return "file", run_model_path(path)
        except InspectError as exc:
            raise BackboneError(str(exc)) from None
    if path.suffix == ".keras" and path.is_file():
        return "file", path
    raise BackboneError(f"{text}: not a run folder, a .keras file, keras:NAME ({', '.join(KERAS_APPLICATIONS)}) "
                        f"or builtin:NAME ({', '.join(builtin_backbones()) or 'none installed'})")


def load_backbone(source: str | os.PathLike) -> Backbone:
    """The backbone ``source`` names (see the module docstring); BackboneError when it cannot be used.

    Args:
        source: as ``resolve`` takes it.

    Returns:
        The Backbone: a label, the source model's graph and the loaded model with its weights.

    Raises:
        BackboneError: see ``resolve``; also a model that does not load safely or has several inputs.
    """
    backbone = load_source(source)
    if len(backbone.model.inputs) != 1:
        raise BackboneError(f"{backbone.label}: a backbone needs exactly one input")
    return backbone


def load_source(source: str | os.PathLike) -> Backbone:
    """The model ``source`` names (a run folder, a .keras file, keras:NAME or builtin:NAME), loaded
    safely whatever its inputs; BackboneError when it cannot be loaded."""
    kind, where = resolve(source)
    if kind == "keras":
        return _keras_application(where)
    text = str(source)
    label = text if text.startswith("builtin:") else Path(text).stem if Path(text).is_file() else Path(text).name
    from studio.core.graph.keras_io import KerasImportError, load_keras_file

    try:
        graph, model = load_keras_file(where, with_model=True)
    except KerasImportError as exc:
        raise BackboneError(str(exc).splitlines()[0]) from None
    return Backbone(label, graph, model)


def _keras_application(name: str) -> Backbone:
    import keras

    from studio.core.graph.keras_io import KerasImportError, from_keras

    model = getattr(keras.applications, name)(include_top=False, weights=str(keras_weights_file(name)),
                                              input_shape=KERAS_APPLICATIONS[name][2])
    try:
        graph = from_keras(model)
    except KerasImportError as exc:
        raise BackboneError(f"keras:{name}: {str(exc).splitlines()[0]}") from None
    return Backbone(f"keras:{name}", graph, model)
