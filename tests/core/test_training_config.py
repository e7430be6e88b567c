"""Training settings: defaults, round trip, validation messages, form schema, device strings."""

import dataclasses

import pytest

from studio.core.training.config import OPTIMIZERS, SCHEDULES, TRAINING_FIELDS, TrainingConfig
from studio.core.backends.devices import DeviceRequest, parse_devices


def test_schema_matches_dataclass_and_defaults():
    names = [spec.name for spec in TRAINING_FIELDS]
    fields = [f.name for f in dataclasses.fields(TrainingConfig) if f.name != "unknown"]
    assert names == fields
    defaults = TrainingConfig().to_dict()
    for spec in TRAINING_FIELDS:
        assert defaults[spec.name] == spec.default, spec.name
        assert spec.help and spec.help[0].isupper()
        if spec.kind in ("choice", "multichoice"):
            assert spec.choices
    assert TrainingConfig().validate() == []


def test_round_trip_and_partial_dict():
    config = TrainingConfig.from_dict({"optimizer": "nesterov", "epochs": 3, "clipnorm": 1.5,
                                       "metrics": ["accuracy", "top_k"]})
    assert config.batch_size == 32 and config.optimizer == "nesterov"
    again = TrainingConfig.from_dict(config.to_dict())
    assert again == config
    assert config.replace(epochs=7).epochs == 7 and config.epochs == 3


@pytest.mark.parametrize("changes, expected", [
    ({"learning_rate": -0.1}, "learning_rate must be above 0"),
    ({"learning_rate": 0}, "learning_rate must be above 0"),
    ({"batch_size": 0}, "batch_size must be at least 1"),
    ({"batch_size": 2.5}, "batch_size must be a whole number"),
    ({"optimizer": "adamax"}, "unknown optimizer 'adamax'"),
    ({"schedule": "linear"}, "unknown schedule 'linear'"),
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"metrics": ["accuracy", "f1"]}, "unknown metrics 'f1'"),
    ({"epochs": True}, "epochs must be a whole number"),
    ({"clipnorm": 0.0}, "clipnorm must be above 0"),
    ({"early_stopping": "yes"}, "early_stopping must be true or false"),
    ({"learning_rate": float("nan")}, "learning_rate must be a finite number"),
    ({"devices": "tpu"}, "unknown devices 'tpu'"),
    ({"min_learning_rate": 0.5}, "min_learning_rate (0.5) is above learning_rate"),
    ({"learnin_rate": 0.1}, "unknown training setting 'learnin_rate'"),
])
def test_validate_reports_clear_messages(changes, expected):
    problems = TrainingConfig.from_dict(changes).validate()
    assert len(problems) == 1
    assert expected in problems[0]


def test_every_optimizer_and_schedule_is_valid():
    for optimizer in OPTIMIZERS:
        for schedule in SCHEDULES:
            assert TrainingConfig(optimizer=optimizer, schedule=schedule).validate() == []


def test_parse_devices():
    assert parse_devices("auto") == DeviceRequest("auto")
    assert parse_devices("CPU") == DeviceRequest("cpu")
    assert parse_devices("all") == DeviceRequest("gpus", 0)
    assert parse_devices("2") == DeviceRequest("gpus", 2)
    assert parse_devices("cpu:2") == DeviceRequest("cpu_split", 2)
    for bad in ("0", "gpu:x", "cpu:0", ""):
        with pytest.raises(ValueError, match="unknown devices"):
            parse_devices(bad)
