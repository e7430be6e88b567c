"""One run per backend: train tiny -> evaluate -> export ONNX (verified against onnxruntime by the
exporter) -> the ONNX model agrees with the Keras model here too."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from studio.core import backends

ROOT = Path(__file__).resolve().parents[2]


def studio(tmp_path, backend, *args):
    env = {**os.environ, "KERAS_BACKEND": backend, "STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "studio", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=500)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.mark.slow
@pytest.mark.parametrize("backend", [pytest.param(name, marks=pytest.mark.skipif(
    not backends.installed(name), reason=f"{name} is not installed")) for name in backends.BACKENDS])
def test_train_evaluate_export_onnx_per_backend(tmp_path, backend):
    import onnxruntime

    run = tmp_path / "run"
    studio(tmp_path, backend, "train", "mlp_xor", "--data", "toy", "--epochs", "2", "--backend", backend,
           "--run-dir", run)
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["backend"] == backend and info["device"]["backend"] == backend
    assert "test split" in studio(tmp_path, backend, "evaluate", run).stdout
    onnx = tmp_path / "model.onnx"
    studio(tmp_path, backend, "export", run, "--format", "onnx", "-o", onnx)
    meta = json.loads(Path(str(onnx) + ".meta.json").read_text())
    assert meta["verification"]["max_abs_diff"] <= 1e-4, meta

    import keras

    model = keras.saving.load_model(run / "model.keras", safe_mode=True)
    x = np.random.default_rng(0).normal(size=(16, *model.inputs[0].shape[1:])).astype("float32")
    session = onnxruntime.InferenceSession(str(onnx))
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    np.testing.assert_allclose(got, model.predict(x, verbose=0), atol=1e-4)
