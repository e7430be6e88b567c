"""Device set-up lives in the backend adapters; a request that cannot be met raises a DeviceError
naming the settings that would work, and each front end words them (no CLI flag in core). A process
picks a Keras backend that is installed before Keras loads."""

import io
import json
import sys

import pytest

from studio.cli.train_cmds import Progress
from studio.core import backends
from studio.core.backends import torch as torch_adapter
from studio.core.backends.devices import DeviceError, DeviceRequest, check_request, parse_devices
from studio.core.training import read_events, read_run


def test_a_missing_gpu_is_a_structured_error_without_cli_flags():
    with pytest.raises(DeviceError) as raised:
        check_request(DeviceRequest("gpu"), [])
    assert str(raised.value) == "no GPU found" and raised.value.fixes == (("devices", "cpu"), ("devices", "auto"))
    with pytest.raises(DeviceError, match="2 GPUs requested but only 1 found") as raised:
        check_request(DeviceRequest("gpus", 2), [{"name": "gpu0"}])
    assert raised.value.fixes == (("devices", "1"),)


def test_several_devices_on_pytorch_name_the_backend_and_devices_settings():
    with pytest.raises(DeviceError) as raised:  # refused before PyTorch is imported
        torch_adapter.setup_devices(parse_devices("cpu:2"), False, None)
    assert "--" not in str(raised.value) and raised.value.fixes == (("backend", "jax"), ("devices", "gpu"))


def test_every_adapter_sets_up_devices_and_determinism():
    from studio.core import backends

    for name in backends.BACKENDS:
        module = backends.adapter(name)
        assert all(callable(getattr(module, verb)) for verb in ("setup_devices", "deterministic", "version"))


def test_a_run_asking_for_a_missing_gpu_fails_with_fixes_the_cli_words_as_flags(tmp_path):
    from studio.core.backends.devices import detect_gpus
    from studio.core.graph.templates import load_template
    from studio.core.project import default_project
    from studio.core.training import engine
    from studio.core.training.plan import plan_run, prepare_run_folder
    from studio.core.training.runs import RunFolder

    if detect_gpus():
        pytest.skip("this machine has a GPU")
    project = default_project()
    project.graph = load_template("small_cnn_28").graph
    project.dataset = {"source": "digits", "max_samples": 60, "seed": 0}
    project.training = {"epochs": 1, "batch_size": 8, "devices": "gpu"}
    prepare_run_folder(plan_run(project), tmp_path / "run")

    assert engine.train_run(RunFolder(tmp_path / "run")) == "failed"
    error = next(event for event in read_events(tmp_path / "run") if event["type"] == "error")
    assert error["kind"] == "config" and error["message"] == "no GPU found"
    assert error["fixes"] == [["devices", "cpu"], ["devices", "auto"]]
    assert read_run(tmp_path / "run")["error"]["fixes"] == error["fixes"]
    shown = io.StringIO()
    Progress(shown).show(error)
    assert shown.getvalue() == "error (config): no GPU found: use --devices cpu or --devices auto\n"


@pytest.fixture
def keras_not_loaded(monkeypatch, tmp_path):
    """A process about to import Keras, with no KERAS_BACKEND and its own (empty) Keras home."""
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    monkeypatch.setenv("KERAS_BACKEND", "")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return tmp_path


def test_activate_picks_an_installed_backend_when_keras_would_pick_a_missing_one(keras_not_loaded, monkeypatch):
    import os

    monkeypatch.setattr(backends, "installed", lambda name: name == "jax")
    assert backends.activate() == "jax" and os.environ["KERAS_BACKEND"] == "jax"


def test_activate_keeps_keras_own_choice_when_installed(keras_not_loaded, monkeypatch):
    import os

    monkeypatch.setattr(backends, "installed", lambda name: True)
    assert backends.activate() == "tensorflow" and os.environ["KERAS_BACKEND"] == ""
    (keras_not_loaded / "keras.json").write_text(json.dumps({"backend": "jax"}))
    assert backends.activate() == "jax"
    monkeypatch.setattr(backends, "installed", lambda name: False)
    with pytest.raises(ValueError, match="no Keras backend is installed"):
        backends.activate()
