"""With the JAX backend, train, evaluate, featuremaps and sample run where TensorFlow cannot be
imported (a meta-path blocker in every process, the spawned training processes included). The
commands run one after another in one process, as each start imports JAX and Keras anew."""

import json
import os
from pathlib import Path

import pytest

from process_helpers import run_commands

from studio.core import backends
from studio.core.generative.graphs import vae
from studio.core.project import Project, save_project

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not backends.installed("jax"), reason="jax is not installed")]

BLOCKER = """
import sys
class _NoTensorFlow:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx", "tf_keras", "tensorboard"):
            raise ImportError(f"{name} is blocked for this test")
sys.meta_path.insert(0, _NoTensorFlow())
"""

TENSORFLOW_BLOCKED = """
import sys
try:
    import tensorflow
    sys.exit("the blocker is not active: TensorFlow was imported")
except ImportError:
    pass
"""


def studio(tmp_path, *commands):
    """Run the studio commands in one process with TensorFlow blocked; their standard outputs."""
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]), "KERAS_BACKEND": "jax",
           "STUDIO_CACHE_DIR": str(tmp_path / "cache")}
    return run_commands(commands, env, tmp_path, prelude=TENSORFLOW_BLOCKED)


def test_jax_runs_train_evaluate_featuremaps_and_sample_without_tensorflow(tmp_path):
    run, vae_run = tmp_path / "cnn", tmp_path / "vae"
    project = Project(name="tiny vae", dataset={"source": "digits", "image_size": 8, "max_samples": 60},
                      graph=vae(8, 1, latent_dim=2, width=8), training={"epochs": 1, "batch_size": 16},
                      generative={"kind": "vae", "grid_size": 16, "quality": False})
    save_project(project, tmp_path / "vae.dlstudio")
    outputs = studio(
        tmp_path,
        ["train", "small_cnn_28", "--data", "digits", "--epochs", "1", "--backend", "jax", "--run-dir", run],
        ["evaluate", run],
        ["featuremaps", run, "--layer", "conv1", "-o", tmp_path / "maps.png"],
        ["train", tmp_path / "vae.dlstudio", "--backend", "jax", "--run-dir", vae_run],
        ["sample", vae_run, "-n", "4", "-o", tmp_path / "grid.png"])

    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "completed" and info["backend"] == "jax" and "tensorflow" not in info["versions"]
    assert any(json.loads(line)["type"] == "grad_norms" for line in (run / "events.jsonl").open())
    assert "accuracy" in outputs[1]
    assert (tmp_path / "maps.png").stat().st_size > 0
    assert json.loads((vae_run / "run.json").read_text())["status"] == "completed"
    assert (tmp_path / "grid.png").stat().st_size > 0
