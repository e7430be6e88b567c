"""One run per backend: train tiny -> evaluate -> export ONNX (verified against onnxruntime by the
exporter) -> the ONNX model agrees with the Keras model here too. The three commands run in one
process per backend, as each start imports the backend anew: this process for its own backend."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from process_helpers import run_commands

from studio.cli import main
from studio.core import backends

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param(name, marks=pytest.mark.skipif(
    not backends.installed(name), reason=f"{name} is not installed")) for name in backends.BACKENDS])
def test_train_evaluate_export_onnx_per_backend(tmp_path, backend, monkeypatch, capsys):
    import keras
    import onnxruntime

    run, onnx = tmp_path / "run", tmp_path / "model.onnx"
    commands = [["train", "mlp_xor", "--data", "toy", "--epochs", "2", "--backend", backend, "--run-dir", run],
                ["evaluate", run],
                ["export", run, "--format", "onnx", "-o", onnx]]
    if backend == keras.backend.backend():  # this process's: a fresh one would only import it again
        monkeypatch.setenv("STUDIO_CACHE_DIR", str(tmp_path / "cache"))
        outputs = []
        for args in commands:
            assert main(list(map(str, args))) == 0, args
            outputs.append(capsys.readouterr().out)
    else:
        env = {**os.environ, "KERAS_BACKEND": backend, "STUDIO_CACHE_DIR": str(tmp_path / "cache")}
        outputs = run_commands(commands, env, ROOT, timeout=500)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["backend"] == backend and info["device"]["backend"] == backend
    assert "test split" in outputs[1]
    meta = json.loads(Path(str(onnx) + ".meta.json").read_text())
    assert meta["verification"]["max_abs_diff"] <= 1e-4, meta

    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    x = np.random.default_rng(0).normal(size=(16, *model.inputs[0].shape[1:])).astype("float32")
    session = onnxruntime.InferenceSession(str(onnx))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-4)
