"""ParamSpec.check on every kind, and the declarations that derive from ParamSpecs."""

import dataclasses
import math

import pytest

from studio.core.augment import AUGMENTATIONS
from studio.core.data import DataError, load_dataset
from studio.core.data.source_options import DATA_SOURCES, describe_sources, source_option
from studio.core.graph.catalog import CATALOG
from studio.core.params import _CHECKS, ParamError, ParamSpec
from studio.core.training import TRAINING_FIELDS, TrainingConfig


def spec(kind, default=None, **extra):
    return ParamSpec("p", kind, default, "help", **extra)


# (spec, accepted value, cleaned value)
ACCEPTED = [
    (spec("int", minimum=1, maximum=4), 4, 4),
    (spec("optional_int", minimum=1), None, None),
    (spec("float", minimum=0.0, maximum=1.0), 1, 1.0),
    (spec("optional_float"), None, None),
    (spec("float", minimum=0.0, exclusive_minimum=True), 1e-9, 1e-9),
    (spec("bool"), False, False),
    (spec("choice", choices=("a", "b")), "b", "b"),
    (spec("multichoice", choices=("a", "b", "c")), ("c", "a"), ["c", "a"]),
    (spec("str"), "val_loss", "val_loss"),
    (spec("optional_str"), None, None),
    (spec("optional_str"), "builtin:x", "builtin:x"),
    (spec("folder"), "/data/pics", "/data/pics"),
    (spec("file", choices=(".csv",)), "t.tsv", "t.tsv"),
    (spec("ints", minimum=1, length=2), 3, 3),
    (spec("ints", minimum=1, length=2), [3, 1], [3, 1]),
    (spec("optional_ints", minimum=1), None, None),
    (spec("shape"), [None, 28, -1], [None, 28, -1]),
    (spec("axis"), [1, 2], [1, 2]),
    (spec("pad2d"), [[1, 2], [3, 4]], [[1, 2], [3, 4]]),
    (spec("initializer"), {"class_name": "HeNormal", "config": {}}, {"class_name": "HeNormal", "config": {}}),
    (spec("regularizer"), None, None),
    (spec("layer"), {"class_name": "LSTM", "config": {"units": 4}}, {"class_name": "LSTM", "config": {"units": 4}}),
]

REFUSED = [
    (spec("int", minimum=1), 0, "p must be at least 1, got 0"),
    (spec("int", maximum=4), 5, "p must be at most 4, got 5"),
    (spec("int"), 2.0, "p must be a whole number"),
    (spec("int"), True, "p must be a whole number"),
    (spec("float"), "0.1", "p must be a number"),
    (spec("float"), math.inf, "p must be a finite number"),
    (spec("float", minimum=0.0, exclusive_minimum=True), 0.0, "p must be above 0"),
    (spec("float", minimum=0.0, exclusive_minimum=True), -1.0, "p must be above 0"),
    (spec("bool"), "yes", "p must be true or false"),
    (spec("choice", choices=("a", "b")), "z", "unknown p 'z': choose one of a, b"),
    (spec("choice", choices=("a",)), ["a"], "unknown p"),
    (spec("multichoice", choices=("a", "b")), ["a", "x"], "unknown p 'x': choose from a, b"),
    (spec("multichoice", choices=("a", "b")), ["a", "a"], "lists an entry twice"),
    (spec("multichoice", choices=("a",)), "a", "p must be a list"),
    (spec("str"), " ", "p must be a non-empty text"),
    (spec("optional_str"), "", "p must be a non-empty text"),
    (spec("folder"), 3, "non-empty text"),
    (spec("ints", minimum=1, length=2), [1, 2, 3], "p needs 2 values, got 3"),
    (spec("ints", minimum=1, length=2), [0, 1], "p values must be at least 1"),
    (spec("ints"), [1.5], "p must be whole numbers"),
    (spec("shape"), [28, 0], "p must be a list of positive sizes"),
    (spec("shape"), [], "positive sizes"),
    (spec("axis"), "last", "p must be an axis number"),
    (spec("pad2d"), [[1, 2, 3]], "p must be n, [rows, cols]"),
    (spec("initializer"), 3, "p must be an initializer name"),
    (spec("regularizer"), 0.1, "p has an unexpected value"),
    (spec("layer"), [1], "unexpected value"),
    (spec("int"), None, "p needs a value"),
]


def test_the_cases_cover_every_kind():
    assert {s.kind for s, *_ in ACCEPTED} | {s.kind for s, *_ in REFUSED} == set(_CHECKS)


@pytest.mark.parametrize("param, value, cleaned", ACCEPTED, ids=[f"{c[0].kind}-{i}" for i, c in enumerate(ACCEPTED)])
def test_check_returns_the_cleaned_value(param, value, cleaned):
    result = param.check(value)
    assert result == cleaned and type(result) is type(cleaned)


@pytest.mark.parametrize("param, value, message", REFUSED, ids=[f"{c[0].kind}-{i}" for i, c in enumerate(REFUSED)])
def test_check_refuses_with_one_clear_message(param, value, message):
    with pytest.raises(ParamError) as caught:
        param.check(value)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_every_declared_default_passes_its_own_check():
    declared = [p for layer in CATALOG.values() for p in layer.params]
    declared += [p for step in AUGMENTATIONS.values() for p in step.params]
    declared += list(TRAINING_FIELDS) + [p for source in DATA_SOURCES.values() for p in source.options]
    for param in declared:
        if param.default is not None:
            assert param.check(param.default) == param.default, param


def test_training_config_fields_and_defaults_come_from_the_specs():
    fields = [f for f in dataclasses.fields(TrainingConfig) if f.name != "unknown"]
    assert [f.name for f in fields] == [s.name for s in TRAINING_FIELDS]
    config = TrainingConfig()
    assert all(getattr(config, s.name) == s.default for s in TRAINING_FIELDS)
    assert TrainingConfig().metrics is not TrainingConfig().metrics  # lists are not shared


def test_source_options_feed_the_loaders_and_the_help():
    assert source_option({}, "shapes", "classes") == ["circle", "square", "triangle", "cross"]
    assert source_option({"noise": 1}, "shapes", "noise") == 1.0
    with pytest.raises(DataError, match="shapes: count must be at most 100000"):
        source_option({"count": 10**6}, "shapes", "count")
    data = load_dataset({"source": "toy", "name": "spirals", "samples": 60})
    assert data.num_classes == next(s.default for s in DATA_SOURCES["toy"].options if s.name == "classes")
    text = describe_sources()
    assert all(f"{source}:" in text for source in DATA_SOURCES)
    assert "count: How many images of each shape (default 100; 1..100000)" in text
