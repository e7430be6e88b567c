"""Each dataset source's options, declared once as ParamSpecs (defaults included).

The loaders read them with ``source_option``, the Data panel generates its form from
``SOURCE_OPTIONS`` and the command line lists them with ``describe_sources``.
"""

from __future__ import annotations

from typing import Any

from studio.core.data.dataset import DataError
from studio.core.params import ParamError, ParamSpec

SHAPES = ("circle", "square", "triangle", "cross", "ring")
TOY_SETS = ("xor", "moons", "circles", "spirals", "blobs", "and", "or")
KERAS_DATASETS = ("mnist", "fashion_mnist", "cifar10", "cifar100")
COLOUR_MODES = ("auto", "grayscale", "rgb")
TASK_CHOICES = ("auto", "classification", "regression")

_SIZE = "Images are resized to this many pixels per side."
_TASK = ParamSpec("task", "choice", "auto", "auto: text or few whole-number labels are classes, other "
                  "numbers are a regression target.", choices=TASK_CHOICES, label="Task")

SOURCE_OPTIONS: dict[str, tuple[ParamSpec, ...]] = {
    "digits": (ParamSpec("image_size", "int", 28, _SIZE, 8, 64, label="Image size"),),
    "shapes": (
        ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                  "The shapes to draw; each one is a class.", choices=SHAPES, label="Classes"),
        ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000,
                  label="Images per class", step=50),
        ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
        ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
        ParamSpec("colour", "bool", False, "Random colours instead of white on black.", label="Colour"),
    ),
    "toy": (
        ParamSpec("name", "choice", "moons", "Which point pattern to generate.", choices=TOY_SETS, label="Set"),
        ParamSpec("samples", "int", 400, "How many points in total.", 8, 1_000_000, label="Points", step=100),
        ParamSpec("noise", "float", 0.1, "How far points scatter from the clean pattern.", 0.0, 5.0,
                  label="Noise"),
        ParamSpec("classes", "int", 3, "Number of spiral arms or blobs (spirals and blobs only).", 2, 10,
                  label="Classes"),
    ),
    "shape_masks": (
        ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                  "The shapes to draw; every pixel is labelled with its shape (or background).", choices=SHAPES,
                  label="Classes"),
        ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000, label="Images per class",
                  step=50),
        ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
        ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
    ),
    "shape_boxes": (
        ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                  "The shapes to draw; each image has one, labelled with its class and bounding box.",
                  choices=SHAPES, label="Classes"),
        ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000, label="Images per class",
                  step=50),
        ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
        ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
    ),
    "mask_folder": (
        ParamSpec("path", "folder", None, "A folder with images/ and masks/ (same file names; mask pixel values "
                  "are class indices, 0 = background) and an optional classes.txt.", label="Folder"),
        ParamSpec("image_size", "int", 64, _SIZE, 8, 512, label="Image size"),
        ParamSpec("color", "choice", "grayscale", "Read the images as grayscale or RGB.",
                  choices=("grayscale", "rgb"), label="Colour"),
    ),
    "keras": (ParamSpec("name", "choice", "mnist", "Which keras.datasets set.", choices=KERAS_DATASETS,
                        label="Dataset"),),
    "folder": (
        ParamSpec("path", "folder", None, "A folder with one sub-folder of images per class.", label="Folder"),
        ParamSpec("color", "choice", "auto", "auto: RGB when any image has colour, else grayscale.",
                  choices=COLOUR_MODES, label="Colour"),
    ),
    "csv": (
        ParamSpec("path", "file", None, "A table with a header row.", choices=(".csv", ".tsv", ".txt"),
                  label="File"),
        ParamSpec("target", "str", None, "The column the model learns to predict (default: the last).",
                  label="Target column"),
        _TASK,
    ),
    "npz": (
        ParamSpec("path", "file", None, "A numpy.savez archive.", choices=(".npz",), label="File"),
        ParamSpec("x_key", "str", "x", "The array holding the inputs.", label="Inputs array"),
        ParamSpec("y_key", "str", "y", "The array holding the labels.", label="Labels array"),
        _TASK,
    ),
}


def option_spec(source: str, key: str) -> ParamSpec:
    return next(spec for spec in SOURCE_OPTIONS[source] if spec.name == key)


def source_option(spec: dict, source: str, key: str) -> Any:
    """``spec[key]`` checked against the source's declaration (its default when absent or None)."""
    option = option_spec(source, key)
    value = spec.get(key)
    if value is None:
        return option.default_value()
    try:
        return option.check(value)
    except ParamError as exc:
        raise DataError(f"{source}: {exc}") from None


def describe_sources() -> str:
    """Every source with its options, for command-line help."""
    lines = []
    for source, options in SOURCE_OPTIONS.items():
        lines.append(f"{source}:")
        lines += [f"  {option.name}: {option.describe()}" for option in options]
    return "\n".join(lines)
