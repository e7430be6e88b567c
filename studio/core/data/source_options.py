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
STORAGE_CHOICES = ("auto", "memory", "stream")
ARRAY_KINDS = ("auto", "sequence", "image")
BUILTIN_SEQUENCES = ("signals", "signals_steps", "reverse", "dates", "grammar")
TEXT_LEVELS = ("word", "char")
KERAS_TEXT_SETS = ("imdb", "reuters")

_SIZE = "Images are resized to this many pixels per side."
_COLOUR = ParamSpec("color", "choice", "auto", "auto: RGB when any image has colour, else grayscale.",
                    choices=COLOUR_MODES, label="Colour")
_STORAGE = ParamSpec("storage", "choice", "auto", "memory: decode every image into memory; stream: read "
                     "batches from disk through the sample cache; auto: memory while it is small.",
                     choices=STORAGE_CHOICES, label="Storage")
_MAX_PIXELS = ParamSpec("max_pixels", "int", 40_000_000, "Images with more pixels are skipped (pixel bombs).",
                        1, 1_000_000_000, label="Max pixels per image")
_KIND = ParamSpec("kind", "choice", "auto", "Whether 3-D arrays (N, T, F) are sequences or gray images; auto: "
                  "sequences when they hold negative values or the targets have one value per step.",
                  choices=ARRAY_KINDS, label="Arrays are")
_MAX_TOKENS = ParamSpec("max_tokens", "int", 20_000, "Vocabulary size: the most frequent tokens are kept, the "
                        "rest become [UNK] (0: keep all).", 0, 1_000_000, label="Vocabulary size")


_OBJECTIVE = ParamSpec(
    "objective", "choice", "next", "What a corpus teaches (grammar set or corpus file): next: the next token at "
    "every step (GPT); mlm: 15% of the tokens are masked and only they are predicted (BERT).",
    choices=("next", "mlm"), label="Objective")


def _level(default: str) -> ParamSpec:
    return ParamSpec("level", "choice", default, "Split the text into words or into characters.",
                     choices=TEXT_LEVELS, label="Tokens")


def _max_length(default: int) -> ParamSpec:
    return ParamSpec("max_length", "int", default, "Tokens per sequence: longer texts are cut (and reported), "
                     "shorter ones padded.", 1, 100_000, label="Sequence length")


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
        _MAX_PIXELS,
    ),
    "keras": (ParamSpec("name", "choice", "mnist", "Which keras.datasets set.", choices=KERAS_DATASETS,
                        label="Dataset"),),
    "folder": (
        ParamSpec("path", "folder", None, "A folder with one sub-folder of images per class.", label="Folder"),
        _COLOUR, _STORAGE, _MAX_PIXELS,
    ),
    "image_list": (
        ParamSpec("path", "file", None, "A CSV listing images (paths relative to its folder) and labels.",
                  choices=(".csv",), label="List"),
        ParamSpec("path_column", "str", "path", "The column holding image paths.", label="Path column"),
        ParamSpec("label_column", "str", "label", "The column holding class labels.", label="Label column"),
        _COLOUR, _STORAGE, _MAX_PIXELS,
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
        _TASK, _KIND,
    ),
    "npy": (
        ParamSpec("path", "file", None, "A .npy array of inputs (memory-mapped).", choices=(".npy",),
                  label="Inputs file"),
        ParamSpec("labels", "file", None, "A .npy array with one label per sample (default: y.npy beside "
                  "an x.npy).", choices=(".npy",), label="Labels file"),
        _TASK, _KIND,
    ),
    "sequences": (
        ParamSpec("name", "choice", "signals", "signals: forecast the next values of noisy waves (many-to-one); "
                  "signals_steps: the next value at every step (many-to-many); reverse and dates: sequence to "
                  "sequence toys; grammar: a character corpus for language models.",
                  choices=BUILTIN_SEQUENCES, label="Set"),
        ParamSpec("samples", "int", 1000, "How many sequences (grammar: sentences).", 10, 1_000_000,
                  label="Samples", step=100),
        ParamSpec("length", "optional_int", None, "Steps per sequence (default: 48 for signals, 8 for reverse).",
                  2, 10_000, label="Length"),
        ParamSpec("noise", "float", 0.1, "Noise added to the signals.", 0.0, 10.0, label="Noise"),
        ParamSpec("horizon", "int", 1, "How many future values the signals set predicts.", 1, 1000,
                  label="Horizon"),
        _OBJECTIVE,
    ),
    "text_folder": (
        ParamSpec("path", "folder", None, "A folder with one sub-folder of .txt files per class.", label="Folder"),
        _level("word"), _MAX_TOKENS, _max_length(200),
    ),
    "text_csv": (
        ParamSpec("path", "file", None, "A table with a text column and a label column.", choices=(".csv",),
                  label="File"),
        ParamSpec("text", "str", None, "The column holding the text (default: the first).", label="Text column"),
        ParamSpec("target", "str", None, "The column holding the label (default: the last).",
                  label="Target column"),
        _level("word"), _MAX_TOKENS, _max_length(200),
    ),
    "corpus": (
        ParamSpec("path", "file", None, "One .txt file to learn to continue (language modelling).",
                  choices=(".txt",), label="File"),
        _level("char"), _MAX_TOKENS, _max_length(64),
        ParamSpec("stride", "optional_int", None, "Tokens between the starts of two windows (default: half "
                  "the sequence length).", 1, 100_000, label="Stride"),
        _OBJECTIVE,
    ),
    "keras_text": (
        ParamSpec("name", "choice", "imdb", "Which keras.datasets text set (read from Keras's cache).",
                  choices=KERAS_TEXT_SETS, label="Dataset"),
        _MAX_TOKENS, _max_length(200),
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
