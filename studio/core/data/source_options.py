"""Each dataset source declared once (``SourceDeclaration``: title, help, options as ParamSpecs, loader),
and the options every source takes (``DATASET_FIELDS``: split, seed, normalize, max_samples,
bootstrap).

``load_dataset`` calls the declared loader, which reads its options with ``source_option``; the
Data panel builds its Source list and forms from ``DATA_SOURCES`` and ``DATASET_FIELDS``; the
command line lists them with ``describe_sources``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from studio.core.data.dataset import DataError
from studio.core.data.splits import NORMALIZE_MODES
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



@dataclass(frozen=True)
class SourceDeclaration:
    """One dataset source: what the Data panel lists, its options and the loader that reads it."""

    name: str
    title: str  # in the Data panel's Source list
    loader: str  # "module:function" in studio.core.data, imported when a dataset of this source loads
    help: str
    options: tuple[ParamSpec, ...]
    scanned: bool = False  # the loader reports progress and can be cancelled

    @property
    def takes_path(self) -> bool:
        """Whether the source reads a file or folder (its ``path`` option)."""
        return any(spec.name == "path" for spec in self.options)

    def load(self, spec: dict, progress=None, cancel=None):
        """The source's ``RawData`` for a dataset ``spec`` (``progress``/``cancel``: scanned sources)."""
        module, function = self.loader.split(":")
        read = getattr(importlib.import_module(f"studio.core.data.{module}"), function)
        return read(spec, progress, cancel) if self.scanned else read(spec)


DATASET_FIELDS: tuple[ParamSpec, ...] = (
    ParamSpec("train", "float", 0.7, "Share of the samples in the training split.", 0.05, 1.0, label="Train"),
    ParamSpec("val", "float", 0.15, "Share of the samples in the validation split; the test split gets the rest.",
              0.0, 0.95, label="Validation"),
    ParamSpec("seed", "int", 0, "Decides the split (and the drawing of generated sets): same seed, same data.",
              0, 2**31 - 1, label="Seed"),
    ParamSpec("normalize", "choice", "auto", "auto: images scaled to 0..1, tables standardized (mean 0, std 1) on "
              "the training split.", choices=("auto", *NORMALIZE_MODES), label="Normalize"),
    ParamSpec("max_samples", "optional_int", None, "Keep a class-balanced subset of this many samples (quick "
              "experiments; empty: all samples).", 10, 10_000_000, label="Use at most"),
    ParamSpec("bootstrap", "optional_int", None, "Train on a bootstrap resample of the training split drawn "
              "with this seed: as many samples, drawn with replacement (one member of a bagging ensemble); "
              "empty: the training split as it is.", 0, 2**31 - 1, label="Bootstrap seed"),
)
DATASET_FIELD = {spec.name: spec for spec in DATASET_FIELDS}


def split_ratios(train: float, val: float) -> dict[str, float]:
    """The ``split`` of a dataset spec from its train and validation shares (the test split gets the rest)."""
    return {"train": train, "val": val, "test": round(1 - train - val, 2)}


DEFAULT_SPLIT = split_ratios(DATASET_FIELD["train"].default, DATASET_FIELD["val"].default)

_SIZE = "Images are resized to this many pixels per side."
_COLOUR = ParamSpec("color", "choice", "auto", "auto: RGB when any image has colour, else grayscale.",
                    choices=COLOUR_MODES, label="Colour")
_STORAGE = ParamSpec("storage", "choice", "auto", "memory: decode every image into memory; stream: read "
                     "batches from disk through the sample cache; auto: memory while it is small.",
                     choices=STORAGE_CHOICES, label="Storage")
_MAX_PIXELS = ParamSpec("max_pixels", "int", 40_000_000, "Images with more pixels are skipped (pixel bombs).",
                        1, 1_000_000_000, label="Max pixels per image")
_DETECTION_SIZE = ParamSpec("image_size", "int", 64, _SIZE + " Boxes are fractions of the sides, so they follow.",
                           16, 512, label="Image size")
_DETECTION_COLOUR = ParamSpec("color", "choice", "grayscale", "Read the images as grayscale or RGB.",
                              choices=("grayscale", "rgb"), label="Colour")
_MAX_BOXES = ParamSpec("max_boxes", "int", 20, "Boxes kept per image (targets are padded to this many); more "
                       "are skipped and reported.", 1, 1000, label="Boxes per image")
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

DATA_SOURCES: dict[str, SourceDeclaration] = {source.name: source for source in (  # the Data panel's order
    SourceDeclaration(
        "digits", "Digits (built-in)", "builtin:load_digits",
        "1,797 scanned handwritten digits (0-9), 8x8 pixels, upscaled to the chosen size.",
        (ParamSpec("image_size", "int", 28, _SIZE, 8, 64, label="Image size"),)),
    SourceDeclaration(
        "shapes", "Shapes (built-in)", "builtin:load_shapes",
        "Circles, squares, triangles... drawn at random places, sizes and angles.",
        (
            ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                      "The shapes to draw; each one is a class.", choices=SHAPES, label="Classes"),
            ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000,
                      label="Images per class", step=50),
            ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
            ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
            ParamSpec("colour", "bool", False, "Random colours instead of white on black.", label="Colour"),
        )),
    SourceDeclaration(
        "toy", "2-D points (built-in)", "builtin:load_toy",
        "Points in a plane with two or more classes: the quickest way to watch a small MLP learn.",
        (
            ParamSpec("name", "choice", "moons", "Which point pattern to generate.", choices=TOY_SETS, label="Set"),
            ParamSpec("samples", "int", 400, "How many points in total.", 8, 1_000_000, label="Points", step=100),
            ParamSpec("noise", "float", 0.1, "How far points scatter from the clean pattern.", 0.0, 5.0,
                      label="Noise"),
            ParamSpec("classes", "int", 3, "Number of spiral arms or blobs (spirals and blobs only).", 2, 10,
                      label="Classes"),
        )),
    SourceDeclaration(
        "sequences", "Sequences and text (built-in)", "sequences:load_sequences",
        "Generated sequences: noisy waves to forecast, sequence-to-sequence toys (reverse, dates) and a small"
        " character corpus (grammar) for language models.",
        (
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
        )),
    SourceDeclaration(
        "shape_masks", "Shapes with masks (built-in, segmentation)", "builtin:load_shape_masks",
        "Shapes with a per-pixel mask of their class: a dataset for segmentation (U-Net).",
        (
            ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                      "The shapes to draw; every pixel is labelled with its shape (or background).", choices=SHAPES,
                      label="Classes"),
            ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000, label="Images per class",
                      step=50),
            ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
            ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
        )),
    SourceDeclaration(
        "shape_boxes", "Shapes with boxes (built-in, localization)", "builtin:load_shape_boxes",
        "One shape per image with its class and bounding box: a dataset for localization.",
        (
            ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                      "The shapes to draw; each image has one, labelled with its class and bounding box.",
                      choices=SHAPES, label="Classes"),
            ParamSpec("count", "int", 100, "How many images of each shape.", 1, 100_000, label="Images per class",
                      step=50),
            ParamSpec("image_size", "int", 28, _SIZE, 8, 256, label="Image size"),
            ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
        )),
    SourceDeclaration(
        "shape_scenes", "Shape scenes with boxes (built-in, detection)", "detection:load_shape_scenes",
        "Several shapes per image, each with its class and bounding box: a dataset for object detection.",
        (
            ParamSpec("classes", "multichoice", ["circle", "square", "triangle", "cross"],
                      "The shapes to draw; each object is labelled with its class and bounding box.",
                      choices=SHAPES, label="Classes"),
            ParamSpec("count", "int", 1500, "How many images.", 1, 100_000, label="Images", step=100),
            ParamSpec("image_size", "int", 64, _SIZE, 16, 256, label="Image size"),
            ParamSpec("max_objects", "int", 4, "Each image holds 1 to this many shapes, apart from each other.",
                      1, 16, label="Objects per image"),
            ParamSpec("noise", "float", 0.05, "Random grain added to every pixel.", 0.0, 1.0, label="Noise"),
        )),
    SourceDeclaration(
        "keras", "Keras dataset (MNIST, CIFAR…)", "keras_cache:load_keras",
        "Read from Keras's download cache only; a missing file is named with where to get it.",
        (ParamSpec("name", "choice", "mnist", "Which keras.datasets set.", choices=KERAS_DATASETS,
                            label="Dataset"),)),
    SourceDeclaration(
        "keras_text", "Keras text dataset (IMDB, Reuters)", "text:load_keras_text",
        "Movie reviews (imdb) or newswires (reuters), read from Keras's download cache only.",
        (
            ParamSpec("name", "choice", "imdb", "Which keras.datasets text set (read from Keras's cache).",
                      choices=KERAS_TEXT_SETS, label="Dataset"),
            _MAX_TOKENS, _max_length(200),
        )),
    SourceDeclaration(
        "folder", "Image folder", "folder:load_folder",
        "A folder with one sub-folder per class, each holding that class's images.",
        (
            ParamSpec("path", "folder", None, "A folder with one sub-folder of images per class.", label="Folder"),
            _COLOUR, _STORAGE, _MAX_PIXELS,
        ), scanned=True),
    SourceDeclaration(
        "image_list", "Image list (CSV)", "folder:load_image_list",
        "A CSV file listing image paths (relative to its folder) and their labels.",
        (
            ParamSpec("path", "file", None, "A CSV listing images (paths relative to its folder) and labels.",
                      choices=(".csv",), label="List"),
            ParamSpec("path_column", "str", "path", "The column holding image paths.", label="Path column"),
            ParamSpec("label_column", "str", "label", "The column holding class labels.", label="Label column"),
            _COLOUR, _STORAGE, _MAX_PIXELS,
        ), scanned=True),
    SourceDeclaration(
        "csv", "CSV table", "tabular:load_csv",
        "A table with a header row; pick the column to predict. Text columns are one-hot encoded.",
        (
            ParamSpec("path", "file", None, "A table with a header row.", choices=(".csv", ".tsv", ".txt"),
                      label="File"),
            ParamSpec("target", "str", None, "The column the model learns to predict (default: the last).",
                      label="Target column"),
            _TASK,
        ), scanned=True),
    SourceDeclaration(
        "text_csv", "Text in a CSV table", "text:load_text_csv",
        "A table with a column of text and a column of labels, for text classification.",
        (
            ParamSpec("path", "file", None, "A table with a text column and a label column.", choices=(".csv",),
                      label="File"),
            ParamSpec("text", "str", None, "The column holding the text (default: the first).", label="Text column"),
            ParamSpec("target", "str", None, "The column holding the label (default: the last).",
                      label="Target column"),
            _level("word"), _MAX_TOKENS, _max_length(200),
        )),
    SourceDeclaration(
        "text_folder", "Text folder", "text:load_text_folder",
        "A folder with one sub-folder per class, each holding that class's .txt files.",
        (
            ParamSpec("path", "folder", None, "A folder with one sub-folder of .txt files per class.",
                      label="Folder"),
            _level("word"), _MAX_TOKENS, _max_length(200),
        )),
    SourceDeclaration(
        "corpus", "Text corpus (.txt)", "text:load_corpus",
        "One .txt file that a language model learns to continue.",
        (
            ParamSpec("path", "file", None, "One .txt file to learn to continue (language modelling).",
                      choices=(".txt",), label="File"),
            _level("char"), _MAX_TOKENS, _max_length(64),
            ParamSpec("stride", "optional_int", None, "Tokens between the starts of two windows (default: half "
                      "the sequence length).", 1, 100_000, label="Stride"),
            _OBJECTIVE,
        )),
    SourceDeclaration(
        "npz", "NumPy arrays (.npz)", "tabular:load_npz",
        "A numpy.savez file with inputs (N, features) or images (N, H, W[, C]) and labels.",
        (
            ParamSpec("path", "file", None, "A numpy.savez archive.", choices=(".npz",), label="File"),
            ParamSpec("x_key", "str", "x", "The array holding the inputs.", label="Inputs array"),
            ParamSpec("y_key", "str", "y", "The array holding the labels.", label="Labels array"),
            _TASK, _KIND,
        )),
    SourceDeclaration(
        "npy", "NumPy array (.npy)", "tabular:load_npy",
        "A .npy array of inputs (read memory-mapped) and a .npy array of labels.",
        (
            ParamSpec("path", "file", None, "A .npy array of inputs (memory-mapped).", choices=(".npy",),
                      label="Inputs file"),
            ParamSpec("labels", "file", None, "A .npy array with one label per sample (default: y.npy beside "
                      "an x.npy).", choices=(".npy",), label="Labels file"),
            _TASK, _KIND,
        )),
    SourceDeclaration(
        "mask_folder", "Images with masks (segmentation)", "mask_folder:load_mask_folder",
        "A folder with images/ and masks/ (same file names; mask pixels are class indices).",
        (
            ParamSpec("path", "folder", None, "A folder with images/ and masks/ (same file names; mask pixel values "
                      "are class indices, 0 = background) and an optional classes.txt.", label="Folder"),
            ParamSpec("image_size", "int", 64, _SIZE, 8, 512, label="Image size"),
            ParamSpec("color", "choice", "grayscale", "Read the images as grayscale or RGB.",
                      choices=("grayscale", "rgb"), label="Colour"),
            _MAX_PIXELS,
        )),
    SourceDeclaration(
        "coco", "COCO boxes (detection)", "detection:load_coco",
        "A COCO annotation JSON file (images, annotations with bbox, categories) and its image folder.",
        (
            ParamSpec("path", "file", None, "The COCO annotation file (instances_*.json).", label="Annotations"),
            ParamSpec("images", "folder", None, "The folder of the images' file_name (default: the annotation "
                      "file's folder).", label="Images folder"),
            _DETECTION_SIZE, _DETECTION_COLOUR, _MAX_BOXES, _MAX_PIXELS,
        )),
    SourceDeclaration(
        "yolo", "YOLO labels (detection)", "detection:load_yolo",
        "A folder with images/ and labels/ (one .txt per image: class cx cy w h, as fractions).",
        (
            ParamSpec("path", "folder", None, "A folder with images/, labels/ (labels/NAME.txt for images/NAME.*) "
                      "and an optional classes.txt (one class name a line).", label="Folder"),
            _DETECTION_SIZE, _DETECTION_COLOUR, _MAX_BOXES, _MAX_PIXELS,
        )),
)}


def option_spec(source: str, key: str) -> ParamSpec:
    return next(spec for spec in DATA_SOURCES[source].options if spec.name == key)


def source_option(spec: dict, source: str, key: str) -> Any:
    """``spec[key]`` checked against the source's declaration (its default when absent or None).

    Args:
        spec: the dataset spec.
        source: the source's name (a key of ``DATA_SOURCES``).
        key: the option's name; it must be one the source declares.

    Returns:
        The checked value, or the option's default.

    Raises:
        DataError: the value does not fit the option (the message names the source).
    """
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
    for source in DATA_SOURCES.values():
        lines.append(f"{source.name}: {source.title}")
        lines += [f"  {option.name}: {option.describe()}" for option in source.options]
    return "\n".join(lines)
